"""Job state transitions and storage writes."""

from __future__ import annotations

import pytest

from domain.exceptions import JobNotRetryable
from domain.models import Job
from domain.services import job_create, job_set_state, storage_put
from tests.factories import project_create_ready, user_create

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
