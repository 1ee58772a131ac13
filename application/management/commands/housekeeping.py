"""``manage.py housekeeping [--loop SECONDS]``: rescue stuck jobs, expire projects, drop orphan files.

Also applies the plan changes that time alone makes (a grace period after a failed payment
that ended, an operator's grant that ran out): the songs get the new plan's retention.

Also removes the temporary work folders of jobs that were killed (``isomix-stems-*`` and
the like, see :mod:`domain.work_dirs`) from this process's temporary folder.
"""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from business.services import accounts_plan_sweep
from domain.housekeeping import storage_orphans_delete
from model.broker import work_dirs_sweep
from model.services import jobs_sweep, projects_expired_remove

logger = logging.getLogger(__name__)


def housekeeping_once() -> dict[str, int]:
    swept = jobs_sweep(stale_after_s=settings.ISOMIX_JOB_STALE_AFTER_S)
    report = {
        "requeued": len(swept.requeued),
        "failed": len(swept.failed),
        "enqueued": len(swept.enqueued),
        "plans_changed": accounts_plan_sweep(),
        "expired": projects_expired_remove(),
        "orphans": len(storage_orphans_delete()),
        "work_dirs": len(work_dirs_sweep()),
    }
    if any(report.values()):
        logger.info("housekeeping: %s", report)
    return report


class Command(BaseCommand):
    help = (
        "Requeue or fail jobs whose worker stopped, send unsent jobs, delete expired projects, orphan files"
        " and the work folders of killed jobs."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--loop", type=float, default=0, help="repeat every SECONDS (0: run once)")

    def handle(self, *args, loop: float, **options) -> None:
        while True:
            self.stdout.write(str(housekeeping_once()))
            if not loop:
                return
            time.sleep(loop)
