"""Background actors: thin glue from a job id to a pipeline and back to the domain.

Every actor: load the job → return if it is finished → mark it running → run the
pipeline with a progress callback → save through domain services → mark it done.
Re-running an actor writes the same keys, so a retry or a resumed job is safe.
This module holds the house actor, the job runner, separation and export; the karaoke jobs
(analysis, lyrics) are in :mod:`model.actors.karaoke`, the granular remix's (grain libraries,
remixes) in :mod:`model.actors.remix`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import dramatiq
from django.conf import settings
from django.db import connection, transaction
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from dramatiq.middleware import TimeLimitExceeded

from business.quotas import quota_commit, quota_release
from business.selectors import PlanLimits, plan_limits_for_user
from domain.exceptions import ErrorCode, IsoMixError, JobConflict, JobGone, NotReady
from domain.log_context import job_id_var
from domain.mix import MixSettings
from domain.models import Export, Job, Project
from domain.selectors import project_with_stems_by_sha
from domain.services import (
    export_file_save,
    job_engine_set,
    job_heartbeat,
    job_mark_enqueued,
    job_progress_set,
    job_set_state,
    job_target_failed,
    project_set_status,
    stems_save,
    stems_share,
    storage_local_copy,
)
from domain.work_dirs import WorkDirKind, work_dir
from model.engines.base import EngineError
from model.pipelines.media import MediaError, decode_audio, mixdown, stems_write
from model.progress import Progress
from model.queues import Queue

logger = logging.getLogger(__name__)

#: How many times a job runs before a transient error fails it for good.
MAX_ATTEMPTS = 3

#: Errors a retry cannot fix: bad input (``InvalidAudio`` and every other ``IsoMixError``),
#: an engine that cannot run this song or is missing its model, ffmpeg refusing the media.
#: They fail the job at once with a plain message; anything else is retried.
FINAL_ERRORS: tuple[type[BaseException], ...] = (IsoMixError, EngineError, MediaError)


#: Dramatiq's actor priority (lower runs first, within a worker): the plans' priority queues first.
PRIORITY_FIRST, PRIORITY_NORMAL = 0, 10


def isomix_actor(
    *, queue: Queue, time_limit_s: int, priority: int = PRIORITY_NORMAL
) -> Callable[[Callable[[str], None]], dramatiq.Actor]:
    """The house actor: names its queue and time limit; final errors are never retried."""

    def wrap(fn: Callable[[str], None]) -> dramatiq.Actor:
        return dramatiq.actor(
            fn,
            actor_name=fn.__name__,
            queue_name=str(queue),
            priority=priority,
            time_limit=time_limit_s * 1000,
            max_retries=MAX_ATTEMPTS - 1,
            min_backoff=1_000,
            max_backoff=30_000,
            throws=FINAL_ERRORS,
        )

    return wrap


Stages = list[tuple[str, float]]


def run_job(
    job_id: str,
    work: Callable[[Job, Progress], None],
    stages: Stages | Callable[[Job], Stages],
    *,
    then: Callable[[Job], None] | None = None,
) -> None:
    """Run ``work`` for the job (see the module's docstring); ``stages`` may depend on the job.

    ``then(job)`` runs once the job is done and recorded (what follows it is started there);
    its own failure is logged and does not undo the job.
    """
    token = job_id_var.set(job_id)
    try:
        _run_job_logged(job_id, work, stages, then)
    finally:
        job_id_var.reset(token)


def _run_job_logged(
    job_id: str,
    work: Callable[[Job, Progress], None],
    stages: Stages | Callable[[Job], Stages],
    then: Callable[[Job], None] | None,
) -> None:
    job = Job.objects.select_related("project", "style").filter(id=job_id).first()
    if job is None or job.state != Job.State.QUEUED:
        # Finished, deleted, or taken by another worker: a message delivered twice (the
        # broker's own redelivery beside the stale-job sweep) must not run the job twice.
        logger.info("job %s skipped: it is %s", job_id, "gone" if job is None else job.state)
        return
    if callable(stages):
        stages = stages(job)
    try:
        job_set_state(job=job, state=Job.State.RUNNING, stage=stages[0][0], progress=0)
    except (JobConflict, JobGone):
        logger.info("job %s skipped: another worker took it first", job_id)
        return
    logger.info("job %s started (attempt %s)", job.kind, job.attempts)
    try:
        with _heartbeat(job.id, attempt=job.attempts) as lost:
            progress = Progress(
                stages,
                lambda percent, stage: job_progress_set(job=job, progress=percent, stage=stage),
                check=lost.raise_if_lost,
            )
            work(job, progress)
        with transaction.atomic():  # the work counts against the plan once it is done
            job_set_state(job=job, state=Job.State.DONE)
            quota_commit(job_id=job.id)
    except (JobGone, JobConflict) as exc:
        # Deleted (or taken back) while it ran: whatever it wrote was removed on the way out.
        logger.info("job %s stopped: %s", job.kind, exc)
        return
    except FINAL_ERRORS as exc:
        _fail(job, technical=f"{type(exc).__name__}: {exc}", user_message=_user_message(exc, job=job))
        return
    except (Exception, TimeLimitExceeded) as exc:
        logger.exception("job %s (%s) failed on attempt %s", job.id, job.kind, job.attempts)
        technical = f"{type(exc).__name__}: {exc}"
        if isinstance(exc, TimeLimitExceeded) or job.attempts >= MAX_ATTEMPTS:
            _fail(job, technical=technical, user_message=str(_TRANSIENT_MESSAGES[job.kind]))
            return
        try:
            job_set_state(job=job, state=Job.State.QUEUED)
        except (JobGone, JobConflict):
            return
        job_mark_enqueued(job_id=job.id)  # Dramatiq sends the retry itself, after a back-off
        raise
    logger.info("job %s done in %.1f s", job.kind, job.duration_s or 0.0)
    if then is not None:
        try:
            then(job)
        except Exception:
            logger.exception("job %s: starting what follows it failed", job.id)


#: How often a running job tells the database its worker is alive (see model.services.jobs_sweep).
HEARTBEAT_EVERY_S = 15.0


class _Lost:
    """Set by the heartbeat when the job's row is gone or no longer running under us."""

    def __init__(self, job_id) -> None:
        self.job_id = job_id
        self.event = threading.Event()

    def raise_if_lost(self) -> None:
        if self.event.is_set():
            raise JobGone(gettext("This job's project was deleted."), code=ErrorCode.JOB_GONE)


@contextmanager
def _heartbeat(job_id, *, attempt: int) -> Iterator[_Lost]:
    """Beat for the job while the block runs, also through long steps that report no progress."""
    stop = threading.Event()
    lost = _Lost(job_id)

    def beat() -> None:
        try:
            while not stop.wait(HEARTBEAT_EVERY_S):
                try:
                    alive = job_heartbeat(job_id=job_id, attempt=attempt)
                except Exception:  # the database blinked: beat again next time, never stop beating
                    logger.warning("job %s: heartbeat failed; trying again", job_id, exc_info=True)
                    connection.close()
                    continue
                if not alive:
                    lost.event.set()
                    return
        finally:
            connection.close()

    thread = threading.Thread(target=beat, name=f"heartbeat-{job_id}", daemon=True)
    thread.start()
    try:
        yield lost
    finally:
        stop.set()
        thread.join(timeout=5)


_TRANSIENT_MESSAGES = {
    Job.Kind.SEPARATE: _("The separation failed. Please try again later; our team has the details."),
    Job.Kind.EXPORT: _("The export failed. Please try again; our team has the details."),
}  # and the karaoke jobs' (model.actors.karaoke), added below
_ENGINE_MESSAGES = {
    Job.Kind.SEPARATE: _("The separation engine could not process this song. Our team has the details."),
}  # and the karaoke jobs' (model.actors.karaoke), added below


def _user_message(exc: BaseException, *, job: Job) -> str:
    if isinstance(exc, IsoMixError):
        return exc.message
    if isinstance(exc, MediaError):
        return gettext(exc.user_message)  # marked for translation where it is raised
    return str(_ENGINE_MESSAGES.get(job.kind, _TRANSIENT_MESSAGES[job.kind]))


def _fail(job: Job, *, technical: str, user_message: str) -> None:
    try:
        # One transaction: the job's event is built at commit, and says the project failed too.
        with transaction.atomic():
            job_set_state(job=job, state=Job.State.FAILED, error=technical, user_error=user_message)
            quota_release(job_id=job.id)  # a failed job costs nothing
            job_target_failed(job=job, user_message=user_message)
    except (JobGone, JobConflict):
        logger.info("job %s: gone before its failure could be recorded", job.id)


# ---------------------------------------------------------------- separation


def _separate(job: Job, progress: Progress) -> None:
    from model.engines import get_engine, two_stems_of

    project = job.project
    two_stems = bool(job.params.get("two_stems"))
    # Separated again: the song keeps its stems, playable, until the new set replaces them.
    again = bool(job.params.get("again")) and project.stems.exists()
    if not again:
        project_set_status(project=project, status=Project.Status.PROCESSING)
    # The engine chosen at upload, by the plan then (a job made before plans: the installation's).
    engine = get_engine(
        job.engine or settings.ISOMIX_SEPARATION_ENGINE,
        model_dir=settings.ISOMIX_DEMUCS_MODEL_DIR,
        device=settings.ISOMIX_TORCH_DEVICE,
    )
    job_engine_set(job=job, engine=engine.name, model_name=engine.model_name)

    source = project_with_stems_by_sha(
        owner=project.owner,
        sha256=project.sha256,
        engine=engine.name,
        model_name=engine.model_name,
        two_stems=two_stems,
        exclude_id=project.id,
    )
    if source is None or not stems_share(source=source, target=project):
        # The limits the song was accepted under, whatever the owner's plan is now.
        limits = PlanLimits.from_snapshot(project.limits, fallback=plan_limits_for_user(user=project.owner))
        with storage_local_copy(project.original_key) as path:
            audio = decode_audio(path=path, sr=project.sample_rate, max_duration_s=limits.max_duration_s)
        progress.update("separate", 0.0)
        stems = engine.separate(audio, sr=project.sample_rate, progress=progress.callback("separate"))
        del audio
        if two_stems:
            stems = two_stems_of(stems)
        progress.update("encode", 0.0)
        with work_dir(kind=WorkDirKind.STEMS) as tmpdir:
            files = stems_write(stems=stems, sr=project.sample_rate, out_dir=Path(tmpdir))
            del stems
            progress.update("encode", 0.5)  # stops here if the project was deleted meanwhile
            stems_save(project=project, stems=files, version=job.id.hex[:12] if again else "")
    project_set_status(project=project, status=Project.Status.READY, engine=engine.name, model_name=engine.model_name)


_SEPARATE_STAGES = [("decode", 10), ("separate", 80), ("encode", 10)]


def _after_separation(job: Job) -> None:
    from model.services import karaoke_start

    karaoke_start(project=job.project, only_missing=bool(job.params.get("again")))


@isomix_actor(queue=Queue.GPU, time_limit_s=60 * 60)
def separate_stems(job_id: str) -> None:
    run_job(job_id, _separate, _SEPARATE_STAGES, then=_after_separation)


@isomix_actor(queue=Queue.GPU_PRIORITY, time_limit_s=60 * 60, priority=PRIORITY_FIRST)
def separate_stems_priority(job_id: str) -> None:
    run_job(job_id, _separate, _SEPARATE_STAGES, then=_after_separation)


# ---------------------------------------------------------------- export


def _export(job: Job, progress: Progress) -> None:
    export = job.export
    project = job.project
    keys = {s.kind: s.file_key for s in project.stems.all()}
    mix = MixSettings.from_json(export.settings)
    if any(kind.startswith("remix_") for kind in mix.stems):
        # The re-voiced stems the mixer had when the export was asked for (a newer remix does not
        # stand in for them: the settings were made for these).
        if export.remix is None:
            raise NotReady(
                gettext("The remix this export was mixed with was deleted. Mix it again and export."),
                code=ErrorCode.NOT_READY,
            )
        keys.update({t.track: t.file_key for t in export.remix.tracks.all()})
    with ExitStack() as stack, work_dir(kind=WorkDirKind.EXPORT) as tmpdir:
        paths = {kind: stack.enter_context(storage_local_copy(key)) for kind, key in keys.items()}
        progress.update("render", 0.0)
        karaoke_bundle = export.format == Export.Format.KARAOKE
        fmt = Export.Format.MP3 if karaoke_bundle else export.format  # a bundle holds the mix as MP3
        out = mixdown(
            stems=paths,
            mix=mix,
            fmt=fmt,
            out=Path(tmpdir) / f"mix.{fmt}",
            sr=project.sample_rate,
            bitrate_kbps=export.bitrate_kbps,
            loop=mix.loop if export.region == Export.Region.LOOP else None,
        )
        if karaoke_bundle:
            out = karaoke.bundle_write(export=export, mix_path=out, out=Path(tmpdir) / "bundle.zip")
        progress.update("store", 0.0)
        export_file_save(export=export, path=out)


_EXPORT_STAGES = [("render", 90), ("store", 10)]


@isomix_actor(queue=Queue.CPU, time_limit_s=15 * 60)
def export_mix(job_id: str) -> None:
    run_job(job_id, _export, _EXPORT_STAGES)


@isomix_actor(queue=Queue.CPU_PRIORITY, time_limit_s=15 * 60, priority=PRIORITY_FIRST)
def export_mix_priority(job_id: str) -> None:
    run_job(job_id, _export, _EXPORT_STAGES)


from model.actors import karaoke, remix  # noqa: E402  (their actors use the house decorator above)

_ACTORS = {
    (Job.Kind.SEPARATE, False): separate_stems,
    (Job.Kind.SEPARATE, True): separate_stems_priority,
    (Job.Kind.EXPORT, False): export_mix,
    (Job.Kind.EXPORT, True): export_mix_priority,
    **karaoke.ACTORS,
    **remix.ACTORS,
}
for _jobs in (karaoke, remix):
    _TRANSIENT_MESSAGES.update(_jobs.TRANSIENT_MESSAGES)
    _ENGINE_MESSAGES.update(_jobs.ENGINE_MESSAGES)


def actor_for_job(job: Job) -> dramatiq.Actor:
    """The actor of the job's kind, on the priority queue when its plan has priority."""
    return _ACTORS[(job.kind, job.priority)]
