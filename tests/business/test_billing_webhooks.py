"""Stripe webhook events: verified, handled once, in any order, from the payloads alone.

Every test runs with the Stripe stand-in on (billing on) and ends, where it says so, by checking
that no request reached it: the state comes from the events, never from a call back to Stripe.
"""

from __future__ import annotations

import itertools
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from business.billing import webhook_handle
from business.exceptions import BillingDisabled
from business.models import Account, StripeEvent, Subscription
from business.selectors import plan_for_user
from business.services import accounts_plan_sweep
from domain.exceptions import ErrorCode, IsoMixError
from domain.models import Project
from tests.factories import project_create_ready, user_create
from tests.stripe_standin import (
    OLD_API_VERSION,
    WEBHOOK_SECRET,
    checkout_completed,
    event,
    invoice_event,
    stripe_signed,
    stripe_standin_fixture,  # noqa: F401 (the stripe_standin fixture)
    subscription_event,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("stripe_standin")]

#: The events are an hour old (their signatures are fresh: Stripe signs each delivery).
T0 = int(time.time()) - 3600
DAY = 86400
SUB, CUS = "sub_1SignUp", "cus_1SignUp"


def _at(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


def _deliver(payload: dict) -> str:
    body, header = stripe_signed(payload)
    return webhook_handle(payload=body, signature=header)


def _row(user) -> Subscription:
    return Subscription.objects.get(account__user=user)


def _state(user) -> dict:
    return Subscription.objects.filter(account__user=user).values().get()


def _sub(user, kind: str, *, created: int, status: str, sub: str = SUB, **fields) -> dict:
    fields.setdefault("period_start", T0)
    fields.setdefault("period_end", T0 + 31 * DAY)
    return subscription_event(kind, created=created, id=sub, customer=CUS, user_id=user.pk, status=status, **fields)


def _invoice(user, kind: str, *, created: int, sub: str = SUB, **fields) -> dict:
    return invoice_event(kind, created=created, subscription=sub, customer=CUS, user_id=user.pk, **fields)


def _signup(user, *, t: int = T0, step: int = 1, api_version: str | None = None) -> list[dict]:
    """A sign-up as Stripe sends it: the subscription is made incomplete, its first invoice is
    paid, it turns active, the Checkout Session completes (``step`` seconds apart; 0: one second)."""
    version = {"api_version": api_version} if api_version else {}
    return [
        checkout_completed(user_id=user.pk, customer=CUS, subscription=SUB, created=t + 3 * step),
        _sub(user, "created", created=t, status="incomplete", **version),
        _invoice(user, "paid", created=t + 2 * step, billing_reason="subscription_create", **version),
        _sub(user, "updated", created=t + 2 * step, status="active", **version),
    ]


def _pro_by_subscription(user) -> None:
    for payload in _signup(user):
        _deliver(payload)
    assert plan_for_user(user=user).slug == "pro"


# ---------------------------------------------------------------- sign-up, in every order


@pytest.mark.parametrize(
    ("step", "api_version"),
    [(1, None), (0, None), (1, OLD_API_VERSION)],
    ids=["seconds-apart", "one-second", "old-api"],
)
@pytest.mark.parametrize("order", list(itertools.permutations(range(4))), ids=lambda o: "".join(map(str, o)))
def test_every_order_of_a_sign_up_ends_pro_and_active(order, step, api_version, stripe_standin):
    user = user_create()
    events = _signup(user, step=step, api_version=api_version)

    results = [_deliver(events[i]) for i in order]

    state = _state(user)
    assert (state["status"], state["interval"]) == ("active", "month")
    assert (state["stripe_customer_id"], state["stripe_subscription_id"]) == (CUS, SUB)
    assert (state["current_period_start"], state["current_period_end"]) == (_at(T0), _at(T0 + 31 * DAY))
    assert state["cancel_at_period_end"] is False
    assert state["grace_until"] is None
    assert plan_for_user(user=user).slug == "pro"
    assert Account.objects.get(user=user).applied_plan.slug == "pro"
    assert StripeEvent.objects.count() == 4
    assert set(results) <= {"applied", "stale"}
    assert stripe_standin.requests == []


def test_a_yearly_sign_up_is_yearly():
    user = user_create()

    _deliver(_sub(user, "updated", created=T0, status="active", interval="year", period_end=T0 + 365 * DAY))

    assert (_row(user).interval, _row(user).current_period_end) == ("year", _at(T0 + 365 * DAY))


# ---------------------------------------------------------------- cancellation, in every order


def _cancellation(user, *, t: int = T0 + 100) -> list[dict]:
    """The user cancels at period end, the period ends (deleted), and an older invoice.paid
    arrives late."""
    return [
        _sub(user, "updated", created=t + 10, status="active", cancel_at_period_end=True),
        _sub(user, "deleted", created=t + 20, status="canceled", cancel_at_period_end=True, canceled_at=t + 20),
        _invoice(user, "paid", created=t + 15),
    ]


@pytest.mark.parametrize("order", list(itertools.permutations(range(3))), ids=lambda o: "".join(map(str, o)))
def test_every_order_of_a_cancellation_ends_free_and_canceled(order, stripe_standin):
    user = user_create()
    _pro_by_subscription(user)
    events = _cancellation(user)

    for i in order:
        _deliver(events[i])

    assert _row(user).status == "canceled"
    assert _row(user).stripe_subscription_id == SUB
    assert plan_for_user(user=user).slug == "free"
    account = Account.objects.get(user=user)
    assert account.applied_plan.slug == "free"
    assert account.downgraded_at is not None
    assert stripe_standin.requests == []


def test_a_canceled_subscription_never_becomes_active_again():
    user = user_create()
    _pro_by_subscription(user)
    _deliver(_sub(user, "deleted", created=T0 + 20, status="canceled"))
    before = _state(user)

    result = _deliver(_invoice(user, "paid", created=T0 + 30))
    result_updated = _deliver(_sub(user, "updated", created=T0 + 40, status="active"))

    assert (result, result_updated) == ("stale", "stale")
    assert _state(user) == before
    assert plan_for_user(user=user).slug == "free"


# ---------------------------------------------------------------- an older event never wins


def test_an_older_update_never_overwrites_a_newer_one():
    user = user_create()
    _pro_by_subscription(user)
    _deliver(_sub(user, "updated", created=T0 + 50, status="past_due", cancel_at_period_end=True))
    before = _state(user)

    result = _deliver(_sub(user, "updated", created=T0 + 40, status="active", cancel_at_period_end=False))

    assert result == "stale"
    assert _state(user) == before
    assert (before["status"], before["cancel_at_period_end"]) == ("past_due", True)


def test_in_one_second_the_later_stage_of_the_lifecycle_wins():
    user = user_create()
    _pro_by_subscription(user)

    # A renewal's payment fails in the very second an "active" update is sent.
    _deliver(_invoice(user, "payment_failed", created=T0 + 50))
    result = _deliver(_sub(user, "updated", created=T0 + 50, status="active"))

    assert result == "stale"
    assert _row(user).status == "past_due"


def test_a_later_period_is_taken_from_an_update_older_than_the_status():
    # A renewal: the invoice is paid (a second later) before the update with the new period arrives.
    user = user_create()
    _pro_by_subscription(user)
    renewal = T0 + 31 * DAY
    _deliver(_invoice(user, "paid", created=renewal + 1))

    _deliver(
        _sub(user, "updated", created=renewal, status="active", period_start=renewal, period_end=renewal + 31 * DAY)
    )

    assert (_row(user).current_period_start, _row(user).current_period_end) == (
        _at(renewal),
        _at(renewal + 31 * DAY),
    )
    assert _row(user).state_at == renewal + 1


def test_a_new_subscription_after_a_cancellation_takes_over_and_the_old_one_stays_gone():
    user = user_create()
    _pro_by_subscription(user)
    _deliver(_sub(user, "deleted", created=T0 + 20, status="canceled"))
    new = "sub_2Again"

    _deliver(checkout_completed(user_id=user.pk, customer=CUS, subscription=new, created=T0 + 503))
    _deliver(_sub(user, "updated", created=T0 + 500, status="active", sub=new, period_start=T0 + 500))
    late = _deliver(_sub(user, "deleted", created=T0 + 600, status="canceled"))  # the old one, again

    assert late == "stale"
    assert (_row(user).stripe_subscription_id, _row(user).status) == (new, "active")
    assert _row(user).current_period_start == _at(T0 + 500)
    assert plan_for_user(user=user).slug == "pro"


# ---------------------------------------------------------------- handled once


def test_a_duplicate_event_id_changes_nothing_and_is_stored_once():
    user = user_create()
    _pro_by_subscription(user)
    cancel = _sub(user, "updated", created=T0 + 10, status="active", cancel_at_period_end=True)
    assert _deliver(cancel) == "applied"
    # Given a change an operator makes between the two deliveries
    Subscription.objects.filter(account__user=user).update(cancel_at_period_end=False)
    before = _state(user)

    result = _deliver(cancel)

    assert result == "duplicate"
    assert _state(user) == before  # not applied again
    assert StripeEvent.objects.filter(id=cancel["id"]).count() == 1
    assert StripeEvent.objects.get(id=cancel["id"]).result == "applied"


def test_the_event_is_stored_with_its_account_payload_and_result():
    user = user_create()
    payload = _sub(user, "updated", created=T0, status="active")

    _deliver(payload)

    row = StripeEvent.objects.get()
    assert (row.id, row.type, row.created, row.result) == (
        payload["id"],
        "customer.subscription.updated",
        T0,
        "applied",
    )
    assert row.account == Account.objects.get(user=user)
    assert row.payload == payload


def test_an_event_type_the_studio_does_not_act_on_is_stored_as_ignored():
    payload = event("customer.created", {"id": "cus_9", "object": "customer", "metadata": {}}, created=T0)

    result = _deliver(payload)

    assert result == "ignored"
    assert StripeEvent.objects.get().result == "ignored"
    assert not Subscription.objects.exists()


def test_an_invoice_of_no_subscription_is_ignored():
    payload = event("invoice.paid", {"id": "in_1", "object": "invoice", "customer": CUS, "parent": None}, created=T0)

    assert _deliver(payload) == "ignored"
    assert not Subscription.objects.exists()


# ---------------------------------------------------------------- which account


def test_an_event_of_an_unknown_customer_is_stored_and_changes_nothing():
    payload = subscription_event("updated", created=T0, id="sub_9", customer="cus_9", user_id="", status="active")

    result = _deliver(payload)

    assert result == "unknown customer"
    assert StripeEvent.objects.get().account is None
    assert not Subscription.objects.exists()
    assert not Account.objects.exists()


def test_a_user_id_of_no_user_falls_back_to_the_customer():
    payload = subscription_event("updated", created=T0, id="sub_9", customer="cus_9", user_id="999999", status="active")

    assert _deliver(payload) == "unknown customer"


def test_an_event_without_the_user_is_mapped_by_the_stored_customer():
    # Given a checkout that stored the user's customer, and an invoice that does not name the user
    user = user_create()
    _deliver(checkout_completed(user_id=user.pk, customer=CUS, subscription=SUB, created=T0))

    result = _deliver(invoice_event("paid", created=T0 + 1, subscription=SUB, customer=CUS))

    assert result == "applied"
    assert (_row(user).status, plan_for_user(user=user).slug) == ("active", "pro")


def test_an_event_without_user_nor_known_customer_is_mapped_by_the_subscription():
    user = user_create()
    _deliver(checkout_completed(user_id=user.pk, customer=CUS, subscription=SUB, created=T0))

    result = _deliver(invoice_event("paid", created=T0 + 1, subscription=SUB, customer="cus_other"))

    assert result == "applied"
    assert _row(user).stripe_customer_id == CUS


# ---------------------------------------------------------------- failed payments and grace


def test_a_failed_payment_is_past_due_and_still_pro_inside_the_grace_period(settings):
    settings.ISOMIX_BILLING_GRACE_DAYS = 7
    user = user_create()
    _pro_by_subscription(user)
    failed = int(time.time()) - 60

    _deliver(_invoice(user, "payment_failed", created=failed))

    row = _row(user)
    assert row.status == "past_due"
    assert (row.payment_failed_at, row.grace_until) == (_at(failed), _at(failed) + timedelta(days=7))
    assert plan_for_user(user=user).slug == "pro"
    assert accounts_plan_sweep(now=row.grace_until - timedelta(seconds=1)) == 0
    assert Account.objects.get(user=user).applied_plan.slug == "pro"


def test_after_the_grace_period_the_sweep_downgrades_to_free():
    user = user_create()
    _pro_by_subscription(user)
    _deliver(_invoice(user, "payment_failed", created=int(time.time()) - 60))
    grace_until = _row(user).grace_until

    changed = accounts_plan_sweep(now=grace_until + timedelta(seconds=1))

    assert changed == 1
    account = Account.objects.get(user=user)
    assert (account.applied_plan.slug, account.downgraded_at) == ("free", grace_until + timedelta(seconds=1))
    assert plan_for_user(user=user, now=grace_until + timedelta(seconds=1)).slug == "free"


def test_the_grace_period_is_set_once_per_failing_streak():
    user = user_create()
    _pro_by_subscription(user)
    first = int(time.time()) - 600
    _deliver(_invoice(user, "payment_failed", created=first))

    _deliver(_invoice(user, "payment_failed", created=first + 300))  # Stripe's retry fails too
    _deliver(_sub(user, "updated", created=first + 301, status="past_due"))

    assert _row(user).grace_until == _at(first) + timedelta(days=7)


def test_an_earlier_failure_of_the_streak_arriving_late_moves_the_grace_back():
    user = user_create()
    _pro_by_subscription(user)
    first = int(time.time()) - 600
    _deliver(_invoice(user, "payment_failed", created=first + 300))

    _deliver(_invoice(user, "payment_failed", created=first))

    assert (_row(user).payment_failed_at, _row(user).grace_until) == (_at(first), _at(first) + timedelta(days=7))


def test_a_payment_before_the_grace_ends_makes_it_active_again():
    user = user_create()
    _pro_by_subscription(user)
    failed = int(time.time()) - 600
    _deliver(_invoice(user, "payment_failed", created=failed))

    _deliver(_invoice(user, "paid", created=failed + 300))

    row = _row(user)
    assert (row.status, row.grace_until, row.payment_failed_at) == ("active", None, None)
    assert accounts_plan_sweep(now=timezone.now() + timedelta(days=8)) == 0
    assert plan_for_user(user=user, now=timezone.now() + timedelta(days=8)).slug == "pro"


def test_a_first_invoice_that_fails_gives_no_grace_period():
    # 3-D Secure not completed: the subscription was never paid, so it never was Pro.
    user = user_create()
    _deliver(_sub(user, "created", created=T0, status="incomplete"))

    _deliver(_invoice(user, "payment_failed", created=T0 + 1, billing_reason="subscription_create"))

    assert (_row(user).status, _row(user).grace_until) == ("incomplete", None)
    assert plan_for_user(user=user).slug == "free"


# ---------------------------------------------------------------- the downgrade keeps the songs a while


def test_a_downgrade_keeps_the_songs_until_the_free_retention_runs_out():
    user = user_create()
    _pro_by_subscription(user)
    project = project_create_ready(owner=user, duration_s=0.5)
    Project.objects.filter(pk=project.pk).update(expires_at=timezone.now() + timedelta(days=90))

    before = timezone.now()
    _deliver(_sub(user, "deleted", created=T0 + 20, status="canceled"))
    after = timezone.now()

    project.refresh_from_db()
    account = Account.objects.get(user=user)
    assert before + timedelta(days=7) <= project.expires_at <= after + timedelta(days=7)
    assert before <= account.downgraded_at <= after
    assert account.applied_plan.slug == "free"


def test_an_upgrade_gives_the_songs_the_pro_retention():
    user = user_create()
    project = project_create_ready(owner=user, duration_s=0.5)
    Project.objects.filter(id=project.id).update(expires_at=project.created_at + timedelta(days=7))  # Free's

    _pro_by_subscription(user)

    project.refresh_from_db()
    assert project.expires_at == project.created_at + timedelta(days=90)


def test_an_upgrade_never_brings_a_songs_end_forward():
    """A song a downgrade kept until a date (now + 7 days) keeps it, even where the upload is older
    than the new plan's retention: the upgrade must not make it expire at once."""
    user = user_create()
    old = project_create_ready(owner=user, duration_s=0.5)
    kept_until = timezone.now() + timedelta(days=7)
    Project.objects.filter(id=old.id).update(created_at=timezone.now() - timedelta(days=200), expires_at=kept_until)
    forever = project_create_ready(owner=user, duration_s=0.5)  # no end date: kept until deleted

    _pro_by_subscription(user)

    old.refresh_from_db()
    forever.refresh_from_db()
    assert old.expires_at == kept_until
    assert forever.expires_at is None


# ---------------------------------------------------------------- signatures


def _refused(body: bytes, header: str | None) -> IsoMixError:
    with pytest.raises(IsoMixError) as refused:
        webhook_handle(payload=body, signature=header)
    return refused.value


def _tamper(body: bytes) -> bytes:
    return body.replace(b'"active"', b'"trialing"')


@pytest.mark.parametrize(
    "signed",
    [
        pytest.param(lambda p: stripe_signed(p, "whsec_someone_else"), id="another-secret"),
        pytest.param(lambda p: (stripe_signed(p)[0], None), id="missing"),
        pytest.param(lambda p: (stripe_signed(p)[0], ""), id="empty"),
        pytest.param(lambda p: (stripe_signed(p)[0], "t=abc,v1=def"), id="malformed"),
        pytest.param(lambda p: (stripe_signed(p)[0], stripe_signed(p)[1].replace("v1=", "v0=")), id="other-scheme"),
        pytest.param(lambda p: (_tamper(stripe_signed(p)[0]), stripe_signed(p)[1]), id="tampered-body"),
        pytest.param(lambda p: stripe_signed(p, timestamp=int(time.time()) - 301), id="too-old"),
    ],
)
def test_a_bad_missing_or_old_signature_is_refused_and_changes_nothing(signed, stripe_standin):
    user = user_create()
    body, header = signed(_sub(user, "updated", created=T0, status="active"))

    refused = _refused(body, header)

    assert (refused.code, refused.status_code) == (ErrorCode.INVALID_SIGNATURE, 400)
    assert WEBHOOK_SECRET not in refused.message
    assert not StripeEvent.objects.exists()
    assert not Subscription.objects.exists()
    assert not Account.objects.exists()
    assert stripe_standin.requests == []


def test_a_signed_body_that_is_not_an_event_is_refused():
    body, header = stripe_signed({"object": "v2.core.event", "id": "evt_1"})

    assert _refused(body, header).code == ErrorCode.INVALID_SIGNATURE
    assert not StripeEvent.objects.exists()


def test_webhooks_need_the_webhook_secret_only(settings):
    settings.STRIPE_SECRET_KEY = ""
    user = user_create()

    assert _deliver(_sub(user, "updated", created=T0, status="active")) == "applied"
    assert plan_for_user(user=user).slug == "pro"


def test_without_a_webhook_secret_webhooks_are_off(settings):
    settings.STRIPE_WEBHOOK_SECRET = ""
    user = user_create()
    body, header = stripe_signed(_sub(user, "updated", created=T0, status="active"))

    with pytest.raises(BillingDisabled):
        webhook_handle(payload=body, signature=header)

    assert not StripeEvent.objects.exists()


# ---------------------------------------------------------------- a failed renewal, in every order


def _failed_renewal(user, *, t: int = T0 + 31 * DAY) -> list[dict]:
    """A renewal whose payment fails (the subscription goes past_due), then is paid (active again)."""
    return [
        _invoice(user, "payment_failed", created=t),
        _sub(user, "updated", created=t, status="past_due"),
        _invoice(user, "paid", created=t + 3600),
        _sub(user, "updated", created=t + 3600, status="active"),
    ]


@pytest.mark.parametrize("order", list(itertools.permutations(range(4))), ids=lambda o: "".join(map(str, o)))
def test_every_order_of_a_failed_then_paid_renewal_ends_active_without_grace(order, stripe_standin):
    user = user_create()
    _pro_by_subscription(user)
    events = _failed_renewal(user)

    for i in order:
        _deliver(events[i])

    assert (_row(user).status, _row(user).grace_until) == ("active", None)
    assert plan_for_user(user=user).slug == "pro"
    assert Account.objects.get(user=user).downgraded_at is None


@pytest.mark.parametrize("order", [(0, 1), (1, 0)], ids=["invoice-first", "subscription-first"])
def test_either_order_of_a_failed_renewal_gives_the_grace_period_then_free(order, stripe_standin):
    user = user_create()
    _pro_by_subscription(user)
    t = T0 + 31 * DAY
    events = _failed_renewal(user, t=t)[:2]

    for i in order:
        _deliver(events[i])

    assert _row(user).status == "past_due"
    assert _row(user).grace_until == _at(t) + timedelta(days=7)
    assert plan_for_user(user=user, now=_at(t) + timedelta(days=6)).slug == "pro"
    assert plan_for_user(user=user, now=_at(t) + timedelta(days=8)).slug == "free"
