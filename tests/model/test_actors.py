"""Actors: a job runs once to done, fails with a plain message, never stays running."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest
import soundfile as sf
from django.core.files.storage import default_storage

from domain.mix import LoopRegion, MixSettings, StemMix
from domain.models import Job, Project
from domain.services import job_create, job_set_state
from model import actors
from model.actors import MAX_ATTEMPTS, export_mix, separate_stems
from model.services import export_start
from tests.factories import pro_user_create, project_create_ready, user_create

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _queues_empty(empty_broker):
    return empty_broker


def test_export_actor_renders_the_mix(media):
    project = project_create_ready(owner=pro_user_create())
    export = export_start(project=project, fmt="wav", mix=MixSettings(stems={"vocals": StemMix(mute=True)}))

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


def test_export_actor_renders_bit_rate_loop_tempo_and_key(media, tmp_path):
    project = project_create_ready(owner=pro_user_create())
    mix = MixSettings(tempo=1.25, transpose=3, loop=LoopRegion(start_s=0.25, end_s=1.5))
    export = export_start(project=project, fmt="mp3", mix=mix, bitrate_kbps=128, region="loop")

    export_mix.fn(str(export.job_id))

    export.refresh_from_db()
    assert Job.objects.get(id=export.job_id).state == Job.State.DONE
    local = tmp_path / "export.mp3"
    with default_storage.open(export.file_key, "rb") as fh:
        local.write_bytes(fh.read())
    probe = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "stream=bit_rate:format=duration", "-of", "csv=p=0", str(local)],
        capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    assert int(probe[0]) == 128_000
    assert float(probe[1]) == pytest.approx(1.25 / 1.25, abs=0.06)  # MP3 frames round it up a little


def test_finished_job_is_not_run_again(media):
    project = project_create_ready(owner=pro_user_create())
    export = export_start(project=project, fmt="wav", mix=MixSettings())
    export_mix.fn(str(export.job_id))
    first_finish = Job.objects.get(id=export.job_id).finished_at

    export_mix.fn(str(export.job_id))

    job = Job.objects.get(id=export.job_id)
    assert job.finished_at == first_finish
    assert job.attempts == 1


def test_export_with_a_damaged_stem_fails_with_a_plain_message(media):
    project = project_create_ready(owner=pro_user_create())
    stem = project.stems.get(kind="bass")
    default_storage.delete(stem.file_key)
    default_storage.save(stem.file_key, __import__("io").BytesIO(b"not flac at all"))
    export = export_start(project=project, fmt="mp3", mix=MixSettings())

    export_mix.fn(str(export.job_id))

    job = Job.objects.get(id=export.job_id)
    assert job.state == Job.State.FAILED
    assert job.user_error == "The audio could not be encoded."
    assert job.error.startswith("MediaError")
    export.refresh_from_db()
    assert export.file_key == ""


def _pending_project(*, owner=None, sha256: str = "f" * 64) -> Project:
    """A project as an upload leaves it: its original stored, no stems yet (rows or files)."""
    project = project_create_ready(owner=owner or user_create())
    for stem in project.stems.all():
        default_storage.delete(stem.file_key)
        default_storage.delete(stem.preview_key)
    project.stems.all().delete()
    Project.objects.filter(id=project.id).update(status=Project.Status.PENDING, sha256=sha256, engine="")
    return Project.objects.get(id=project.id)


def _separation_job(media) -> Job:
    return job_create(project=_pending_project(), kind=Job.Kind.SEPARATE)


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


class _ModelMissingEngine(_BrokenEngine):
    def separate(self, audio, *, sr, progress=None):
        from model.engines.base import EngineError

        raise EngineError("No Demucs weights found in /models")


def test_an_engine_that_cannot_run_fails_at_once_without_retries(media, monkeypatch):
    monkeypatch.setattr("model.engines.get_engine", lambda *a, **k: _ModelMissingEngine())
    job = _separation_job(media)

    separate_stems.fn(str(job.id))  # returns: nothing for Dramatiq to retry

    job.refresh_from_db()
    assert job.state == Job.State.FAILED
    assert job.attempts == 1
    assert job.user_error == "The separation engine could not process this song. Our team has the details."
    assert job.error == "EngineError: No Demucs weights found in /models"
    assert Project.objects.get(id=job.project_id).status == Project.Status.FAILED


def test_a_second_message_for_a_running_job_leaves_it_alone(media):
    job = _separation_job(media)
    job_set_state(job=Job.objects.get(id=job.id), state=Job.State.RUNNING, stage="separate")  # worker 1 has it

    separate_stems.fn(str(job.id))  # worker 2 gets the same job (the broker redelivered it)

    again = Job.objects.get(id=job.id)
    assert again.state == Job.State.RUNNING
    assert again.attempts == 1
    assert again.stage == "separate"
    assert Project.objects.get(id=job.project_id).stems.count() == 0


class _FakeEngine:
    """Splits the mix into four quarter-level copies, reporting progress like a real engine."""

    name = "offline"
    model_name = "test"  # what project_create_ready records: the same model, so its stems are shared
    stems = ("vocals", "drums", "bass", "other")

    def __init__(self, on_progress=None) -> None:
        self.on_progress = on_progress or (lambda step: None)
        self.calls = 0

    def separate(self, audio, *, sr, progress=None):
        self.calls += 1
        for step in range(10):
            self.on_progress(step)
            if progress is not None:
                progress((step + 1) / 10)
        return {kind: audio * 0.25 for kind in self.stems}


def test_deleting_the_project_mid_separation_stops_the_job_and_keeps_nothing(
    media, monkeypatch, django_capture_on_commit_callbacks
):
    from domain.services import project_delete

    job = _separation_job(media)

    def delete_at_step(step):
        if step == 3:
            with django_capture_on_commit_callbacks(execute=True):
                project_delete(project=Project.objects.get(id=job.project_id))

    monkeypatch.setattr("model.engines.get_engine", lambda *a, **k: _FakeEngine(delete_at_step))

    separate_stems.fn(str(job.id))  # returns quietly: nothing to retry

    assert not Job.objects.filter(id=job.id).exists()
    assert not Project.objects.filter(id=job.project_id).exists()
    assert _all_keys(media) == []  # the original went with the project; no stem was written


def test_deleting_the_project_while_its_stems_are_stored_removes_them(
    media, monkeypatch, django_capture_on_commit_callbacks
):
    from domain.services import project_delete, stems

    job = _separation_job(media)
    real_put = stems.storage_put
    puts = []

    def put_then_delete(*, key, content):
        puts.append(real_put(key=key, content=content))
        if len(puts) == 3:  # half-way through the stems, the user deletes the project
            with django_capture_on_commit_callbacks(execute=True):
                project_delete(project=Project.objects.get(id=job.project_id))
        return puts[-1]

    monkeypatch.setattr(stems, "storage_put", put_then_delete)  # where stems_save looks it up
    monkeypatch.setattr("model.engines.get_engine", lambda *a, **k: _FakeEngine())

    separate_stems.fn(str(job.id))

    assert len(puts) == 8  # it wrote them all...
    assert not Job.objects.filter(id=job.id).exists()
    assert _all_keys(media) == []  # ...and removed them once it saw the project gone


def _same_song_project(*, owner, sha256: str) -> Job:
    return job_create(project=_pending_project(owner=owner, sha256=sha256), kind=Job.Kind.SEPARATE)


def test_the_same_song_again_from_its_owner_shares_the_stems_without_copying(media, monkeypatch):
    owner = user_create()
    first = project_create_ready(owner=owner)
    keys_before = set(_all_keys(media))
    engine = _FakeEngine()
    monkeypatch.setattr("model.engines.get_engine", lambda *a, **k: engine)
    job = _same_song_project(owner=owner, sha256=first.sha256)

    separate_stems.fn(str(job.id))

    second = Project.objects.get(id=job.project_id)
    assert second.status == Project.Status.READY
    assert engine.calls == 0  # not separated again
    assert sorted((s.kind, s.file_key, s.preview_key) for s in second.stems.all()) == sorted(
        (s.kind, s.file_key, s.preview_key) for s in first.stems.all()
    )
    assert set(_all_keys(media)) - keys_before == {second.original_key}  # no stem file copied


def test_deleting_one_of_two_projects_sharing_stems_keeps_the_other_whole(
    media, monkeypatch, django_capture_on_commit_callbacks
):
    from domain.services import project_delete

    owner = user_create()
    first = project_create_ready(owner=owner)
    monkeypatch.setattr("model.engines.get_engine", lambda *a, **k: _FakeEngine())
    job = _same_song_project(owner=owner, sha256=first.sha256)
    separate_stems.fn(str(job.id))
    second = Project.objects.get(id=job.project_id)

    with django_capture_on_commit_callbacks(execute=True):
        project_delete(project=Project.objects.get(id=first.id))

    assert all(default_storage.exists(s.file_key) and default_storage.exists(s.preview_key) for s in second.stems.all())
    with django_capture_on_commit_callbacks(execute=True):
        project_delete(project=second)
    assert _all_keys(media) == []  # the last one out takes the shared files


def test_the_same_song_from_another_user_is_separated_for_them(media, monkeypatch):
    first = project_create_ready(owner=user_create())
    engine = _FakeEngine()
    monkeypatch.setattr("model.engines.get_engine", lambda *a, **k: engine)
    job = _same_song_project(owner=user_create(), sha256=first.sha256)
    stages = []
    monkeypatch.setattr(
        "model.actors.job_progress_set",
        lambda *, job, progress, stage, _real=actors.job_progress_set: (
            stages.append(stage),
            _real(job=job, progress=progress, stage=stage),
        ),
    )

    separate_stems.fn(str(job.id))

    theirs = Project.objects.get(id=job.project_id)
    assert engine.calls == 1  # a separation of its own: nothing tells them the file is known
    assert "separate" in stages and stages[-1] == "encode"  # the stages of any separation
    assert {s.file_key for s in theirs.stems.all()} == {f"stems/{theirs.id}/{k}.flac" for k in engine.stems}


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
    project = project_create_ready(owner=pro_user_create(), duration_s=0.5)
    export = export_start(project=project, fmt="wav", mix=MixSettings())
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
