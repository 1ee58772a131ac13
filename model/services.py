"""Starting work: uploads that become separation jobs, exports, retries.

Actors are enqueued only after the transaction that created their job commits
(:func:`_enqueue_on_commit`), so a worker never looks for a row that is not there yet.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from business.selectors import plan_limits_for_user
from domain.exceptions import ErrorCode, IsoMixError, NotReady
from domain.mix import EXPORT_MP3_BITRATE_DEFAULT, EXPORT_MP3_BITRATES, MixSettings
from domain.models import Export, Job, Project
from domain.services import (
    export_create,
    job_create,
    job_mark_enqueued,
    job_set_state,
    mix_settings_for_project,
    project_create,
    project_set_status,
    storage_delete_now,
    upload_inspect,
)


def _enqueue_on_commit(job: Job) -> None:
    from model.actors import actor_for_job_kind

    actor = actor_for_job_kind(job.kind)
    job_id = str(job.id)

    def send() -> None:
        actor.send(job_id)
        job_mark_enqueued(job_id=job_id)

    transaction.on_commit(send)


def project_upload(*, owner: AbstractBaseUser, upload: UploadedFile, name: str = "") -> Project:
    """Validate an upload, store it, and queue its separation.

    Bad input raises an ``IsoMixError`` and leaves nothing behind: no row, no file, no job.
    """
    limits = plan_limits_for_user(user=owner)
    with upload_inspect(
        upload=upload, max_bytes=limits.max_upload_bytes, max_duration_s=limits.max_duration_s
    ) as inspected:
        project: Project | None = None
        try:
            with transaction.atomic():
                project = project_create(
                    owner=owner, inspected=inspected, original_filename=upload.name or "", name=name
                )
                separation_start(project=project)
        except BaseException:
            if project is not None:
                storage_delete_now([project.original_key])
            raise
    return project


def separation_start(*, project: Project) -> Job:
    job = job_create(project=project, kind=Job.Kind.SEPARATE)
    _enqueue_on_commit(job)
    return job


def export_start(
    *,
    project: Project,
    fmt: str,
    mix: MixSettings,
    bitrate_kbps: int | None = None,
    region: str = Export.Region.ALL,
) -> Export:
    """Queue the render of ``project``'s stems with the mixer settings ``mix``.

    ``bitrate_kbps`` is the MP3's (one of ``EXPORT_MP3_BITRATES``, default
    ``EXPORT_MP3_BITRATE_DEFAULT``) and is not kept for lossless formats; ``region="loop"``
    renders only ``mix.loop``, which it then needs.
    """
    if project.status != Project.Status.READY:
        raise NotReady(_("The stems of this song are not ready yet."), code=ErrorCode.NOT_READY)
    limits = plan_limits_for_user(user=project.owner)
    if fmt not in limits.export_formats:
        raise IsoMixError(
            _("Your plan exports %(formats)s.") % {"formats": ", ".join(f.upper() for f in limits.export_formats)},
            code=ErrorCode.FORMAT_NOT_ALLOWED,
            extra={"formats": list(limits.export_formats)},
        )
    bitrate_kbps = _export_bitrate(fmt=fmt, bitrate_kbps=bitrate_kbps)
    if region not in Export.Region.values:
        raise IsoMixError(_("An export is of the whole song or of its loop."), code=ErrorCode.INVALID_INPUT)
    if region == Export.Region.LOOP and mix.loop is None:
        message = _("Set a loop region before exporting it.")
        raise IsoMixError(message, code=ErrorCode.INVALID_INPUT, extra={"fields": {"loop": [message]}})
    cleaned = mix_settings_for_project(project=project, mix=mix)
    with transaction.atomic():
        job = job_create(project=project, kind=Job.Kind.EXPORT)
        export = export_create(project=project, fmt=fmt, mix=cleaned, job=job, bitrate_kbps=bitrate_kbps, region=region)
        _enqueue_on_commit(job)
    return export


def _export_bitrate(*, fmt: str, bitrate_kbps: int | None) -> int | None:
    if fmt != Export.Format.MP3:
        return None  # lossless: a bit rate means nothing
    if bitrate_kbps is None:
        return EXPORT_MP3_BITRATE_DEFAULT
    if bitrate_kbps not in EXPORT_MP3_BITRATES:
        message = _("An MP3 is exported at %(rates)s kb/s.") % {"rates": ", ".join(map(str, EXPORT_MP3_BITRATES))}
        raise IsoMixError(message, code=ErrorCode.INVALID_INPUT, extra={"bitrates": list(EXPORT_MP3_BITRATES)})
    return bitrate_kbps


def job_retry(*, job: Job) -> Job:
    """Queue a failed job again (the operator's retry)."""
    with transaction.atomic():
        job = Job.objects.select_for_update().select_related("project").get(id=job.id)
        job_set_state(job=job, state=Job.State.QUEUED)
        if job.kind == Job.Kind.SEPARATE:
            project_set_status(project=job.project, status=Project.Status.PENDING)
        _enqueue_on_commit(job)
    return job


def jobs_orphaned_requeue() -> list[str]:
    """Queue again every job left running by a worker that is known to be gone.

    For the embedded default only, where the one process starting up holds the only
    worker: whatever was running when it stopped has no worker left. (With separate
    worker processes the stale-job sweep decides, by heartbeats.) The job keeps its
    attempt count; a message still in the broker for it and the one sent here are the
    same job, and only one of them can start it.
    """
    requeued = []
    for job_id in Job.objects.filter(state=Job.State.RUNNING).values_list("id", flat=True):
        with transaction.atomic():
            job = Job.objects.select_for_update().get(id=job_id)
            if job.state != Job.State.RUNNING:
                continue
            job_set_state(job=job, state=Job.State.QUEUED)
            _enqueue_on_commit(job)
        requeued.append(str(job_id))
    return requeued


@dataclass(frozen=True)
class SweepResult:
    requeued: list[str]
    failed: list[str]
    enqueued: list[str]


WORKER_LOST_MESSAGE = _("The worker processing this song stopped several times. Please try again later.")


def jobs_sweep(
    *, stale_after_s: float, unsent_after_s: float = 60.0, resend_after_s: float = 15 * 60, now: datetime | None = None
) -> SweepResult:
    """Rescue jobs that nothing will finish.

    - running, but the worker has not reported for ``stale_after_s`` (killed, machine
      lost): queued again, or failed for good once it has used its attempts;
    - queued in a committed transaction whose message never reached the broker (the
      process died between commit and send): sent now;
    - queued, sent more than ``resend_after_s`` ago and still not started: sent again, in
      case the broker dropped the message (it gives up on a message after its own retry
      count, which also counts failures before the job started). A job still waiting in a
      long queue gets one more message; only one of them can start it.
    """
    from model.actors import MAX_ATTEMPTS

    now = now or timezone.now()
    requeued, failed, enqueued = [], [], []
    stale = Job.objects.filter(state=Job.State.RUNNING, heartbeat_at__lt=now - timedelta(seconds=stale_after_s))
    for job_id in stale.values_list("id", flat=True):
        with transaction.atomic():
            job = Job.objects.select_for_update().select_related("project").get(id=job_id)
            if job.state != Job.State.RUNNING:
                continue
            if job.attempts >= MAX_ATTEMPTS:
                job_set_state(job=job, state=Job.State.FAILED, error="worker stopped heartbeating",
                              user_error=str(WORKER_LOST_MESSAGE))  # fmt: skip
                if job.kind == Job.Kind.SEPARATE:
                    project_set_status(project=job.project, status=Project.Status.FAILED, error=job.user_error)
                failed.append(str(job.id))
            else:
                job_set_state(job=job, state=Job.State.QUEUED)
                _enqueue_on_commit(job)
                requeued.append(str(job.id))
    unsent = Job.objects.filter(state=Job.State.QUEUED).filter(
        Q(enqueued_at__isnull=True, created_at__lt=now - timedelta(seconds=unsent_after_s))
        | Q(enqueued_at__lt=now - timedelta(seconds=resend_after_s))
    )
    for job in unsent:
        with transaction.atomic():
            _enqueue_on_commit(job)
        enqueued.append(str(job.id))
    return SweepResult(requeued=requeued, failed=failed, enqueued=enqueued)
