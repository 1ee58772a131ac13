"""Background actors: thin glue from a job id to a pipeline and back to the domain.

Every actor: load the job → return if it is finished → mark it running → run the
pipeline with a progress callback → save through domain services → mark it done.
Re-running an actor writes the same keys, so a retry or a resumed job is safe.
"""

from __future__ import annotations

import logging
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import dramatiq
from django.conf import settings
from django.db import connection
from dramatiq.middleware import TimeLimitExceeded

from business.selectors import plan_limits_for_user
from domain.exceptions import InvalidAudio
from domain.log_context import job_id_var
from domain.models import Job, Project
from domain.selectors import project_with_stems_by_sha
from domain.services import (
    export_file_save,
    job_engine_set,
    job_heartbeat,
    job_progress_set,
    job_set_state,
    project_set_status,
    stems_copy,
    stems_save,
    storage_local_copy,
)
from model.pipelines.media import MediaError, StemMix, decode_audio, mixdown, stems_write
from model.progress import Progress

logger = logging.getLogger(__name__)

#: How many times a job runs before a transient error fails it for good.
MAX_ATTEMPTS = 3


class FinalError(Exception):
    """An error a retry cannot fix; ``user_message`` is shown to the user."""

    def __init__(self, technical: str, *, user_message: str) -> None:
        super().__init__(technical)
        self.user_message = user_message


def isomix_actor(*, queue: str, time_limit_s: int) -> Callable[[Callable[[str], None]], dramatiq.Actor]:
    """The house actor: names its queue and time limit; bad input is never retried."""

    def wrap(fn: Callable[[str], None]) -> dramatiq.Actor:
        return dramatiq.actor(
            fn,
            actor_name=fn.__name__,
            queue_name=queue,
            time_limit=time_limit_s * 1000,
            max_retries=MAX_ATTEMPTS - 1,
            min_backoff=1_000,
            max_backoff=30_000,
            throws=(FinalError, InvalidAudio, MediaError),
        )

    return wrap


def _run_job(job_id: str, work: Callable[[Job, Progress], None], stages: list[tuple[str, float]]) -> None:
    token = job_id_var.set(job_id)
    try:
        _run_job_logged(job_id, work, stages)
    finally:
        job_id_var.reset(token)


def _run_job_logged(job_id: str, work: Callable[[Job, Progress], None], stages: list[tuple[str, float]]) -> None:
    job = Job.objects.select_related("project").filter(id=job_id).first()
    if job is None or job.is_finished:
        return
    job_set_state(job=job, state=Job.State.RUNNING, stage=stages[0][0], progress=0)
    logger.info("job %s started (attempt %s)", job.kind, job.attempts)
    progress = Progress(stages, lambda percent, stage: job_progress_set(job=job, progress=percent, stage=stage))
    try:
        with _heartbeat(job.id):
            work(job, progress)
    except (FinalError, InvalidAudio, MediaError) as exc:
        message = getattr(exc, "user_message", None) or getattr(exc, "message", str(exc))
        _fail(job, technical=f"{type(exc).__name__}: {exc}", user_message=message)
        return
    except (Exception, TimeLimitExceeded) as exc:
        logger.exception("job %s (%s) failed on attempt %s", job.id, job.kind, job.attempts)
        technical = f"{type(exc).__name__}: {exc}"
        if isinstance(exc, TimeLimitExceeded) or job.attempts >= MAX_ATTEMPTS:
            _fail(job, technical=technical, user_message=_TRANSIENT_MESSAGES[job.kind])
            return
        job_set_state(job=job, state=Job.State.QUEUED)
        raise  # Dramatiq retries it after a back-off
    job_set_state(job=job, state=Job.State.DONE)
    logger.info("job %s done in %.1f s", job.kind, job.duration_s or 0.0)


#: How often a running job tells the database its worker is alive (see model.services.jobs_sweep).
HEARTBEAT_EVERY_S = 15.0


@contextmanager
def _heartbeat(job_id) -> Iterator[None]:
    """Beat for the job while the block runs, also through long steps that report no progress."""
    stop = threading.Event()

    def beat() -> None:
        try:
            while not stop.wait(HEARTBEAT_EVERY_S):
                job_heartbeat(job_id=job_id)
        finally:
            connection.close()

    thread = threading.Thread(target=beat, name=f"heartbeat-{job_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=5)


_TRANSIENT_MESSAGES = {
    Job.Kind.SEPARATE: "The separation failed. Please try again later; our team has the details.",
    Job.Kind.EXPORT: "The export failed. Please try again; our team has the details.",
}


def _fail(job: Job, *, technical: str, user_message: str) -> None:
    job_set_state(job=job, state=Job.State.FAILED, error=technical, user_error=user_message)
    if job.kind == Job.Kind.SEPARATE:
        project_set_status(project=job.project, status=Project.Status.FAILED, error=user_message)


# ---------------------------------------------------------------- separation


def _separate(job: Job, progress: Progress) -> None:
    from model.engines import get_engine

    project = job.project
    project_set_status(project=project, status=Project.Status.PROCESSING)
    engine = get_engine(
        settings.ISOMIX_SEPARATION_ENGINE,
        model_dir=settings.ISOMIX_DEMUCS_MODEL_DIR,
        device=settings.ISOMIX_TORCH_DEVICE,
    )
    job_engine_set(job=job, engine=engine.name, model_name=engine.model_name)

    source = project_with_stems_by_sha(sha256=project.sha256, engine=engine.name, exclude_id=project.id)
    if source is not None and source.stems.all():  # prefetched by the selector
        progress.update("reuse", 0.0)
        stems_copy(source=source, target=project)
    else:
        limits = plan_limits_for_user(user=project.owner)
        with storage_local_copy(project.original_key) as path:
            audio = decode_audio(path=path, sr=project.sample_rate, max_duration_s=limits.max_duration_s)
        progress.update("separate", 0.0)
        stems = engine.separate(audio, sr=project.sample_rate, progress=progress.callback("separate"))
        del audio
        progress.update("encode", 0.0)
        with tempfile.TemporaryDirectory(prefix="isomix-stems-") as tmpdir:
            files = stems_write(stems=stems, sr=project.sample_rate, out_dir=Path(tmpdir))
            del stems
            stems_save(project=project, stems=files)
    project_set_status(
        project=project, status=Project.Status.READY, engine=engine.name, model_name=engine.model_name
    )


@isomix_actor(queue="gpu", time_limit_s=60 * 60)
def separate_stems(job_id: str) -> None:
    _run_job(job_id, _separate, [("decode", 10), ("separate", 80), ("encode", 10), ("reuse", 0)])


# ---------------------------------------------------------------- export


def _export(job: Job, progress: Progress) -> None:
    export = job.export
    project = job.project
    stems = {s.kind: s for s in project.stems.all()}
    mix = {kind: StemMix(**export.settings["stems"][kind]) for kind in stems if kind in export.settings["stems"]}
    with ExitStack() as stack, tempfile.TemporaryDirectory(prefix="isomix-export-") as tmpdir:
        paths = {kind: stack.enter_context(storage_local_copy(s.file_key)) for kind, s in stems.items()}
        progress.update("render", 0.0)
        out = mixdown(
            stems=paths,
            mix=mix,
            master_gain_db=float(export.settings.get("master_gain_db", 0.0)),
            fmt=export.format,
            out=Path(tmpdir) / f"mix.{export.format}",
            sr=project.sample_rate,
        )
        progress.update("store", 0.0)
        export_file_save(export=export, path=out)


@isomix_actor(queue="cpu", time_limit_s=15 * 60)
def export_mix(job_id: str) -> None:
    _run_job(job_id, _export, [("render", 90), ("store", 10)])


_ACTORS = {Job.Kind.SEPARATE: separate_stems, Job.Kind.EXPORT: export_mix}


def actor_for_job_kind(kind: str) -> dramatiq.Actor:
    return _ACTORS[kind]
