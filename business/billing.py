"""Stripe billing: subscribing (Checkout), managing (the Billing Portal), cancelling, and the
webhook events that tell the studio what happened. Calls to Stripe go through
:mod:`business.stripe_api`; with no keys (the embedded default) billing is off.

An event is verified by the SDK, then handled in one transaction that first inserts its id
(``StripeEvent``): a second delivery of that id changes nothing (``"duplicate"``). The state is
derived from the payloads alone, never from a call back to Stripe. Each event says something
(a :class:`Fact`) about one subscription:

- ``checkout.session.completed``: the user (``client_reference_id``), customer and subscription;
- ``customer.subscription.created|updated|deleted``: status (``deleted``: canceled), interval,
  current period (top level in older API versions, on ``items.data[0]`` in newer ones) and
  ``cancel_at_period_end``;
- ``invoice.paid``: active; ``invoice.payment_failed``: past_due (the first invoice of a
  subscription failing leaves it incomplete: it never was paid, so it has no grace period).

The account is found by ``metadata.user_id`` (set at checkout), ``client_reference_id``, else the
customer or subscription id stored on a ``Subscription``; else the result is ``"unknown customer"``.

Ordering: an older event never overwrites newer state. Stripe sends events in any order, retries
them, and dates them to the second, so each status has a lifecycle rank::

    incomplete 0 < trialing, active 1 < past_due, unpaid, paused 2 < canceled, incomplete_expired 3

and an event's key is ``(created, rank)``; ``Subscription.state_at``/``state_rank`` keep the key
of the status stored. In the same second the later stage wins.

1. Ids: the customer id, and the subscription id of a row that has none, are filled in by any
   event whatever its age.
2. Status: an event sets it only when its key is greater than the stored one.
3. A finished subscription (canceled, incomplete_expired) never changes again: it does not
   become active, whatever comes after.
4. Another subscription id than the stored one replaces it only when its event's key is greater;
   a finished one never displaces a live one (a new subscription after a cancellation takes over).
5. Period, interval and ``cancel_at_period_end`` come from subscription events whose key is at
   least the stored one, or whose current period is later than the stored one (periods only move
   forward, so a later period is newer news whatever order the events came in).
6. Grace: a past_due or unpaid status starts a failing streak once: ``grace_until`` is the
   failure's time plus ``ISOMIX_BILLING_GRACE_DAYS`` (a later failure does not extend it; an
   earlier one of the same streak, arriving late, moves it back). Active or trialing ends it.

Results: ``"applied"`` (state changed), ``"stale"`` (nothing new), ``"duplicate"``, ``"ignored"``
(a type or object not acted on), ``"unknown customer"``. Then ``account_plan_sync`` gives the songs
the retention of the plan the account is on now (``subscription_is_paid`` decides; when a grace
period ends, ``accounts_plan_sweep`` downgrades).
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils.translation import gettext as _

from business import stripe_api
from business.exceptions import BillingDisabled, NoSubscription
from business.models import Account, StripeEvent, Subscription
from business.selectors import FAILING_STATUSES, PAID_STATUSES, billing_enabled, subscription_is_paid
from business.services import account_get_or_create, account_plan_sync
from domain.exceptions import ErrorCode, IsoMixError

logger = logging.getLogger(__name__)

Status = Subscription.Status
STATUS_RANK = {
    Status.INCOMPLETE: 0, Status.TRIALING: 1, Status.ACTIVE: 1, Status.PAST_DUE: 2, Status.UNPAID: 2,
    Status.PAUSED: 2, Status.CANCELED: 3, Status.INCOMPLETE_EXPIRED: 3,
}  # fmt: skip
FINISHED = (Status.CANCELED, Status.INCOMPLETE_EXPIRED)
INTERVALS = ("month", "year")


class Result(StrEnum):
    APPLIED = "applied"
    STALE = "stale"
    DUPLICATE = "duplicate"
    IGNORED = "ignored"
    UNKNOWN_CUSTOMER = "unknown customer"


# ---------------------------------------------------------------- Checkout, portal, cancel


def _billing_off() -> BillingDisabled:
    return BillingDisabled(_("Billing is off on this server: its operators assign the plans."))


def _billing_check() -> None:
    if not billing_enabled():
        raise _billing_off()


def _customer_known(user: AbstractBaseUser) -> str:
    rows = Subscription.objects.filter(account__user_id=user.pk).exclude(stripe_customer_id="")
    return rows.values_list("stripe_customer_id", flat=True).first() or ""


def _customer_for(user: AbstractBaseUser) -> str:
    """The user's Stripe customer: the one stored, else a new one, stored (the first stored wins)."""
    known = _customer_known(user)
    if known:
        return known
    # Two checkouts racing get one customer from Stripe (a new email: a new key).
    key = hashlib.sha256(f"{user.pk}:{user.email}".encode()).hexdigest()[:32]
    made = stripe_api.customer_create(email=user.email, user_id=user.pk, idempotency_key=f"isomix-customer-{key}")
    with transaction.atomic():
        account = account_get_or_create(user=user)
        subscription, _created = Subscription.objects.select_for_update().get_or_create(account=account)
        if not subscription.stripe_customer_id:
            subscription.stripe_customer_id = made
            subscription.full_clean()
            subscription.save(update_fields=["stripe_customer_id", "updated_at"])
    return subscription.stripe_customer_id


def checkout_session_create(*, user: AbstractBaseUser, interval: str, success_url: str, cancel_url: str) -> str:
    """The URL of a Stripe Checkout page that subscribes ``user`` to Pro, billed each ``interval``
    (``"month"`` or ``"year"``). The user's Stripe customer is made on the first checkout and
    reused after. A user whose subscription already gives Pro is refused (``invalid_input``):
    they change or cancel it in the portal. Nothing is stored when Stripe fails (but a customer
    Stripe made is kept, to be reused)."""
    _billing_check()
    prices = {"month": settings.ISOMIX_STRIPE_PRICE_PRO_MONTHLY, "year": settings.ISOMIX_STRIPE_PRICE_PRO_YEARLY}
    if interval not in prices:
        raise IsoMixError(
            _("Choose a monthly or a yearly subscription."), code=ErrorCode.INVALID_INPUT, extra={"choices": INTERVALS}
        )
    if subscription_is_paid(Subscription.objects.filter(account__user_id=user.pk).first()):
        raise IsoMixError(
            _("You already have Pro; manage it from your account."),
            code=ErrorCode.INVALID_INPUT,
            extra={"manage_url": reverse("account")},
        )
    return stripe_api.checkout_session_create(
        customer=_customer_for(user), price=prices[interval], user_id=user.pk,
        success_url=success_url, cancel_url=cancel_url,
    )  # fmt: skip


def portal_session_create(*, user: AbstractBaseUser, return_url: str) -> str:
    """The URL of the user's Stripe Billing Portal (cancel, payment method, invoices);
    ``no_subscription`` (409) for a user Stripe does not know yet."""
    _billing_check()
    customer = _customer_known(user)
    if not customer:
        raise NoSubscription(_("You have no subscription to manage yet: subscribe to Pro first."))
    return stripe_api.portal_session_create(customer=customer, return_url=return_url)


def subscription_cancel_for_account(*, account: Account) -> None:
    """Cancel the account's subscription in Stripe at once (account deletion), when billing is on
    and it has one that has not ended. The state here follows from the webhook that Stripe sends
    after; a Stripe failure raises ``billing_error`` and changes nothing."""
    if not billing_enabled():
        return
    subscription = Subscription.objects.filter(account=account).first()
    if subscription is None or not subscription.stripe_subscription_id or subscription.status in FINISHED:
        return
    stripe_api.subscription_cancel(subscription_id=subscription.stripe_subscription_id)


# ---------------------------------------------------------------- what an event says


@dataclass(frozen=True)
class Fact:
    """What one event says about one subscription (``""``/``None``: it says nothing of that)."""

    created: int
    subscription: str
    customer: str = ""
    user_id: str = ""
    status: str = ""
    period: tuple[datetime, datetime] | None = None
    interval: str = ""
    #: Set by subscription events only, which describe the subscription object itself.
    cancel_at_period_end: bool | None = None

    @property
    def key(self) -> tuple[int, int]:
        return (self.created, STATUS_RANK.get(self.status, -1))

    @property
    def describes_object(self) -> bool:
        return self.cancel_at_period_end is not None


def _get(node: Any, *path: str | int) -> Any:
    for step in path:
        if isinstance(node, dict):
            node = node.get(step)
        elif isinstance(node, list) and isinstance(step, int) and step < len(node):
            node = node[step]
        else:
            return None
    return node


def _id(value: Any) -> str:
    """A field Stripe sends as an id or, expanded, as the object."""
    value = value.get("id") if isinstance(value, dict) else value
    return value if isinstance(value, str) else ""


def _time(value: Any) -> datetime | None:
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return datetime.fromtimestamp(value, tz=UTC)


def _user_id(*values: Any) -> str:
    return next((str(v) for v in values if isinstance(v, str | int) and not isinstance(v, bool) and v != ""), "")


def _fact_checkout(obj: dict, created: int) -> Fact | None:
    if obj.get("mode") != "subscription":
        return None
    return Fact(
        created=created, subscription=_id(obj.get("subscription")), customer=_id(obj.get("customer")),
        user_id=_user_id(_get(obj, "metadata", "user_id"), obj.get("client_reference_id")),
    )  # fmt: skip


def _fact_subscription(obj: dict, created: int, *, deleted: bool) -> Fact | None:
    status = Status.CANCELED if deleted else obj.get("status")
    if status not in STATUS_RANK:
        logger.warning("Stripe subscription %s has a status the studio does not know: %r", obj.get("id"), status)
        return None
    item = _get(obj, "items", "data", 0) or {}
    start = _time(obj.get("current_period_start")) or _time(item.get("current_period_start"))
    end = _time(obj.get("current_period_end")) or _time(item.get("current_period_end"))
    interval = _get(item, "price", "recurring", "interval") or _get(item, "plan", "interval")
    return Fact(
        created=created, subscription=_id(obj.get("id")), customer=_id(obj.get("customer")),
        user_id=_user_id(_get(obj, "metadata", "user_id")), status=status,
        period=(start, end) if start and end else None, interval=interval if interval in INTERVALS else "",
        cancel_at_period_end=bool(obj.get("cancel_at_period_end")),
    )  # fmt: skip


def _fact_invoice(obj: dict, created: int, *, paid: bool) -> Fact | None:
    # Newer API versions: parent.subscription_details; older: subscription and subscription_details.
    details = _get(obj, "parent", "subscription_details") or obj.get("subscription_details") or {}
    subscription = _id(details.get("subscription")) or _id(obj.get("subscription"))
    if not subscription:
        return None  # an invoice of no subscription
    first = obj.get("billing_reason") == "subscription_create"
    status = Status.ACTIVE if paid else (Status.INCOMPLETE if first else Status.PAST_DUE)
    return Fact(
        created=created, subscription=subscription, customer=_id(obj.get("customer")),
        user_id=_user_id(_get(details, "metadata", "user_id")), status=status,
    )  # fmt: skip


def event_fact(event: dict) -> Fact | None:
    """What ``event`` says about a subscription; ``None`` for what the studio does not act on."""
    obj, created, kind = _get(event, "data", "object"), event.get("created"), event.get("type")
    if not isinstance(obj, dict) or _time(created) is None:
        return None
    if kind == "checkout.session.completed":
        return _fact_checkout(obj, created)
    if kind in ("customer.subscription.created", "customer.subscription.updated", "customer.subscription.deleted"):
        return _fact_subscription(obj, created, deleted=kind == "customer.subscription.deleted")
    if kind in ("invoice.paid", "invoice.payment_failed"):
        return _fact_invoice(obj, created, paid=kind == "invoice.paid")
    return None


# ---------------------------------------------------------------- applying it


def _account_for(fact: Fact) -> Account | None:
    if fact.user_id:
        user_model = get_user_model()
        try:
            pk = user_model._meta.pk.to_python(fact.user_id)
        except ValidationError:
            pk = None
        user = user_model.objects.filter(pk=pk).first() if pk is not None else None
        if user is not None:
            return account_get_or_create(user=user)
    for field, value in (("stripe_customer_id", fact.customer), ("stripe_subscription_id", fact.subscription)):
        account = Account.objects.filter(**{f"subscription__{field}": value}).first() if value else None
        if account is not None:
            return account
    return None


def _subscription_replace(subscription: Subscription, fact: Fact) -> None:
    """Forget the stored subscription for the one ``fact`` is about (its key stays, for rule 4)."""
    subscription.stripe_subscription_id = fact.subscription
    subscription.stripe_customer_id = fact.customer or subscription.stripe_customer_id
    subscription.status = subscription.interval = ""
    subscription.current_period_start = subscription.current_period_end = None
    subscription.cancel_at_period_end = False
    subscription.payment_failed_at = subscription.grace_until = None


def _streak_start(subscription: Subscription, at: datetime) -> None:
    subscription.payment_failed_at = at
    subscription.grace_until = at + timedelta(days=settings.ISOMIX_BILLING_GRACE_DAYS)


def _status_set(subscription: Subscription, fact: Fact) -> None:
    subscription.status = fact.status
    subscription.state_at, subscription.state_rank = fact.key
    if fact.status in PAID_STATUSES:
        subscription.payment_failed_at = subscription.grace_until = None
    elif fact.status in FAILING_STATUSES and subscription.grace_until is None:
        _streak_start(subscription, _time(fact.created))


def _later_period(fact: Fact, stored: datetime | None) -> bool:
    return fact.period is not None and (stored is None or fact.period[1] > stored)


def fact_apply(subscription: Subscription, fact: Fact) -> None:
    """Apply ``fact`` to ``subscription`` (unsaved) by the rules of this module's docstring."""
    if fact.customer and not subscription.stripe_customer_id:
        subscription.stripe_customer_id = fact.customer
    if not fact.subscription:
        return
    stored = (subscription.state_at, subscription.state_rank)
    if not subscription.stripe_subscription_id:
        subscription.stripe_subscription_id = fact.subscription
    elif fact.subscription != subscription.stripe_subscription_id:
        live = subscription.status and subscription.status not in FINISHED
        if fact.key <= stored or (fact.status in FINISHED and live):
            return
        _subscription_replace(subscription, fact)
    if subscription.status in FINISHED:
        return
    if fact.describes_object and (fact.key >= stored or _later_period(fact, subscription.current_period_end)):
        if fact.period is not None:
            subscription.current_period_start, subscription.current_period_end = fact.period
        subscription.interval = fact.interval or subscription.interval
        subscription.cancel_at_period_end = bool(fact.cancel_at_period_end)
    if fact.status and fact.key > stored:
        _status_set(subscription, fact)
    elif fact.status in FAILING_STATUSES and subscription.status in FAILING_STATUSES and subscription.payment_failed_at:
        failed_at = _time(fact.created)
        if failed_at < subscription.payment_failed_at:  # an earlier failure of this streak, late
            _streak_start(subscription, failed_at)


#: What an event can change on a subscription row (the result says whether one did).
_STATE_FIELDS = (
    "stripe_customer_id", "stripe_subscription_id", "status", "interval", "current_period_start",
    "current_period_end", "cancel_at_period_end", "payment_failed_at", "grace_until", "state_at", "state_rank",
)  # fmt: skip


def _event_apply(event: dict) -> tuple[Account | None, Result]:
    fact = event_fact(event)
    if fact is None:
        return None, Result.IGNORED
    account = _account_for(fact)
    if account is None:
        return None, Result.UNKNOWN_CUSTOMER
    # One event of an account at a time (PostgreSQL; SQLite has one writer anyway).
    account = Account.objects.select_for_update().get(pk=account.pk)
    subscription, _created = Subscription.objects.get_or_create(account=account)
    before = [getattr(subscription, f) for f in _STATE_FIELDS]
    fact_apply(subscription, fact)
    changed = before != [getattr(subscription, f) for f in _STATE_FIELDS]
    if changed:
        subscription.full_clean()
        subscription.save()
    account_plan_sync(account=Account.objects.select_related("plan", "subscription", "applied_plan").get(pk=account.pk))
    return account, Result.APPLIED if changed else Result.STALE


def webhook_handle(*, payload: bytes, signature: str | None) -> str:
    """Verify and handle one Stripe webhook delivery (see the module's docstring); its result.

    ``billing_disabled`` (503) without ``STRIPE_WEBHOOK_SECRET``; ``invalid_signature`` (400) for
    a missing, wrong or stale signature, which stores and changes nothing.
    """
    if not settings.STRIPE_WEBHOOK_SECRET:
        raise _billing_off()
    event = stripe_api.event_construct(payload=payload, signature=signature)
    with transaction.atomic():
        row = StripeEvent(id=event.get("id"), type=event.get("type"), created=event.get("created"), payload=event)
        row.full_clean(validate_unique=False)
        try:
            with transaction.atomic():
                row.save(force_insert=True)  # never an UPDATE of a row of that id
        except IntegrityError:
            return Result.DUPLICATE
        row.account, row.result = _event_apply(event)
        row.save(update_fields=["account", "result"])
    return row.result
