"""The usage ledger: reserve allowance when work is accepted, then commit or release it.

``quota_reserve`` runs inside the caller's transaction, the one that records the work: if
that transaction rolls back, so does the reservation. Its first statement bumps the
account's ``usage_lock``: on PostgreSQL that locks the account's row, on SQLite it takes the
database's write lock, so two reservations of one account run one after the other and the
second sees the first's row (10 uploads at once with 3 left: exactly 3 go through). It must
be the first write of that transaction, before any read, or SQLite cannot order them.

The job's outcome settles the reservation: ``quota_commit`` when it succeeded (the work is
used), ``quota_release`` when it failed or its project was deleted before it ran (a failed
job costs nothing), ``quota_reopen`` when an operator runs a failed job again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import F
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from business.exceptions import QuotaExceeded
from business.models import Account, UsageRecord
from business.selectors import PlanLimits, plan_limits_for_account, usage_limit, usage_period, usage_used
from business.services import account_get_or_create
from domain.models import Job

Metric = UsageRecord.Metric


@dataclass(frozen=True)
class Reservation:
    records: list[UsageRecord]
    limits: PlanLimits

    def attach(self, *, job_id: UUID) -> None:
        """Tie the reserved units to the job whose outcome settles them."""
        ids = [r.id for r in self.records]
        UsageRecord.objects.filter(id__in=ids).update(job_id=job_id)
        for record in self.records:
            record.job_id = job_id


def moment_text(moment: datetime) -> str:
    """When an allowance renews, as the reader's language writes a date and time."""
    return formats.date_format(timezone.localtime(moment), "DATETIME_FORMAT")


def quota_refusal(*, metric: str, limits: PlanLimits, used: int, amount: int, resets_at: datetime) -> QuotaExceeded:
    """The 402 of ``amount`` more of ``metric`` past the plan's allowance (also what a page shows
    before the user tries)."""
    limit = usage_limit(limits=limits, metric=metric)
    values = {"plan": limits.name, "when": moment_text(resets_at)}
    if metric == Metric.UPLOADS:
        message = ngettext(
            "The %(plan)s plan takes %(limit)d upload a day, and today's is used. More from %(when)s.",
            "The %(plan)s plan takes %(limit)d uploads a day, and today's are used. More from %(when)s.",
            limit,
        ) % {**values, "limit": limit}
    elif metric == Metric.SEPARATION_SECONDS:
        message = _(
            "This song needs %(need)d separation minutes and your %(plan)s plan has %(left)d left "
            "this month. It renews on %(when)s."
        ) % {**values, "need": -(-amount // 60), "left": max(0, limit - used) // 60}
        limit, used = limit // 60, -(-used // 60)  # in minutes, as people and the account API count
        metric = "separation_minutes"
    elif metric == Metric.LYRICS:
        message = _("You have used this month's karaoke lyrics of the %(plan)s plan. More from %(when)s.") % values
    else:
        message = _("You have used this month's remixes of the %(plan)s plan. More from %(when)s.") % values
    return QuotaExceeded(message, limit=limit, used=used, resets_at=resets_at, metric=str(metric))


def _account_locked(user: AbstractBaseUser) -> Account:
    if not Account.objects.filter(user_id=user.pk).update(usage_lock=F("usage_lock") + 1):
        account_get_or_create(user=user)
        Account.objects.filter(user_id=user.pk).update(usage_lock=F("usage_lock") + 1)
    return Account.objects.select_related("plan", "subscription").get(user_id=user.pk)


#: The jobs a plan's "jobs at once" counts: the work a user starts. The analysis and the lyrics that
#: follow a separation by themselves do not take a slot (lyrics have their own allowance), so a
#: song that just finished does not hold up the next upload.
SLOT_KINDS = (Job.Kind.SEPARATE, Job.Kind.EXPORT, Job.Kind.REMIX)


def _jobs_running(*, user: AbstractBaseUser) -> int:
    return Job.objects.filter(
        project__owner_id=user.pk, kind__in=SLOT_KINDS, state__in=[Job.State.QUEUED, Job.State.RUNNING]
    ).count()


def quota_reserve(
    *, user: AbstractBaseUser, amounts: dict[str, int], job_slot: bool = True, now: datetime | None = None
) -> Reservation:
    """Reserve ``amounts`` (metric → units) for one piece of work, all or none.

    ``job_slot``: the work is a job, so the plan's jobs-at-once counts it. Must run inside
    the transaction that records the work, as its first write (see the module's docstring).

    Raises
    ------
    QuotaExceeded
        An allowance (or the jobs at once) would be passed; nothing is reserved.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("quota_reserve runs inside the transaction that records the work")
    now = now or timezone.now()
    account = _account_locked(user)
    limits = plan_limits_for_account(account, now=now)
    if job_slot:
        running = _jobs_running(user=user)
        if running >= limits.concurrent_jobs:
            message = ngettext(
                "Your %(plan)s plan runs %(limit)d job at a time. Wait for it to finish, or upgrade.",
                "Your %(plan)s plan runs %(limit)d jobs at a time. Wait for one to finish, or upgrade.",
                limits.concurrent_jobs,
            ) % {"plan": limits.name, "limit": limits.concurrent_jobs}
            raise QuotaExceeded(
                message, limit=limits.concurrent_jobs, used=running, resets_at=None, metric="concurrent_jobs"
            )
    records = []
    for metric, amount in amounts.items():
        period = usage_period(account=account, metric=metric, now=now)
        used = usage_used(account=account, metric=metric, period=period)
        if used + amount > usage_limit(limits=limits, metric=metric):
            raise quota_refusal(metric=metric, limits=limits, used=used, amount=amount, resets_at=period.end)
        record = UsageRecord(account=account, metric=metric, amount=amount, created_at=now)
        record.full_clean(exclude=["account"])
        records.append(record)
    UsageRecord.objects.bulk_create(records)
    return Reservation(records=records, limits=limits)


def _settle(*, job_id: UUID | str, was: str, state: str) -> int:
    settled_at = None if state == UsageRecord.State.RESERVED else timezone.now()
    return UsageRecord.objects.filter(job_id=job_id, state=was).update(state=state, settled_at=settled_at)


def quota_commit(*, job_id: UUID | str) -> int:
    """The job succeeded: its reserved units are used. Returns how many records it settled."""
    return _settle(job_id=job_id, was=UsageRecord.State.RESERVED, state=UsageRecord.State.COMMITTED)


def quota_release(*, job_id: UUID | str) -> int:
    """The job failed, or will never run: its reserved units go back to the allowance."""
    return _settle(job_id=job_id, was=UsageRecord.State.RESERVED, state=UsageRecord.State.RELEASED)


def quota_reopen(*, job_id: UUID | str) -> int:
    """An operator runs a failed job again: what it released is reserved again (not re-checked:
    the operator decided), and settles with the new run."""
    return _settle(job_id=job_id, was=UsageRecord.State.RELEASED, state=UsageRecord.State.RESERVED)
