"""The billing API (checkout, portal) and Stripe's webhook endpoint, over HTTP."""

from __future__ import annotations

import time

import pytest
from django.test import Client
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from business.models import Account, StripeEvent, Subscription
from business.selectors import plan_for_user
from business.services import account_get_or_create
from tests.factories import user_create
from tests.helpers import signed_in
from tests.stripe_standin import (
    PRICE_YEARLY,
    SECRET_KEY,
    WEBHOOK_SECRET,
    stripe_signed,
    stripe_standin_fixture,  # noqa: F401 (the stripe_standin fixture)
    subscription_event,
)

pytestmark = pytest.mark.django_db

CHECKOUT, PORTAL, WEBHOOK = "/api/v1/billing/checkout/", "/api/v1/billing/portal/", "/billing/stripe/webhook/"


def _customer(user, customer: str = "cus_1Known", **fields) -> Subscription:
    return Subscription.objects.create(account=account_get_or_create(user=user), stripe_customer_id=customer, **fields)


# ---------------------------------------------------------------- checkout


def test_checkout_answers_the_stripe_page_and_comes_back_to_the_account(stripe_standin):
    user = user_create()

    response = signed_in(user).post(CHECKOUT, {"interval": "year"}, format="json")

    assert response.status_code == 200
    assert set(response.json()) == {"url"}
    assert response.json()["url"].startswith("https://checkout.stripe.com/c/pay/cs_test_")
    [session] = stripe_standin.calls("POST", "/v1/checkout/sessions")
    assert session.params["success_url"] == "http://testserver/account/?checkout=done"
    assert session.params["cancel_url"] == "http://testserver/pricing/"
    assert session.params["line_items[0][price]"] == PRICE_YEARLY
    assert session.params["client_reference_id"] == str(user.pk)


@pytest.mark.parametrize(
    "body", [{"interval": "week"}, {"interval": 1}, {"interval": ["month"]}, {"interval": None}, {}]
)
def test_checkout_takes_month_or_year_only(body, stripe_standin):
    user = user_create()

    response = signed_in(user).post(CHECKOUT, body, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_input"
    assert set(response.json()["extra"]["fields"]) == {"interval"}
    assert stripe_standin.requests == []
    assert not Subscription.objects.exists()


def test_checkout_takes_json_only(stripe_standin):
    response = signed_in(user_create()).post(CHECKOUT, {"interval": "month"}, format="multipart")

    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"
    assert stripe_standin.requests == []


def test_checkout_needs_a_signed_in_user(stripe_standin):
    response = APIClient().post(CHECKOUT, {"interval": "month"}, format="json")

    assert response.status_code == 401
    assert stripe_standin.requests == []


def test_checkout_for_a_user_already_on_pro_is_refused(stripe_standin):
    user = user_create()
    _customer(user, stripe_subscription_id="sub_1", status="active")

    response = signed_in(user).post(CHECKOUT, {"interval": "month"}, format="json")

    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid_input",
        "message": "You already have Pro; manage it from your account.",
        "extra": {"manage_url": "/account/"},
    }
    assert stripe_standin.requests == []


def test_with_billing_off_checkout_and_portal_are_503_and_reach_no_stripe(settings, stripe_standin):
    settings.STRIPE_SECRET_KEY = ""
    user = user_create()
    _customer(user)

    checkout = signed_in(user).post(CHECKOUT, {"interval": "month"}, format="json")
    portal = signed_in(user).post(PORTAL)

    assert (checkout.status_code, portal.status_code) == (503, 503)
    assert checkout.json()["code"] == portal.json()["code"] == "billing_disabled"
    assert stripe_standin.requests == []


def test_when_stripe_fails_checkout_is_502_and_no_row_changed(stripe_standin):
    user = user_create()
    account_get_or_create(user=user)
    stripe_standin.fail(status=500)

    response = signed_in(user).post(CHECKOUT, {"interval": "month"}, format="json")

    assert response.status_code == 502
    assert response.json()["code"] == "billing_error"
    assert SECRET_KEY not in response.content.decode()
    assert not Subscription.objects.exists()
    assert Account.objects.count() == 1


# ---------------------------------------------------------------- portal


def test_the_portal_answers_the_stripe_page_and_comes_back_to_the_account(stripe_standin):
    user = user_create()
    _customer(user)

    response = signed_in(user).post(PORTAL)

    assert response.status_code == 200
    assert response.json()["url"].startswith("https://billing.stripe.com/p/session/")
    [call] = stripe_standin.calls("POST", "/v1/billing_portal/sessions")
    assert call.params == {"customer": "cus_1Known", "return_url": "http://testserver/account/"}


def test_the_portal_without_a_customer_is_409(stripe_standin):
    response = signed_in(user_create()).post(PORTAL)

    assert response.status_code == 409
    assert response.json()["code"] == "no_subscription"
    assert stripe_standin.requests == []


def test_when_stripe_fails_the_portal_is_502(stripe_standin):
    user = user_create()
    _customer(user)
    stripe_standin.fail(status=402)

    response = signed_in(user).post(PORTAL)

    assert (response.status_code, response.json()["code"]) == (502, "billing_error")


# ---------------------------------------------------------------- webhook


def _post(body: bytes, header: str | None) -> object:
    headers = {"HTTP_STRIPE_SIGNATURE": header} if header is not None else {}
    # A client that checks CSRF as a browser's session would: Stripe has no token.
    return Client(enforce_csrf_checks=True).post(WEBHOOK, data=body, content_type="application/json", **headers)


def _activation(user) -> dict:
    return subscription_event(
        "updated", created=int(time.time()) - 60, id="sub_1Hook", customer="cus_1Hook", user_id=user.pk, status="active"
    )


def test_a_signed_event_is_handled_and_answered_with_its_result(stripe_standin):
    user = user_create()
    body, header = stripe_signed(_activation(user))

    first = _post(body, header)
    again = _post(body, header)

    assert (first.status_code, first.json()) == (200, {"result": "applied"})
    assert (again.status_code, again.json()) == (200, {"result": "duplicate"})
    assert plan_for_user(user=user).slug == "pro"
    assert StripeEvent.objects.count() == 1
    assert stripe_standin.requests == []


@pytest.mark.parametrize(
    "signing",
    [
        pytest.param(lambda p: stripe_signed(p, "whsec_someone_else"), id="wrong-secret"),
        pytest.param(lambda p: (stripe_signed(p)[0], None), id="missing"),
        pytest.param(lambda p: stripe_signed(p, timestamp=int(time.time()) - 600), id="old-timestamp"),
    ],
)
def test_a_bad_signature_is_400_in_the_house_shape_and_changes_nothing(signing, stripe_standin):
    user = user_create()
    body, header = signing(_activation(user))

    response = _post(body, header)

    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid_signature",
        "message": "The Stripe signature of this request is missing or not valid.",
        "extra": {},
    }
    assert not StripeEvent.objects.exists()
    assert not Subscription.objects.exists()
    assert plan_for_user(user=user).slug == "free"


def test_a_body_that_is_not_utf8_is_a_bad_signature(stripe_standin):
    response = _post(b"\xff\xfe not json", "t=1,v1=00")

    assert (response.status_code, response.json()["code"]) == (400, "invalid_signature")
    assert not StripeEvent.objects.exists()


def test_without_a_webhook_secret_the_endpoint_is_503(settings, stripe_standin):
    settings.STRIPE_WEBHOOK_SECRET = ""
    body, header = stripe_signed(_activation(user_create()), WEBHOOK_SECRET)

    response = _post(body, header)

    assert (response.status_code, response.json()["code"]) == (503, "billing_disabled")
    assert not StripeEvent.objects.exists()


def test_the_webhook_takes_post_only(stripe_standin):
    assert Client().get(WEBHOOK).status_code == 405


# ---------------------------------------------------------------- schema


@pytest.mark.parametrize(
    ("path", "operation_id", "statuses"),
    [
        (CHECKOUT, "billing_checkout", {"400", "401", "502", "503"}),
        (PORTAL, "billing_portal", {"401", "409", "502", "503"}),
    ],
)
def test_the_schema_documents_the_billing_operations_and_their_errors(path, operation_id, statuses):
    schema = SchemaGenerator().get_schema(request=None, public=True)
    operation = schema["paths"][path]["post"]

    assert operation["operationId"] == operation_id
    assert statuses <= set(operation["responses"])
    url = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    assert set(schema["components"]["schemas"][url]["properties"]) == {"url"}
