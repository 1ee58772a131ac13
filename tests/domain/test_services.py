"""Job state transitions and storage writes."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.storage import default_storage

from domain.exceptions import JobConflict, JobGone, JobNotRetryable
from domain.mix import MixSettings
from domain.models import Job, Project, Stem
from domain.services import (
    export_file_save,
    job_create,
    job_heartbeat,
    job_progress_set,
    job_set_state,
    project_delete,
    project_set_status,
    stems_save,
    storage_put,
)
from domain.stem_files import StemFiles
from tests.factories import project_create_ready, user_create
from tests.helpers import stored_files

pytestmark = pytest.mark.django_db


def test_job_runs_to_done_with_timings(media):
    job = job_create(project=project_create_ready(owner=user_create(), duration_s=0.5), kind=Job.Kind.EXPORT)

    job_set_state(job=job, state=Job.State.RUNNING, stage="render")
    job_set_state(job=job, state=Job.State.DONE)

    job.refresh_from_db()
    assert job.state == "done" and job.progress == 100 and job.attempts == 1
    assert job.duration_s is not None and job.duration_s >= 0


@pytest.mark.parametrize("final", [Job.State.DONE, Job.State.CANCELLED])
def test_finished_job_cannot_move(media, final):
    job = job_create(project=project_create_ready(owner=user_create(), duration_s=0.5), kind=Job.Kind.EXPORT)
    job_set_state(job=job, state=Job.State.RUNNING)
    job_set_state(job=job, state=final)

    with pytest.raises(JobNotRetryable):
        job_set_state(job=job, state=Job.State.RUNNING)

    assert Job.objects.get(id=job.id).state == final


def test_failed_job_keeps_both_messages(media):
    job = job_create(project=project_create_ready(owner=user_create(), duration_s=0.5), kind=Job.Kind.EXPORT)
    job_set_state(job=job, state=Job.State.RUNNING)

    job_set_state(job=job, state=Job.State.FAILED, error="OSError: disk full", user_error="The export failed.")

    job.refresh_from_db()
    assert (job.error, job.user_error) == ("OSError: disk full", "The export failed.")


def test_storage_put_replaces_the_same_key(media, tmp_path):
    first, second = tmp_path / "a.bin", tmp_path / "b.bin"
    first.write_bytes(b"first")
    second.write_bytes(b"second")

    storage_put(key="stems/x/vocals.flac", content=first)
    storage_put(key="stems/x/vocals.flac", content=second)

    assert (media / "stems/x/vocals.flac").read_bytes() == b"second"
    assert sorted(p.name for p in (media / "stems/x").iterdir()) == ["vocals.flac"]


def test_a_running_job_cannot_be_started_again(media):
    job = job_create(project=project_create_ready(owner=user_create(), duration_s=0.5), kind=Job.Kind.SEPARATE)
    job_set_state(job=job, state=Job.State.RUNNING)

    with pytest.raises(JobNotRetryable):
        job_set_state(job=job, state=Job.State.RUNNING)

    assert Job.objects.get(id=job.id).attempts == 1


def test_of_two_workers_holding_the_same_queued_job_one_starts_it(media):
    job = job_create(project=project_create_ready(owner=user_create(), duration_s=0.5), kind=Job.Kind.SEPARATE)
    first, second = Job.objects.get(id=job.id), Job.objects.get(id=job.id)  # both read it queued

    job_set_state(job=first, state=Job.State.RUNNING)
    with pytest.raises(JobConflict):
        job_set_state(job=second, state=Job.State.RUNNING)

    row = Job.objects.get(id=job.id)
    assert row.state == Job.State.RUNNING and row.attempts == 1
    assert second.state == Job.State.QUEUED  # the loser's copy is left as it was read


def test_a_late_write_does_not_bring_back_a_deleted_project(media, django_capture_on_commit_callbacks):
    project = project_create_ready(owner=user_create(), duration_s=0.5)
    job = Job.objects.get(project=project)
    stale_project = Project.objects.get(id=project.id)
    with django_capture_on_commit_callbacks(execute=True):
        project_delete(project=project)

    with pytest.raises(JobGone):
        project_set_status(project=stale_project, status=Project.Status.READY)
    with pytest.raises(JobGone):
        job_progress_set(job=job, progress=50, stage="separate")

    assert Project.objects.count() == 0 and Job.objects.count() == 0


def test_stems_saved_for_a_deleted_project_are_removed(media, tmp_path, django_capture_on_commit_callbacks):
    project = project_create_ready(owner=user_create(), duration_s=0.5)
    files = [
        StemFiles(kind=s.kind, lossless=_copy_out(s.file_key, tmp_path), preview=_copy_out(s.preview_key, tmp_path),
                  peaks=s.peaks, peaks_per_second=s.peaks_per_second, duration_s=s.duration_s)
        for s in project.stems.all()
    ]  # fmt: skip
    stale = Project.objects.get(id=project.id)
    with django_capture_on_commit_callbacks(execute=True):
        project_delete(project=project)

    with pytest.raises(JobGone):
        stems_save(project=stale, stems=files)

    assert stored_files(media) == []
    assert Stem.objects.count() == 0


def _copy_out(key: str, folder) -> Path:
    path = Path(folder) / Path(key).name
    with default_storage.open(key, "rb") as src:
        path.write_bytes(src.read())
    return path


def test_a_worker_whose_run_was_taken_back_cannot_write_over_the_new_run(media):
    job = job_create(project=project_create_ready(owner=user_create(), duration_s=0.5), kind=Job.Kind.SEPARATE)
    slow = job_set_state(job=Job.objects.get(id=job.id), state=Job.State.RUNNING)  # attempt 1, then silent
    job_set_state(job=Job.objects.get(id=job.id), state=Job.State.QUEUED)  # the sweep takes it back
    job_set_state(job=Job.objects.get(id=job.id), state=Job.State.RUNNING)  # attempt 2 on another worker

    with pytest.raises(JobConflict):
        job_progress_set(job=slow, progress=90, stage="encode")
    with pytest.raises(JobConflict):
        job_set_state(job=slow, state=Job.State.DONE)
    assert job_heartbeat(job_id=job.id, attempt=1) is False

    row = Job.objects.get(id=job.id)
    assert (row.state, row.attempts, row.progress) == (Job.State.RUNNING, 2, 0)
    assert job_heartbeat(job_id=job.id, attempt=2) is True


def test_an_export_stored_after_its_project_was_deleted_leaves_no_file(
    media, tmp_path, django_capture_on_commit_callbacks
):
    from model.services import export_start

    project = project_create_ready(owner=user_create(), duration_s=0.5)
    export = export_start(project=project, fmt="mp3", mix=MixSettings())
    with django_capture_on_commit_callbacks(execute=True):
        project_delete(project=Project.objects.get(id=project.id))
    rendered = tmp_path / "mix.wav"
    rendered.write_bytes(b"RIFF....WAVE")

    with pytest.raises(JobGone):
        export_file_save(export=export, path=rendered)

    assert stored_files(media) == []
