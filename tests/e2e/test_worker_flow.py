"""End to end through the real worker: upload → separation → stems → export file."""

from __future__ import annotations

import io
import time

import dramatiq
import numpy as np
import pytest
import soundfile as sf
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from domain.models import Job, Project
from tests.audio import write_song
from tests.factories import pro_user_create, user_create
from tests.helpers import stored_files

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.e2e]


@pytest.fixture
def worker():
    broker = dramatiq.get_broker()
    broker.flush_all()
    worker = dramatiq.Worker(broker, worker_threads=1, worker_timeout=100)
    worker.start()
    yield worker
    worker.stop(timeout=10_000)
    broker.flush_all()


def _wait(predicate, *, timeout_s: float, what: str):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")


def test_upload_separate_export(worker, media, tmp_path):
    client = APIClient()
    client.force_authenticate(pro_user_create())  # the FLAC export is Pro's; its jobs take the priority queues
    song = write_song(tmp_path / "song.mp3", duration_s=8.0)

    response = client.post("/api/v1/projects/", {"file": SimpleUploadedFile("song.mp3", song.read_bytes())})
    assert response.status_code == 202, response.content
    project_id = response.json()["id"]

    body = _wait(
        lambda: (b := client.get(f"/api/v1/projects/{project_id}/").json())["status"] in ("ready", "failed") and b,
        timeout_s=180,
        what="the separation",
    )
    assert body["status"] == "ready", body
    assert body["engine"] == "offline"
    job = body["jobs"][0]
    assert job["state"] == "done" and job["progress"] == 100 and job["duration_s"] > 0
    assert [s["kind"] for s in body["stems"]] == ["vocals", "drums", "bass", "other"]
    assert sorted(stored_files(media)) == sorted(
        [f"uploads/{project_id}/original.mp3"]
        + [f"stems/{project_id}/{k}.flac" for k in ("vocals", "drums", "bass", "other")]
        + [f"previews/{project_id}/{k}.mp3" for k in ("vocals", "drums", "bass", "other")]
    )
    stems = {}
    for stem in body["stems"]:
        data = b"".join(client.get(stem["download_url"], follow=True).streaming_content)
        stems[stem["kind"]], sr = sf.read(io.BytesIO(data))
        assert sr == 44100
    lengths = {a.shape for a in stems.values()}
    assert len(lengths) == 1 and abs(next(iter(lengths))[0] / 44100 - 8.0) < 0.1

    export = client.post(
        f"/api/v1/projects/{project_id}/exports/",
        {"format": "flac", "stems": {"vocals": {"mute": True}}},
        format="json",
    )
    assert export.status_code == 202
    export_id = export.json()["id"]
    done = _wait(
        lambda: (e := client.get(f"/api/v1/exports/{export_id}/").json())["state"] in ("done", "failed") and e,
        timeout_s=60,
        what="the export",
    )
    assert done["state"] == "done", done
    mix, sr = sf.read(io.BytesIO(b"".join(client.get(done["download_url"], follow=True).streaming_content)))
    assert sr == 44100
    expected = stems["drums"] + stems["bass"] + stems["other"]
    n = min(len(mix), len(expected))
    # the export is the mixer's sum of the unmuted stems (FLAC 16-bit rounding aside)
    assert np.max(np.abs(mix[:n] - expected[:n])) < 1e-3


def test_health_sees_the_running_worker(worker):
    body = _wait(
        lambda: (b := APIClient().get("/health").json())["checks"]["workers"]["seen_recently"] == 1 and b,
        timeout_s=10,
        what="the worker's heartbeat",
    )

    assert body["checks"]["workers"]["queues"] == ["cpu", "cpu-priority", "gpu", "gpu-priority"]


def test_resubmitted_song_shares_its_owners_stems(worker, media, tmp_path):
    client = APIClient()
    client.force_authenticate(user_create())
    song = write_song(tmp_path / "song.wav", duration_s=3.0, seed=3)
    ids = []
    for _ in range(2):
        r = client.post("/api/v1/projects/", {"file": SimpleUploadedFile("song.wav", song.read_bytes())})
        ids.append(r.json()["id"])
        _wait(lambda pid=ids[-1]: Project.objects.get(id=pid).status == "ready", timeout_s=120, what="separation")

    first, second = (Project.objects.get(id=i) for i in ids)
    assert first.sha256 == second.sha256
    assert Job.objects.get(project=first, kind=Job.Kind.SEPARATE).stage == "encode"
    assert Job.objects.get(project=second, kind=Job.Kind.SEPARATE).progress == 100
    # never separated again: the second project's stems are the first one's files, not copies
    assert {(s.kind, s.file_key) for s in second.stems.all()} == {(s.kind, s.file_key) for s in first.stems.all()}
    assert not (media / f"stems/{second.id}").exists()
