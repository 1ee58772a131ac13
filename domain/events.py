"""Progress events for the browser, published to the channel group of a project.

Lives in ``domain`` so that background actors can publish without importing the
application layer. Events go out only after the surrounding transaction commits, so a
client that re-reads the REST status never sees a state the database does not hold.
"""

from __future__ import annotations

import logging
from typing import Any
from uuid import UUID

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)

JOB_PROGRESS = "job.progress"


def project_group(project_id: UUID | str) -> str:
    return f"project.{project_id}"


def job_progress_payload(job) -> dict[str, Any]:
    """The ``job.progress`` event; the page's JS reads the same names."""
    return {
        "type": JOB_PROGRESS,
        "project": str(job.project_id),
        "job": str(job.id),
        "kind": job.kind,
        "state": job.state,
        "progress": job.progress,
        "stage": job.stage,
        "project_status": job.project.status,
        "user_error": job.user_error,
    }


def job_progress_publish(job) -> None:
    """Publish the job's current state once the transaction in progress commits."""
    payload = job_progress_payload(job)
    transaction.on_commit(lambda: _send(payload))


def _send(payload: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(project_group(payload["project"]), payload)
    except Exception:  # a lost progress event must never fail the job; REST stays the truth
        logger.warning("progress event for project %s not delivered", payload["project"], exc_info=True)
