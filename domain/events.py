"""Progress events for the browser, published to the channel group of a project and to the
group of its owner.

Lives in ``domain`` so that background actors can publish without importing the
application layer. Events go out only after the surrounding transaction commits, so a
client that re-reads the REST status never sees a state the database does not hold.

Groups: ``project.<id>`` (the project page, ``/ws/projects/<id>/``) and ``user.<owner id>``
(the library, ``/ws/library/``, every project of the signed-in user). The event is the same
in both; it never names the owner.
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


def user_group(user_id: int | str) -> str:
    return f"user.{user_id}"


def job_progress_payload(job) -> dict[str, Any]:
    """The ``job.progress`` event; the page's JS reads the same names.

    A style sound's job (``kind == "style"``) has no project: ``project`` and ``project_status``
    are null and ``style`` names the sound (null for every other job).
    """
    on_project = job.project_id is not None
    return {
        "type": JOB_PROGRESS,
        "project": str(job.project_id) if on_project else None,
        "style": None if on_project else str(job.style_id),
        "job": str(job.id),
        "kind": job.kind,
        "state": job.state,
        "progress": job.progress,
        "stage": job.stage,
        "project_status": job.project.status if on_project else None,
        "user_error": job.user_error,
    }


def job_progress_publish(job) -> None:
    """Publish the job's state once the transaction in progress commits.

    The event is built at the commit, not at the call: what the same transaction records after
    the job's change (its project's status: an operator's retry sets it back to pending, the
    stale-job sweep fails it) is then in it, so the event says what was committed.
    """
    groups = [user_group(job.owner_id)]
    if job.project_id is not None:
        groups.insert(0, project_group(job.project_id))
    transaction.on_commit(lambda: _send(job_progress_payload(job), groups=groups))


def _send(payload: dict[str, Any], *, groups: list[str]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    for group in groups:
        try:
            async_to_sync(layer.group_send)(group, payload)
        except Exception:  # a lost progress event must never fail the job; REST stays the truth
            logger.warning("progress event of job %s not delivered to %s", payload["job"], group, exc_info=True)
