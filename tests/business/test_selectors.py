"""Plans and limits: which plan a user is on, and the periods their allowances are counted over."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from business.models import Account, Plan, Subscription
from business.periods import day_period, month_period
from business.selectors import plan_for_user, plan_limits_for_user, usage_for_user
from business.services import account_get_or_create
from tests.factories import plan_update, pro_user_create, user_create

pytestmark = pytest.mark.django_db


def test_the_data_migration_makes_free_the_default_and_pro_the_paid_plan():
    free, pro = Plan.objects.get(slug="free"), Plan.objects.get(slug="pro")

    assert (free.is_default, free.is_paid, pro.is_default, pro.is_paid) == (True, False, False, True)
    assert free.export_formats == ["mp3"] and free.mp3_max_kbps == 192 and free.retention_days == 7
    assert pro.export_formats == ["mp3", "wav", "flac", "zip"] and pro.mp3_max_kbps == 320
    assert pro.retention_days == 90 and pro.priority and not free.priority
    assert "htdemucs_ft" in pro.engines and "htdemucs_6s" in pro.engines and "htdemucs_ft" not in free.engines


def test_limits_come_from_the_plan_row_an_operator_edits():
    plan_update("free", max_upload_mb=25, max_duration_min=5)

    limits = plan_limits_for_user(user=user_create())

    assert limits.plan == "free"
    assert limits.max_upload_bytes == 25_000_000  # decimal megabytes, as every message says
    assert limits.max_upload_mb == 25
    assert limits.max_duration_s == 300.0
    assert limits.export_formats == ("mp3",) and limits.stems_zip is False


def test_an_anonymous_request_gets_the_default_plan():
    assert plan_limits_for_user(user=None) == plan_limits_for_user(user=user_create())


def test_an_assigned_plan_lasts_until_its_end_date():
    user = user_create()
    account = account_get_or_create(user=user)
    account.plan = Plan.objects.get(slug="pro")
    account.plan_until = timezone.now() + timedelta(days=3)
    account.save()

    assert plan_for_user(user=user).slug == "pro"
    assert plan_for_user(user=user, now=timezone.now() + timedelta(days=4)).slug == "free"


def _subscription(user, **fields) -> Subscription:
    account = account_get_or_create(user=user)
    return Subscription.objects.create(account=account, stripe_customer_id="cus_1", stripe_subscription_id="sub_1",
                                       **fields)  # fmt: skip


@pytest.mark.parametrize(
    ("status", "grace_days", "plan"),
    [
        ("active", None, "pro"),
        ("trialing", None, "pro"),
        ("past_due", 3, "pro"),  # inside the grace period
        ("past_due", -1, "free"),  # after it
        ("canceled", None, "free"),
        ("incomplete", None, "free"),
    ],
)
def test_the_subscription_gives_the_paid_plan_while_it_is_paid_or_in_grace(status, grace_days, plan):
    user = user_create()
    grace = timezone.now() + timedelta(days=grace_days) if grace_days is not None else None
    _subscription(user, status=status, grace_until=grace)

    assert plan_for_user(user=user).slug == plan


def test_usage_meters_start_empty_with_the_plans_limits():
    meters = usage_for_user(user=pro_user_create())

    assert {k: (m.used, m.limit) for k, m in meters.items()} == {
        "uploads": (0, 100),
        "separation_s": (0, 3000 * 60),
        "lyrics": (0, 100),
        "remixes": (0, 100),
    }
    assert Account.objects.count() == 1


def test_a_day_period_is_the_utc_calendar_day():
    period = day_period(now=datetime(2026, 3, 5, 23, 59, tzinfo=UTC))

    assert (period.start, period.end) == (datetime(2026, 3, 5, tzinfo=UTC), datetime(2026, 3, 6, tzinfo=UTC))


@pytest.mark.parametrize(
    ("now", "anchor", "start", "end"),
    [
        # No anchor (Free): the calendar month.
        (datetime(2026, 2, 14, 12, tzinfo=UTC), None,
         datetime(2026, 2, 1, tzinfo=UTC), datetime(2026, 3, 1, tzinfo=UTC)),
        # The subscription's day of the month, before and after it in the month.
        (datetime(2026, 2, 14, tzinfo=UTC), datetime(2025, 11, 20, 8, tzinfo=UTC),
         datetime(2026, 1, 20, 8, tzinfo=UTC), datetime(2026, 2, 20, 8, tzinfo=UTC)),
        (datetime(2026, 2, 21, tzinfo=UTC), datetime(2025, 11, 20, 8, tzinfo=UTC),
         datetime(2026, 2, 20, 8, tzinfo=UTC), datetime(2026, 3, 20, 8, tzinfo=UTC)),
        # An anchor on the 31st: the last day of shorter months, as Stripe bills it.
        (datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 1, 31, tzinfo=UTC),
         datetime(2026, 2, 28, tzinfo=UTC), datetime(2026, 3, 31, tzinfo=UTC)),
        # Across the year.
        (datetime(2026, 1, 3, tzinfo=UTC), datetime(2025, 6, 10, tzinfo=UTC),
         datetime(2025, 12, 10, tzinfo=UTC), datetime(2026, 1, 10, tzinfo=UTC)),
    ],
)  # fmt: skip
def test_a_month_period_rolls_over_on_the_billing_anchor(now, anchor, start, end):
    period = month_period(now=now, anchor=anchor)

    assert (period.start, period.end) == (start, end)


def test_a_subscription_set_to_end_stops_giving_pro_a_day_after_its_end_without_its_event():
    user = user_create()
    end = timezone.now() - timedelta(hours=2)
    _subscription(user, status="active", cancel_at_period_end=True, current_period_end=end)

    assert plan_for_user(user=user).slug == "pro"  # the deletion event may still be on its way
    assert plan_for_user(user=user, now=end + timedelta(days=1, minutes=1)).slug == "free"
