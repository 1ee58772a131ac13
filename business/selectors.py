"""What a user may do (the limits of their plan), what they have used, and what their account holds.

The plan of a user, in order: the paid plan while their subscription is active (or in its
grace period after a failed payment); else a plan an operator assigned to the account, until
its end date; else the default plan. Every limit of the studio is read here.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Q, Sum
from django.utils import timezone
from rest_framework.authtoken.models import Token

from business.models import Account, Plan, Subscription, UsageRecord
from business.periods import Period, day_period, month_period


@dataclass(frozen=True)
class PlanLimits:
    """A plan's limits, as they apply to one piece of work (and as projects snapshot them)."""

    plan: str
    name: str
    max_upload_bytes: int
    max_duration_s: float
    uploads_per_day: int
    separation_seconds_per_month: int
    concurrent_jobs: int
    engines: tuple[str, ...]
    #: Audio formats of a mix export (``mp3``, ``wav``, ``flac``).
    export_formats: tuple[str, ...]
    stems_zip: bool
    mp3_max_kbps: int
    retention_days: int
    lyrics_per_month: int
    remixes_per_month: int
    priority: bool

    @property
    def max_upload_mb(self) -> int:
        return self.max_upload_bytes // 1_000_000

    @classmethod
    def from_plan(cls, plan: Plan) -> PlanLimits:
        return cls(
            plan=plan.slug,
            name=plan.display_name,
            max_upload_bytes=plan.max_upload_mb * 1_000_000,
            max_duration_s=float(plan.max_duration_min * 60),
            uploads_per_day=plan.uploads_per_day,
            separation_seconds_per_month=plan.separation_minutes_per_month * 60,
            concurrent_jobs=plan.concurrent_jobs,
            engines=tuple(plan.engines),
            export_formats=tuple(f for f in plan.export_formats if f != "zip"),
            stems_zip="zip" in plan.export_formats,
            mp3_max_kbps=plan.mp3_max_kbps,
            retention_days=plan.retention_days,
            lyrics_per_month=plan.lyrics_per_month,
            remixes_per_month=plan.remixes_per_month,
            priority=plan.priority,
        )

    def to_snapshot(self) -> dict[str, Any]:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def from_snapshot(cls, data: dict[str, Any], *, fallback: PlanLimits) -> PlanLimits:
        """The limits a project recorded at upload; a field it lacks (older rows) from ``fallback``."""
        values = {}
        for f in fields(cls):
            value = data.get(f.name, getattr(fallback, f.name))
            values[f.name] = tuple(value) if isinstance(value, list) else value
        return cls(**values)


def _plan_fallback() -> Plan:
    """Only for a database whose plans an operator deleted: the Free plan of the data migration."""
    return Plan(
        slug="free", name="Free", is_default=True, max_upload_mb=50, max_duration_min=10, uploads_per_day=5,
        separation_minutes_per_month=60, concurrent_jobs=2, engines=["offline", "htdemucs"],
        export_formats=["mp3"], mp3_max_kbps=192, retention_days=7, lyrics_per_month=3, remixes_per_month=3,
    )  # fmt: skip


#: How long past its end a subscription set to cancel still counts, for its deletion event to arrive.
LOST_EVENT_SLACK = timedelta(days=1)

#: Subscription states after a failed payment: the paid plan stays until the grace period ends.
FAILING_STATUSES = (Subscription.Status.PAST_DUE, Subscription.Status.UNPAID)

#: Subscription states that give the paid plan (past_due too, until its grace period ends).
PAID_STATUSES = (Subscription.Status.ACTIVE, Subscription.Status.TRIALING)


def plan_default() -> Plan:
    return (
        Plan.objects.filter(is_default=True).first() or Plan.objects.order_by("order", "id").first() or _plan_fallback()
    )


def plan_paid() -> Plan | None:
    return Plan.objects.filter(is_paid=True).first()


def plan_list() -> list[Plan]:
    return list(Plan.objects.all())


def subscription_is_paid(subscription: Subscription | None, *, now: datetime | None = None) -> bool:
    """Whether ``subscription`` gives the paid plan at ``now``."""
    if subscription is None:
        return False
    now = now or timezone.now()
    if subscription.status in PAID_STATUSES:
        # Set to end, and its end long past: the deletion event was lost (Stripe stops retrying
        # after three days); the payloads alone say it is over.
        ended = subscription.cancel_at_period_end and subscription.current_period_end is not None
        return not (ended and subscription.current_period_end + LOST_EVENT_SLACK < now)
    return subscription_in_grace(subscription, now=now)


def subscription_in_grace(subscription: Subscription | None, *, now: datetime | None = None) -> bool:
    """A payment failed and the grace period (Pro still) has not ended yet."""
    if subscription is None or subscription.status not in FAILING_STATUSES or subscription.grace_until is None:
        return False
    return (now or timezone.now()) < subscription.grace_until


def _account(user: AbstractBaseUser | None) -> Account | None:
    if user is None or not user.is_authenticated:
        return None
    return Account.objects.select_related("plan", "subscription").filter(user_id=user.pk).first()


def _subscription(account: Account | None) -> Subscription | None:
    if account is None:
        return None
    try:
        return account.subscription
    except Subscription.DoesNotExist:
        return None


def plan_for_account(account: Account | None, *, now: datetime | None = None) -> Plan:
    now = now or timezone.now()
    if account is not None:
        if subscription_is_paid(_subscription(account), now=now):
            paid = plan_paid()
            if paid is not None:
                return paid
        if account.plan is not None and (account.plan_until is None or now < account.plan_until):
            return account.plan
    return plan_default()


def plan_for_user(*, user: AbstractBaseUser | None, now: datetime | None = None) -> Plan:
    return plan_for_account(_account(user), now=now)


def plan_limits_for_user(*, user: AbstractBaseUser | None, now: datetime | None = None) -> PlanLimits:
    return PlanLimits.from_plan(plan_for_user(user=user, now=now))


def plan_limits_for_account(account: Account | None, *, now: datetime | None = None) -> PlanLimits:
    return PlanLimits.from_plan(plan_for_account(account, now=now))


def billing_anchor(account: Account | None) -> datetime | None:
    """Where the account's monthly periods start: its paid subscription's, or the calendar month."""
    subscription = _subscription(account)
    if subscription_is_paid(subscription) and subscription.current_period_start is not None:
        return subscription.current_period_start
    return None


#: The allowance each metric is measured against, and over which period.
_DAILY = {UsageRecord.Metric.UPLOADS: "uploads_per_day"}
_MONTHLY = {
    UsageRecord.Metric.SEPARATION_SECONDS: "separation_seconds_per_month",
    UsageRecord.Metric.LYRICS: "lyrics_per_month",
    UsageRecord.Metric.REMIXES: "remixes_per_month",
}


def usage_period(*, account: Account | None, metric: str, now: datetime | None = None) -> Period:
    now = now or timezone.now()
    if metric in _DAILY:
        return day_period(now=now)
    return month_period(now=now, anchor=billing_anchor(account))


def usage_limit(*, limits: PlanLimits, metric: str) -> int:
    return int(getattr(limits, {**_DAILY, **_MONTHLY}[metric]))


def usage_used(*, account: Account, metric: str, period: Period) -> int:
    """Reserved and committed units of ``metric`` in ``period`` (released ones cost nothing)."""
    total = UsageRecord.objects.filter(
        account=account, metric=metric, state__in=UsageRecord.COUNTED,
        created_at__gte=period.start, created_at__lt=period.end,
    ).aggregate(total=Sum("amount"))["total"]  # fmt: skip
    return int(total or 0)


@dataclass(frozen=True)
class Meter:
    metric: str
    used: int
    limit: int
    resets_at: datetime

    @property
    def left(self) -> int:
        return max(0, self.limit - self.used)

    def in_minutes(self) -> Meter:
        """A meter of separation seconds as people (and the account API) count it: whole minutes,
        the used ones rounded up."""
        return Meter(metric=self.metric, used=-(-self.used // 60), limit=self.limit // 60, resets_at=self.resets_at)

    @property
    def percent(self) -> int:
        return 100 if self.limit <= 0 else min(100, math.floor(100 * self.used / self.limit))


def plan_and_usage_for_user(*, user: AbstractBaseUser, now: datetime | None = None) -> tuple[Plan, dict[str, Meter]]:
    """The user's plan and every metered allowance of it (used, limit, when it resets): the
    account read once, the usage of every period in one query."""
    now = now or timezone.now()
    account = _account(user)
    plan = plan_for_account(account, now=now)
    limits = PlanLimits.from_plan(plan)
    periods = {str(metric): usage_period(account=account, metric=metric, now=now) for metric in (*_DAILY, *_MONTHLY)}
    used: dict[str, int | None] = {}
    if account is not None:
        sums = {
            metric: Sum("amount", filter=Q(metric=metric, created_at__gte=period.start, created_at__lt=period.end))
            for metric, period in periods.items()
        }
        used = UsageRecord.objects.filter(account=account, state__in=UsageRecord.COUNTED).aggregate(**sums)
    meters = {
        metric: Meter(
            metric=metric,
            used=int(used.get(metric) or 0),
            limit=usage_limit(limits=limits, metric=metric),
            resets_at=period.end,
        )  # fmt: skip
        for metric, period in periods.items()
    }
    return plan, meters


def usage_for_user(*, user: AbstractBaseUser, now: datetime | None = None) -> dict[str, Meter]:
    """Every metered allowance of the user's plan: used, limit and when it resets."""
    return plan_and_usage_for_user(user=user, now=now)[1]


def subscription_for_user(*, user: AbstractBaseUser) -> Subscription | None:
    """The user's subscription, once Stripe told us of one (a customer with no subscription is none)."""
    subscription = Subscription.objects.filter(account__user_id=user.pk).first()
    if subscription is None or not subscription.stripe_subscription_id:
        return None
    return subscription


def user_for_api_token(*, key: str) -> AbstractBaseUser | None:
    """The active user whose API token is ``key``, or ``None``."""
    if not key or len(key) > 64:
        return None
    token = Token.objects.select_related("user").filter(key=key).first()
    return token.user if token is not None and token.user.is_active else None


def email_taken(*, email: str, exclude_user_id: int | None = None) -> bool:
    """Whether another user has ``email``, compared without regard to case."""
    users = get_user_model().objects.filter(email__iexact=email)
    if exclude_user_id is not None:
        users = users.exclude(pk=exclude_user_id)
    return users.exists()


def billing_enabled() -> bool:
    """Stripe is configured: a secret key and both Pro prices (off in the embedded default)."""
    return bool(
        settings.STRIPE_SECRET_KEY
        and settings.ISOMIX_STRIPE_PRICE_PRO_MONTHLY
        and settings.ISOMIX_STRIPE_PRICE_PRO_YEARLY
    )


def account_language_for_user(*, user: AbstractBaseUser) -> str:
    """The language the user saved (a code of ``settings.LANGUAGES``), or ``""`` to follow the
    browser: also when the user has no account row yet. One query, on the unique user id."""
    return Account.objects.filter(user_id=user.pk).values_list("language", flat=True).first() or ""
