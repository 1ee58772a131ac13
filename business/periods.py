"""Usage periods: a calendar day for daily allowances, a billing month for monthly ones.

A monthly period starts on the account's billing anchor: the day of the month (and time)
its subscription started, or the first of the calendar month (UTC) without one. A month
that has no such day (an anchor on the 31st in April) starts on its last day, as Stripe
bills it.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta


@dataclass(frozen=True)
class Period:
    start: datetime
    end: datetime


def day_period(*, now: datetime) -> Period:
    start = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return Period(start=start, end=start + timedelta(days=1))


def _on_anchor(*, year: int, month: int, anchor: datetime) -> datetime:
    day = min(anchor.day, calendar.monthrange(year, month)[1])
    return anchor.replace(year=year, month=month, day=day)


def _month_add(year: int, month: int, n: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + n
    return index // 12, index % 12 + 1


def month_period(*, now: datetime, anchor: datetime | None = None) -> Period:
    """The monthly period holding ``now``, starting on ``anchor``'s day (calendar month without)."""
    now = now.astimezone(UTC)
    if anchor is None:
        anchor = datetime(2000, 1, 1, tzinfo=UTC)
    anchor = anchor.astimezone(UTC)
    start = _on_anchor(year=now.year, month=now.month, anchor=anchor)
    if start > now:
        year, month = _month_add(now.year, now.month, -1)
        start = _on_anchor(year=year, month=month, anchor=anchor)
    year, month = _month_add(start.year, start.month, 1)
    return Period(start=start, end=_on_anchor(year=year, month=month, anchor=anchor))
