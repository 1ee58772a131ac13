"""Starting work: uploads that become separation jobs, exports, retries (the karaoke jobs, which
follow a separation, are started from :mod:`model.services.karaoke`).

Actors are enqueued only after the transaction that created their job commits
(:func:`_enqueue_on_commit`), so a worker never looks for a row that is not there yet.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from business.exceptions import PlanRequired
from business.models import UsageRecord
from business.quotas import quota_release, quota_reopen, quota_reserve
from business.selectors import PlanLimits, plan_limits_for_user
from domain.exceptions import ErrorCode, IsoMixError, NotReady
from domain.mix import EXPORT_MP3_BITRATE_DEFAULT, EXPORT_MP3_BITRATES, MixSettings
from domain.models import Export, Job, Lyrics, Project
from domain.selectors import remix_latest_done
from domain.services import (
    export_create,
    job_create,
    job_mark_enqueued,
    job_set_state,
    job_target_failed,
    mix_settings_for_project,
    project_create,
    project_delete,
    project_set_status,
    storage_delete_now,
    style_set_pending,
    upload_inspect,
)


def _enqueue_on_commit(job: Job) -> None:
    from model.actors import actor_for_job

    actor = actor_for_job(job)
    job_id = str(job.id)

    def send() -> None:
        actor.send(job_id)
        job_mark_enqueued(job_id=job_id)

    transaction.on_commit(send)


def project_upload(
    *, owner: AbstractBaseUser, upload: UploadedFile, name: str = "", engine: str = "", two_stems: bool = False
) -> Project:
    """Validate an upload against the owner's plan, store it, and queue its separation with
    ``engine`` (empty: the installation's default for the plan), into two stems if asked.

    The plan's allowances are reserved in the transaction that records the project (an upload
    of the day, the song's minutes × stems of the month, a job slot), so of concurrent uploads
    only as many as the allowance holds get through. Bad input and a reached limit raise an
    ``IsoMixError`` and leave nothing behind: no row, no file, no job, no reservation.
    """
    limits = plan_limits_for_user(user=owner)
    engine = separation_engine_pick(limits=limits, engine=engine)  # before the file is probed
    with upload_inspect(
        upload=upload, max_bytes=limits.max_upload_bytes, max_duration_s=limits.max_duration_s
    ) as inspected:
        seconds = math.ceil(inspected.info.duration_s) * engine_stem_count(engine, two_stems=two_stems)
        project: Project | None = None
        try:
            with transaction.atomic():
                # First in the transaction: the reservation orders concurrent uploads (business.quotas).
                reservation = quota_reserve(
                    user=owner,
                    amounts={UsageRecord.Metric.UPLOADS: 1, UsageRecord.Metric.SEPARATION_SECONDS: seconds},
                )
                limits = reservation.limits  # as read under the lock
                project = project_create(
                    owner=owner,
                    inspected=inspected,
                    original_filename=upload.name or "",
                    name=name,
                    retention_days=limits.retention_days,
                    limits=limits.to_snapshot(),
                )
                job = separation_start(project=project, engine=engine, priority=limits.priority, two_stems=two_stems)
                reservation.attach(job_id=job.id)
        except BaseException:
            if project is not None:
                storage_delete_now([project.original_key])
            raise
    return project


def separation_start(*, project: Project, engine: str = "", priority: bool = False, two_stems: bool = False) -> Job:
    params = {"two_stems": True} if two_stems else None
    job = job_create(project=project, kind=Job.Kind.SEPARATE, engine=engine, priority=priority, params=params)
    _enqueue_on_commit(job)
    return job


def projects_expired_remove(*, now: datetime | None = None) -> int:
    """Delete the projects whose retention is over (``project_remove``: what their unfinished jobs
    had reserved goes back too). Returns how many it deleted."""
    now = now or timezone.now()
    count = 0
    for project in Project.objects.filter(expires_at__lte=now):
        project_remove(project=project)
        count += 1
    return count


def project_remove(*, project: Project) -> None:
    """Delete a project at its owner's (or an operator's) request: what its unfinished jobs had
    reserved of the plan goes back, then the project and its files go (domain.project_delete)."""
    with transaction.atomic():
        for job_id in project.jobs.exclude(state__in=Job.FINISHED).values_list("id", flat=True):
            quota_release(job_id=job_id)
        project_delete(project=project)


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
    bitrate_kbps = _export_bitrate(fmt=fmt, bitrate_kbps=bitrate_kbps, limits=limits)
    export_allowed_check(limits=limits, fmt=fmt, bitrate_kbps=bitrate_kbps)
    if fmt == Export.Format.KARAOKE and not Lyrics.objects.filter(project=project).exclude(lines=[]).exists():
        raise NotReady(_("This song has no lyrics yet: make them in the karaoke view first."), code=ErrorCode.NOT_READY)
    if region not in Export.Region.values:
        raise IsoMixError(_("An export is of the whole song or of its loop."), code=ErrorCode.INVALID_INPUT)
    if region == Export.Region.LOOP and mix.loop is None:
        message = _("Set a loop region before exporting it.")
        raise IsoMixError(message, code=ErrorCode.INVALID_INPUT, extra={"fields": {"loop": [message]}})
    cleaned = mix_settings_for_project(project=project, mix=mix)
    with transaction.atomic():
        quota_reserve(user=project.owner, amounts={})  # a job slot of the plan
        job = job_create(project=project, kind=Job.Kind.EXPORT, priority=limits.priority)
        export = export_create(
            project=project, fmt=fmt, mix=cleaned, job=job, bitrate_kbps=bitrate_kbps, region=region,
            remix=remix_latest_done(project=project),  # the mixer's re-voiced stems, as it had them
        )  # fmt: skip
        _enqueue_on_commit(job)
    return export


def export_allowed_check(*, limits: PlanLimits, fmt: str, bitrate_kbps: int | None) -> None:
    """Raise ``PlanRequired`` (402) for an export the plan does not include: a format it lacks, or
    an MP3 above its best bit rate. A karaoke bundle holds an MP3: it is allowed as that MP3 is."""
    if fmt == Export.Format.KARAOKE:
        fmt = Export.Format.MP3
    if fmt not in limits.export_formats:
        raise PlanRequired(
            _("%(format)s exports are part of Pro. Your %(plan)s plan exports %(formats)s.")
            % {"format": fmt.upper(), "plan": limits.name,
               "formats": ", ".join(f.upper() for f in limits.export_formats)},
            extra={"formats": list(limits.export_formats), "mp3_max_kbps": limits.mp3_max_kbps},
        )  # fmt: skip
    if fmt == Export.Format.MP3 and bitrate_kbps is not None and bitrate_kbps > limits.mp3_max_kbps:
        raise PlanRequired(
            _("MP3 at %(rate)d kb/s is part of Pro. Your %(plan)s plan exports MP3 up to %(max)d kb/s.")
            % {"rate": bitrate_kbps, "plan": limits.name, "max": limits.mp3_max_kbps},
            extra={"formats": list(limits.export_formats), "mp3_max_kbps": limits.mp3_max_kbps},
        )


def stems_archive_allowed_check(*, user: AbstractBaseUser) -> None:
    """Raise ``PlanRequired`` (402) when the user's plan has no zip of the stems."""
    limits = plan_limits_for_user(user=user)
    if not limits.stems_zip:
        raise PlanRequired(
            _("A zip of all the stems is part of Pro. On the %(plan)s plan, download each stem on its own.")
            % {"plan": limits.name}
        )


def _export_bitrate(*, fmt: str, bitrate_kbps: int | None, limits: PlanLimits) -> int | None:
    if fmt not in (Export.Format.MP3, Export.Format.KARAOKE):
        return None  # lossless: a bit rate means nothing
    if bitrate_kbps is None:
        # The default, or the plan's best rate where an operator set that lower.
        allowed = [r for r in EXPORT_MP3_BITRATES if r <= limits.mp3_max_kbps] or [EXPORT_MP3_BITRATES[0]]
        return min(EXPORT_MP3_BITRATE_DEFAULT, max(allowed))
    if bitrate_kbps not in EXPORT_MP3_BITRATES:
        message = _("An MP3 is exported at %(rates)s kb/s.") % {"rates": ", ".join(map(str, EXPORT_MP3_BITRATES))}
        raise IsoMixError(message, code=ErrorCode.INVALID_INPUT, extra={"bitrates": list(EXPORT_MP3_BITRATES)})
    return bitrate_kbps


def job_retry(*, job: Job) -> Job:
    """Queue a failed job again (the operator's retry)."""
    with transaction.atomic():
        job = Job.objects.select_for_update(of=("self",)).select_related("project", "style").get(id=job.id)
        job_set_state(job=job, state=Job.State.QUEUED)
        quota_reopen(job_id=job.id)
        if job.kind == Job.Kind.SEPARATE and job.project.status != Project.Status.READY:
            # (A song separated again stays ready, with the stems it has, while it is retried.)
            project_set_status(project=job.project, status=Project.Status.PENDING)
        elif job.kind == Job.Kind.STYLE:
            style_set_pending(style=job.style)
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
WORKER_LOST_STYLE_MESSAGE = gettext_lazy(
    "The worker cutting this sound into grains stopped several times. Please try again later."
)


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
            job = Job.objects.select_for_update(of=("self",)).select_related("project", "style").get(id=job_id)
            if job.state != Job.State.RUNNING:
                continue
            if job.attempts >= MAX_ATTEMPTS:
                job_set_state(job=job, state=Job.State.FAILED, error="worker stopped heartbeating",
                              user_error=str(WORKER_LOST_STYLE_MESSAGE if job.kind == Job.Kind.STYLE
                                             else WORKER_LOST_MESSAGE))  # fmt: skip
                quota_release(job_id=job.id)
                job_target_failed(job=job, user_message=job.user_error)
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


from model.services.karaoke import (  # noqa: E402, F401  (re-exported; they enqueue through the helper above)
    analysis_start,
    karaoke_start,
    lyrics_edit,
    lyrics_start,
)
from model.services.separation import (  # noqa: E402, F401  (re-exported; they enqueue through the helper above)
    engine_stem_count,
    separation_again,
    separation_choices,
    separation_engine_for,
    separation_engine_pick,
)
