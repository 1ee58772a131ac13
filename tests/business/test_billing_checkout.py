"""Checkout, the portal and cancelling, through the SDK's own client against the Stripe stand-in."""

from __future__ import annotations

import pytest

from business.billing import checkout_session_create, portal_session_create, subscription_cancel_for_account
from business.exceptions import BillingDisabled, BillingError, NoSubscription
from business.models import Account, Subscription
from business.services import account_get_or_create
from domain.exceptions import ErrorCode, IsoMixError
from tests.factories import pro_user_create, user_create
from tests.helpers import free_port
from tests.stripe_standin import (
    PRICE_MONTHLY,
    PRICE_YEARLY,
    SECRET_KEY,
    stripe_standin_fixture,  # noqa: F401 (the stripe_standin fixture)
)

pytestmark = pytest.mark.django_db

SUCCESS, CANCEL = "http://testserver/account/?checkout=done", "http://testserver/pricing/"


def _checkout(user, interval: str = "month") -> str:
    return checkout_session_create(user=user, interval=interval, success_url=SUCCESS, cancel_url=CANCEL)


def _subscribed(user, *, status: str = "active", subscription: str = "sub_1Live") -> Subscription:
    return Subscription.objects.create(
        account=account_get_or_create(user=user), stripe_customer_id="cus_1Known",
        stripe_subscription_id=subscription, status=status,
    )  # fmt: skip


def test_a_checkout_makes_the_customer_once_and_asks_for_the_monthly_price(stripe_standin):
    user = user_create()
    user.email = "ana@example.com"
    user.save()

    url = _checkout(user)

    [customer] = stripe_standin.calls("POST", "/v1/customers")
    [session] = stripe_standin.calls("POST", "/v1/checkout/sessions")
    stored = Subscription.objects.get(account__user=user)
    assert url.startswith("https://checkout.stripe.com/c/pay/cs_test_")
    assert customer.params == {"email": "ana@example.com", "metadata[user_id]": str(user.pk)}
    assert customer.idempotency_key.startswith("isomix-customer-")
    assert session.params == {
        "mode": "subscription",
        "customer": stored.stripe_customer_id,
        "client_reference_id": str(user.pk),
        "line_items[0][price]": PRICE_MONTHLY,
        "line_items[0][quantity]": "1",
        "metadata[user_id]": str(user.pk),
        "subscription_data[metadata][user_id]": str(user.pk),
        "success_url": SUCCESS,
        "cancel_url": CANCEL,
        "locale": "auto",
    }
    assert {r.authorization for r in stripe_standin.requests} == {f"Bearer {SECRET_KEY}"}
    assert stored.stripe_customer_id.startswith("cus_")
    assert (stored.status, stored.stripe_subscription_id) == ("", "")


def test_a_second_checkout_reuses_the_customer(stripe_standin):
    user = user_create()
    _checkout(user)
    customer = Subscription.objects.get(account__user=user).stripe_customer_id

    _checkout(user, "year")

    assert len(stripe_standin.calls("POST", "/v1/customers")) == 1
    second = stripe_standin.calls("POST", "/v1/checkout/sessions")[1]
    assert (second.params["customer"], second.params["line_items[0][price]"]) == (customer, PRICE_YEARLY)
    assert Subscription.objects.count() == 1


def test_a_customer_a_webhook_stored_is_reused(stripe_standin):
    user = user_create()
    Subscription.objects.create(account=account_get_or_create(user=user), stripe_customer_id="cus_1FromWebhook")

    _checkout(user)

    assert stripe_standin.calls("POST", "/v1/customers") == []
    assert stripe_standin.calls("POST", "/v1/checkout/sessions")[0].params["customer"] == "cus_1FromWebhook"


def test_a_user_on_pro_by_subscription_is_sent_to_manage_it(stripe_standin):
    user = user_create()
    _subscribed(user)

    with pytest.raises(IsoMixError) as refused:
        _checkout(user)

    assert (refused.value.code, refused.value.status_code) == (ErrorCode.INVALID_INPUT, 400)
    assert refused.value.extra == {"manage_url": "/account/"}
    assert stripe_standin.requests == []


def test_a_user_on_pro_by_an_operators_grant_may_subscribe(stripe_standin):
    user = pro_user_create()

    assert _checkout(user).startswith("https://checkout.stripe.com/")
    assert len(stripe_standin.calls("POST", "/v1/checkout/sessions")) == 1


def test_a_user_whose_subscription_ended_may_subscribe_again(stripe_standin):
    user = user_create()
    _subscribed(user, status="canceled")

    assert _checkout(user).startswith("https://checkout.stripe.com/")
    assert stripe_standin.calls("POST", "/v1/checkout/sessions")[0].params["customer"] == "cus_1Known"


@pytest.mark.parametrize("interval", ["week", "", "Month"])
def test_an_interval_other_than_month_or_year_is_refused(interval, stripe_standin):
    user = user_create()

    with pytest.raises(IsoMixError) as refused:
        _checkout(user, interval)

    assert refused.value.code == ErrorCode.INVALID_INPUT
    assert refused.value.extra == {"choices": ("month", "year")}
    assert stripe_standin.requests == []
    assert not Subscription.objects.exists()


@pytest.mark.parametrize(
    "missing", ["STRIPE_SECRET_KEY", "ISOMIX_STRIPE_PRICE_PRO_MONTHLY", "ISOMIX_STRIPE_PRICE_PRO_YEARLY"]
)
def test_without_keys_and_prices_billing_is_off(missing, settings, stripe_standin):
    setattr(settings, missing, "")
    user = user_create()

    with pytest.raises(BillingDisabled) as off:
        _checkout(user)
    with pytest.raises(BillingDisabled):
        portal_session_create(user=user, return_url=SUCCESS)

    assert (off.value.code, off.value.status_code) == (ErrorCode.BILLING_DISABLED, 503)
    assert stripe_standin.requests == []
    assert not Subscription.objects.exists()


@pytest.mark.parametrize("status", [500, 402])
def test_when_stripe_fails_nothing_is_stored(status, stripe_standin):
    user = user_create()
    stripe_standin.fail(status=status)

    with pytest.raises(BillingError) as failed:
        _checkout(user)

    assert (failed.value.code, failed.value.status_code) == (ErrorCode.BILLING_ERROR, 502)
    assert SECRET_KEY not in failed.value.message
    assert "declined" not in failed.value.message  # the SDK's text is not shown
    assert len(stripe_standin.calls("POST", "/v1/customers")) == 1  # not retried: Stripe said not to
    assert not Subscription.objects.exists()
    assert not Account.objects.exists()


def test_when_stripe_cannot_be_reached_the_message_says_so(settings, stripe_standin):
    settings.ISOMIX_STRIPE_API_BASE = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    user = user_create()

    with pytest.raises(BillingError) as failed:
        _checkout(user)

    assert "could not be reached" in failed.value.message
    assert not Subscription.objects.exists()


def test_a_failure_stripe_says_to_retry_is_retried_with_the_same_idempotency_key(stripe_standin):
    user = user_create()
    stripe_standin.fail(status=500, times=1, retry=True)

    _checkout(user)

    first, second = stripe_standin.calls("POST", "/v1/customers")
    assert first.idempotency_key == second.idempotency_key
    assert Subscription.objects.get(account__user=user).stripe_customer_id.startswith("cus_")


def test_a_customer_made_before_the_session_failed_is_kept_and_reused(stripe_standin):
    user = user_create()
    stripe_standin.fail(status=500, times=1, path="/v1/checkout/sessions")

    with pytest.raises(BillingError):
        _checkout(user)
    customer = Subscription.objects.get(account__user=user).stripe_customer_id
    _checkout(user)

    assert len(stripe_standin.calls("POST", "/v1/customers")) == 1
    assert [c.params["customer"] for c in stripe_standin.calls("POST", "/v1/checkout/sessions")] == [customer] * 2


# ---------------------------------------------------------------- portal


def test_the_portal_opens_for_the_customer_and_returns_to_the_account(stripe_standin):
    user = user_create()
    _subscribed(user)

    url = portal_session_create(user=user, return_url=SUCCESS)

    [call] = stripe_standin.calls("POST", "/v1/billing_portal/sessions")
    assert url.startswith("https://billing.stripe.com/p/session/")
    assert call.params == {"customer": "cus_1Known", "return_url": SUCCESS}


def test_the_portal_needs_a_customer(stripe_standin):
    user = user_create()

    with pytest.raises(NoSubscription) as refused:
        portal_session_create(user=user, return_url=SUCCESS)

    assert (refused.value.code, refused.value.status_code) == (ErrorCode.NO_SUBSCRIPTION, 409)
    assert stripe_standin.requests == []


# ---------------------------------------------------------------- cancel (account deletion)


def test_cancelling_sends_the_subscription_a_delete(stripe_standin):
    user = user_create()
    _subscribed(user, subscription="sub_1ToCancel")

    subscription_cancel_for_account(account=Account.objects.get(user=user))

    assert [(r.method, r.path) for r in stripe_standin.requests] == [("DELETE", "/v1/subscriptions/sub_1ToCancel")]
    # The state here follows from the webhook Stripe sends next.
    assert Subscription.objects.get().status == "active"


@pytest.mark.parametrize("status", ["canceled", "incomplete_expired"])
def test_a_subscription_that_ended_is_not_cancelled_again(status, stripe_standin):
    user = user_create()
    _subscribed(user, status=status)

    subscription_cancel_for_account(account=Account.objects.get(user=user))

    assert stripe_standin.requests == []


def test_an_account_with_no_subscription_or_billing_off_sends_nothing(settings, stripe_standin):
    never = account_get_or_create(user=user_create())
    customer_only = account_get_or_create(user=user_create())
    Subscription.objects.create(account=customer_only, stripe_customer_id="cus_1Only")
    subscribed = user_create()
    _subscribed(subscribed)

    subscription_cancel_for_account(account=never)
    subscription_cancel_for_account(account=customer_only)
    settings.STRIPE_SECRET_KEY = ""
    subscription_cancel_for_account(account=Account.objects.get(user=subscribed))

    assert stripe_standin.requests == []


def test_a_subscription_stripe_no_longer_knows_is_already_cancelled(stripe_standin):
    user = user_create()
    _subscribed(user, subscription="sub_1Gone")
    stripe_standin.forget("sub_1Gone")

    subscription_cancel_for_account(account=Account.objects.get(user=user))

    assert len(stripe_standin.calls("DELETE", "/v1/subscriptions/sub_1Gone")) == 1


def test_a_failed_cancel_raises_and_changes_nothing(stripe_standin):
    user = user_create()
    _subscribed(user)
    stripe_standin.fail(status=500)

    with pytest.raises(BillingError):
        subscription_cancel_for_account(account=Account.objects.get(user=user))

    assert Subscription.objects.get().status == "active"
