"""Jobs: their state machine, progress and liveness, each write published after it commits."""

from __future__ import annotations

from uuid import UUID

from django.utils import timezone
from django.utils.translation import gettext as _

from domain.events import job_progress_publish
from domain.exceptions import ErrorCode, JobConflict, JobGone, JobNotRetryable
from domain.models import Job, Project, StyleSound


def job_create(
    *,
    project: Project | None = None,
    style: StyleSound | None = None,
    kind: str,
    engine: str = "",
    priority: bool = False,
    params: dict | None = None,
) -> Job:
    """A queued job of a song (``project``) or, for a grain library, of a style sound (``style``);
    ``engine`` is the separation engine chosen for it at upload (by its plan), ``params`` what it
    was asked beyond its kind (``Job.params``)."""
    job = Job(project=project, style=style, kind=kind, engine=engine, priority=priority, params=params or {})
    job.full_clean()
    job.save(force_insert=True)
    return job


_TRANSITIONS: dict[str, set[str]] = {
    Job.State.QUEUED: {Job.State.RUNNING, Job.State.FAILED, Job.State.CANCELLED},
    # No running → running: a job another worker runs (or ran, before it died) is taken back
    # only by the stale-job sweep (running → queued), never by a second message for it.
    Job.State.RUNNING: {Job.State.QUEUED, Job.State.DONE, Job.State.FAILED, Job.State.CANCELLED},
    Job.State.FAILED: {Job.State.QUEUED},
    Job.State.DONE: set(),
    Job.State.CANCELLED: set(),
}

_JOB_STATE_FIELDS = [
    "state", "heartbeat_at", "started_at", "finished_at", "attempts", "error", "user_error", "enqueued_at",
    "progress", "stage", "engine", "model_name",
]  # fmt: skip


def job_set_state(
    *,
    job: Job,
    state: str,
    stage: str | None = None,
    progress: int | None = None,
    error: str = "",
    user_error: str = "",
    engine: str | None = None,
    model_name: str | None = None,
) -> Job:
    """Move ``job`` to ``state`` (checked against the allowed transitions) and publish it.

    The write is a compare-and-set on the state ``job`` was read in, so of two workers
    handed the same job (a message delivered twice) exactly one moves it.

    Raises
    ------
    JobNotRetryable
        The transition is not allowed.
    JobConflict
        The row is no longer in the state ``job`` was read in: someone else moved it.
    JobGone
        The row was deleted (its project was deleted).
    """
    if state not in _TRANSITIONS[job.state]:
        raise JobNotRetryable(
            _("A job that is %(state)s cannot become %(new)s.") % {"state": job.state, "new": state},
            code=ErrorCode.JOB_NOT_RETRYABLE,
        )
    was, was_attempts = job.state, job.attempts
    now = timezone.now()
    job.state = state
    job.heartbeat_at = now if state == Job.State.RUNNING else None
    if state == Job.State.RUNNING:
        job.started_at = now
        job.finished_at = None
        job.attempts += 1
        job.error = job.user_error = ""
    elif state == Job.State.QUEUED:
        job.enqueued_at = None
        job.progress = 0
        job.stage = ""
        job.started_at = job.finished_at = None
        job.error = job.user_error = ""
    else:
        job.finished_at = now
    if state == Job.State.DONE:
        job.progress = 100
    if stage is not None:
        job.stage = stage
    if progress is not None:
        job.progress = progress
    if state == Job.State.FAILED:
        job.error = error
        job.user_error = user_error or _("Something went wrong while processing this song.")
    if engine is not None:
        job.engine = engine
    if model_name is not None:
        job.model_name = model_name
    job.full_clean(exclude=["project", "style"], validate_unique=False)
    # The attempt number too: a worker whose run the sweep took back (and another worker
    # started again) is on an older attempt, and none of its writes may land.
    moved = Job.objects.filter(id=job.id, state=was, attempts=was_attempts).update(
        **{f: getattr(job, f) for f in _JOB_STATE_FIELDS}
    )
    if not moved:
        job.state, job.attempts = was, was_attempts
        _job_missing_or_moved(job_id=job.id)
    job_progress_publish(job)
    return job


def _job_missing_or_moved(*, job_id: UUID) -> None:
    if Job.objects.filter(id=job_id).exists():
        raise JobConflict(_("Another worker has this job."), code=ErrorCode.JOB_CONFLICT)
    raise JobGone(_("This job's project was deleted."), code=ErrorCode.JOB_GONE)


def job_mark_enqueued(*, job_id: UUID | str) -> None:
    """Record that the job's message reached the broker (see ``model.services.jobs_sweep``)."""
    Job.objects.filter(id=job_id).update(enqueued_at=timezone.now())


def job_heartbeat(*, job_id: UUID | str, attempt: int) -> bool:
    """The worker running ``attempt`` of this job is alive.

    False when that run is over: the job is gone, no longer running, or running again as
    a later attempt (the sweep took it back and another worker started it).
    """
    return bool(
        Job.objects.filter(id=job_id, state=Job.State.RUNNING, attempts=attempt).update(heartbeat_at=timezone.now())
    )


def job_progress_set(*, job: Job, progress: int, stage: str) -> None:
    """Record a running job's progress without touching the rest of the row.

    Raises ``JobGone`` when the job was deleted meanwhile, so the work stops at once.
    """
    job.progress = progress
    job.stage = stage
    job.heartbeat_at = timezone.now()
    updated = Job.objects.filter(id=job.id, state=Job.State.RUNNING, attempts=job.attempts).update(
        progress=progress, stage=stage, heartbeat_at=job.heartbeat_at
    )
    if not updated:
        _job_missing_or_moved(job_id=job.id)
    job_progress_publish(job)


def job_engine_set(*, job: Job, engine: str, model_name: str) -> None:
    """Record which engine and model a running job uses."""
    job.engine, job.model_name = engine, model_name
    Job.objects.filter(id=job.id).update(engine=engine, model_name=model_name)


def job_target_failed(*, job: Job, user_message: str) -> None:
    """What a job's failure does to what it worked on: a separation fails its song, a grain library
    its style sound (the other jobs' targets stay as they were: a failed export leaves the song
    ready; a song separated again keeps its earlier stems). Call it in the transaction that fails
    the job."""
    from domain.services.projects import project_set_status
    from domain.services.remix import style_set_failed

    if job.kind == Job.Kind.SEPARATE:
        if job.params.get("again") and job.project.status == Project.Status.READY and job.project.stems.exists():
            return  # separated again: the song keeps the stems it had
        project_set_status(project=job.project, status=Project.Status.FAILED, error=user_message)
    elif job.kind == Job.Kind.STYLE:
        style_set_failed(style=job.style, user_error=user_message)
