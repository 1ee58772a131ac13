"""Actors: a job runs once to done, fails with a plain message, never stays running."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
from django.core.files.storage import default_storage

from domain.models import Job, Project
from domain.services import job_create
from model import actors
from model.actors import MAX_ATTEMPTS, export_mix, separate_stems
from model.services import export_start
from tests.factories import project_create_ready, user_create

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _queues_empty(empty_broker):
    return empty_broker


def test_export_actor_renders_the_mix(media):
    project = project_create_ready(owner=user_create())
    export = export_start(project=project, fmt="wav", mix={"stems": {"vocals": {"mute": True}}})

    export_mix.fn(str(export.job_id))

    export.refresh_from_db()
    export.job.refresh_from_db()
    assert export.job.state == Job.State.DONE
    assert export.job.progress == 100
    assert export.file_key == f"exports/{export.id}.wav"
    with default_storage.open(export.file_key, "rb") as fh:
        audio, sr = sf.read(fh)
    assert sr == 44100 and audio.shape == (2 * 44100, 2)
    # vocals (110 Hz) muted; drums, bass, other (220, 330, 440 Hz) present
    spectrum = np.abs(np.fft.rfft(audio[:, 0])) / audio.shape[0]
    assert spectrum[110 * 2] < 1e-3
    assert all(spectrum[f * 2] > 0.05 for f in (220, 330, 440))


def test_finished_job_is_not_run_again(media):
    project = project_create_ready(owner=user_create())
    export = export_start(project=project, fmt="wav", mix={})
    export_mix.fn(str(export.job_id))
    first_finish = Job.objects.get(id=export.job_id).finished_at

    export_mix.fn(str(export.job_id))

    job = Job.objects.get(id=export.job_id)
    assert job.finished_at == first_finish
    assert job.attempts == 1


def test_export_with_a_damaged_stem_fails_with_a_plain_message(media):
    project = project_create_ready(owner=user_create())
    stem = project.stems.get(kind="bass")
    default_storage.delete(stem.file_key)
    default_storage.save(stem.file_key, __import__("io").BytesIO(b"not flac at all"))
    export = export_start(project=project, fmt="mp3", mix={})

    export_mix.fn(str(export.job_id))

    job = Job.objects.get(id=export.job_id)
    assert job.state == Job.State.FAILED
    assert job.user_error == "The audio could not be encoded."
    assert job.error.startswith("MediaError")
    export.refresh_from_db()
    assert export.file_key == ""


def _separation_job(media) -> Job:
    project = project_create_ready(owner=user_create())
    project.stems.all().delete()
    Project.objects.filter(id=project.id).update(status=Project.Status.PENDING, sha256="f" * 64)
    return job_create(project=Project.objects.get(id=project.id), kind=Job.Kind.SEPARATE)


class _BrokenEngine:
    name = "broken"
    model_name = "broken-1"
    stems = ("vocals", "drums", "bass", "other")

    def separate(self, audio, *, sr, progress=None):
        raise RuntimeError("CUDA out of memory (simulated)")


def test_engine_error_is_retried_then_fails_for_good(media, monkeypatch):
    monkeypatch.setattr("model.engines.get_engine", lambda *a, **k: _BrokenEngine())
    job = _separation_job(media)

    for attempt in range(1, MAX_ATTEMPTS):
        with pytest.raises(RuntimeError):
            separate_stems.fn(str(job.id))
        job.refresh_from_db()
        assert job.state == Job.State.QUEUED, f"attempt {attempt} should leave the job for a retry"
    separate_stems.fn(str(job.id))

    job.refresh_from_db()
    assert job.state == Job.State.FAILED
    assert job.attempts == MAX_ATTEMPTS
    assert "try again" in job.user_error
    assert "CUDA out of memory" in job.error
    project = Project.objects.get(id=job.project_id)
    assert project.status == Project.Status.FAILED
    assert project.error == job.user_error


def test_actor_declares_its_queue_and_final_errors():
    assert separate_stems.queue_name == "gpu"
    assert export_mix.queue_name == "cpu"
    assert actors.InvalidAudio in separate_stems.options["throws"]


def test_storage_failure_leaves_no_half_file_and_fails_the_job_plainly(media, monkeypatch):
    from django.core.files.storage import FileSystemStorage

    project = project_create_ready(owner=user_create(), duration_s=0.5)
    project.stems.all().delete()
    for folder in (f"stems/{project.id}", f"previews/{project.id}"):
        for name in default_storage.listdir(folder)[1]:
            default_storage.delete(f"{folder}/{name}")
    Project.objects.filter(id=project.id).update(status=Project.Status.PENDING, sha256="e" * 64)
    job = job_create(project=Project.objects.get(id=project.id), kind=Job.Kind.SEPARATE)
    real_save = FileSystemStorage._save

    def failing_save(self, name, content):
        if name.endswith("bass.flac"):  # the disk fills up half-way through the stems
            path = self.path(name)
            with open(path, "wb") as fh:
                fh.write(b"fLaC partial")
            raise OSError(28, "No space left on device")
        return real_save(self, name, content)

    monkeypatch.setattr(FileSystemStorage, "_save", failing_save)

    for _ in range(MAX_ATTEMPTS - 1):
        with pytest.raises(OSError):
            separate_stems.fn(str(job.id))
    separate_stems.fn(str(job.id))

    job.refresh_from_db()
    assert job.state == Job.State.FAILED
    assert job.user_error == "The separation failed. Please try again later; our team has the details."
    assert "No space left on device" in job.error
    assert Project.objects.get(id=project.id).status == Project.Status.FAILED
    assert project.stems.count() == 0
    assert _all_keys(media) == [project.original_key]  # no stem, no preview, no partial file


def _all_keys(media):
    return [str(p.relative_to(media)) for p in media.rglob("*") if p.is_file()]


@pytest.mark.django_db(transaction=True)  # the heartbeat writes from its own thread and connection
def test_a_long_step_keeps_beating(media, monkeypatch):
    from model import actors as actors_module

    monkeypatch.setattr(actors_module, "HEARTBEAT_EVERY_S", 0.05)
    project = project_create_ready(owner=user_create(), duration_s=0.5)
    export = export_start(project=project, fmt="wav", mix={})
    beats = []
    real_mixdown = actors_module.mixdown

    def slow_mixdown(**kwargs):
        import time

        for _ in range(4):  # a long render that reports no progress
            time.sleep(0.1)
            beats.append(Job.objects.get(id=export.job_id).heartbeat_at)
        return real_mixdown(**kwargs)

    monkeypatch.setattr(actors_module, "mixdown", slow_mixdown)

    export_mix.fn(str(export.job_id))

    assert Job.objects.get(id=export.job_id).state == Job.State.DONE
    assert len(set(beats)) >= 3  # the heartbeat moved while the step ran
