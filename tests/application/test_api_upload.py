"""POST /api/v1/projects/: good songs are accepted, bad input leaves nothing behind."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from domain.models import Job, Project
from model.broker import queue_depth
from tests.audio import write_song
from tests.factories import plan_update, project_create_ready, user_create
from tests.helpers import stored_files

pytestmark = pytest.mark.django_db

URL = "/api/v1/projects/"


def _pending_messages() -> int:
    return queue_depth("gpu")


@pytest.fixture(autouse=True)
def _queues_empty(empty_broker):
    return empty_broker


def _upload(client: APIClient, path: Path, *, name: str | None = None, filename: str | None = None):
    data = {"file": SimpleUploadedFile(filename or path.name, path.read_bytes())}
    if name is not None:
        data["name"] = name
    return client.post(URL, data, format="multipart")


def assert_nothing_left(media: Path) -> None:
    from business.models import UsageRecord

    assert Project.objects.count() == 0
    assert Job.objects.count() == 0
    assert UsageRecord.objects.count() == 0  # no allowance reserved either
    assert stored_files(media) == []
    assert _pending_messages() == 0


@pytest.mark.parametrize(
    ("suffix", "expected_format", "stored_ext"),
    [
        ("mp3", "mp3", "mp3"),
        ("wav", "wav", "wav"),
        ("flac", "flac", "flac"),
        ("m4a", "mov", "m4a"),
        ("aac", "aac", "aac"),
        ("ogg", "ogg", "ogg"),
    ],
)
def test_upload_each_format_is_accepted_and_queued(
    client, user, media, tmp_path, django_capture_on_commit_callbacks, suffix, expected_format, stored_ext
):
    song = write_song(tmp_path / f"My Song.{suffix}", duration_s=3.0)

    with django_capture_on_commit_callbacks(execute=True):
        response = _upload(client, song)

    assert response.status_code == 202, response.content
    body = response.json()
    project = Project.objects.get(id=body["id"])
    assert body["status"] == "pending"
    assert body["name"] == "My Song"
    assert project.owner == user
    assert project.format == expected_format
    assert project.channels == 2 and project.sample_rate == 44100
    assert abs(project.duration_s - 3.0) < 0.1
    assert stored_files(media) == [f"uploads/{project.id}/original.{stored_ext}"]
    assert [j["kind"] for j in body["jobs"]] == ["separate"]
    assert body["jobs"][0]["state"] == "queued"
    assert _pending_messages() == 1


def test_upload_with_name_and_hostile_filename_keeps_a_generated_key(client, media, tmp_path):
    song = write_song(tmp_path / "song.wav", duration_s=1.0)

    response = _upload(client, song, filename="../../etc/pass\x00wd;rm -rf.wav", name="  Demo take  ")

    assert response.status_code == 202, response.content
    project = Project.objects.get()
    assert project.name == "Demo take"
    assert "/" not in project.original_filename
    assert stored_files(media) == [f"uploads/{project.id}/original.wav"]


def _bad_file(kind: str, tmp_path: Path, other_key_path: Path | None = None) -> Path:
    path = tmp_path / "bad.mp3"
    if kind == "empty":
        path.write_bytes(b"")
    elif kind == "random":
        path.write_bytes(np_random_bytes(200_000))
    elif kind == "truncated":
        full = write_song(tmp_path / "full.mp3", duration_s=10.0)
        path.write_bytes(full.read_bytes()[: full.stat().st_size // 3])
    elif kind == "png":
        subprocess.run(
            ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "color=red:s=64x64", "-frames:v", "1", "-f", "image2",
             "-c:v", "png", "-y", str(path)],
            check=True,
        )  # fmt: skip
    elif kind == "pdf":
        path.write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")
    elif kind == "concat":
        path.write_text(f"ffconcat version 1.0\nfile '{other_key_path}'\n")
    elif kind == "hls":
        path.write_text(f"#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10.0,\nfile://{other_key_path}\n#EXT-X-ENDLIST\n")
    return path


def np_random_bytes(n: int) -> bytes:
    import numpy as np

    return np.random.default_rng(7).integers(0, 256, n, dtype=np.uint8).tobytes()


@pytest.mark.parametrize(
    ("kind", "code"),
    [
        ("empty", "empty_file"),
        ("random", "unsupported_format"),
        ("truncated", "invalid_audio"),
        ("png", "unsupported_format"),
        ("pdf", "unsupported_format"),
    ],
)
def test_bad_files_are_refused_and_leave_nothing(client, media, tmp_path, kind, code):
    path = _bad_file(kind, tmp_path)

    response = _upload(client, path)

    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == code
    assert body["message"]
    assert_nothing_left(media)


@pytest.mark.parametrize("kind", ["concat", "hls"])
def test_playlists_pointing_at_another_projects_file_are_refused(client, media, tmp_path, kind):
    other = project_create_ready(owner=user_create())
    victim = Path(media) / other.original_key
    before = stored_files(media)

    response = _upload(client, _bad_file(kind, tmp_path, other_key_path=victim))

    assert response.status_code == 400, response.content
    assert response.json()["code"] == "unsupported_format"
    assert Project.objects.count() == 1  # only the other user's
    assert stored_files(media) == before


def test_file_over_the_size_limit_is_refused_before_it_is_read(client, media, tmp_path):
    plan_update("free", max_upload_mb=1)
    song = write_song(tmp_path / "big.wav", duration_s=8.0)  # ~1.4 MB
    assert song.stat().st_size > 1_000_000

    response = _upload(client, song)

    assert response.status_code == 413
    body = response.json()
    assert body["code"] == "file_too_large"
    assert body["extra"] == {"max_bytes": 1_000_000}
    assert_nothing_left(media)


def test_song_over_the_duration_limit_is_refused(client, media, tmp_path):
    plan_update("free", max_duration_min=1)
    song = write_song(tmp_path / "long.flac", duration_s=62.0)

    response = _upload(client, song)

    assert response.status_code == 400
    assert response.json()["code"] == "audio_too_long"
    assert_nothing_left(media)


def test_mp3_whose_header_understates_its_length_is_measured_and_refused(client, media, tmp_path):
    plan_update("free", max_duration_min=1)
    head, tail = tmp_path / "head.mp3", tmp_path / "tail.mp3"
    for path, seconds, bitrate in ((head, 0.5, "160k"), (tail, 120, "8k")):
        subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", f"sine=f=440:d={seconds}", "-ac", "1", "-ar",
                        "22050", "-b:a", bitrate, "-write_xing", "0", "-id3v2_version", "0", "-y", str(path)],
                       check=True)  # fmt: skip
    liar = tmp_path / "liar.mp3"
    liar.write_bytes(head.read_bytes() + tail.read_bytes())  # the first frame's bitrate sets the estimate
    probe = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0",
                            str(liar)], capture_output=True, text=True, check=True)  # fmt: skip
    assert float(probe.stdout) < 60  # the header does understate the 120 s inside

    response = _upload(client, liar)

    assert response.status_code == 400
    assert response.json()["code"] == "audio_too_long"
    assert_nothing_left(media)


def test_upload_without_a_file_is_a_clear_400(client, media):
    response = client.post(URL, {"name": "x"}, format="multipart")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_input"
    assert_nothing_left(media)


def test_upload_needs_authentication(media, tmp_path):
    song = write_song(tmp_path / "song.wav", duration_s=1.0)

    response = _upload(APIClient(), song)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert_nothing_left(media)


def test_token_auth_uploads(media, tmp_path, user):
    client = APIClient()
    token = client.post("/api/v1/auth/token/", {"username": user.username, "password": "a-long-test-passphrase-42"})
    assert token.status_code == 200
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.json()['token']}")
    song = write_song(tmp_path / "song.wav", duration_s=1.0)

    response = _upload(client, song)

    assert response.status_code == 202
    assert Project.objects.get().owner == user


def test_browser_upload_with_session_and_csrf_token(media, tmp_path, user, django_capture_on_commit_callbacks):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    client.get("/projects/")  # sets the csrftoken cookie, as the library page does
    token = client.cookies["csrftoken"].value
    song = write_song(tmp_path / "song.wav", duration_s=1.0)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(URL, {"file": SimpleUploadedFile("song.wav", song.read_bytes())},
                               HTTP_X_CSRFTOKEN=token)  # fmt: skip

    assert response.status_code == 202, response.content
    assert Project.objects.get().owner == user


def test_browser_upload_without_csrf_token_is_refused(media, tmp_path, user):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    song = write_song(tmp_path / "song.wav", duration_s=1.0)

    response = client.post(URL, {"file": SimpleUploadedFile("song.wav", song.read_bytes())})

    assert response.status_code == 403
    assert_nothing_left(media)


def test_session_upload_over_the_size_limit_is_413(media, tmp_path, user):
    from django.test import Client

    plan_update("free", max_upload_mb=1)
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    client.get("/projects/")
    song = write_song(tmp_path / "big.wav", duration_s=8.0)

    response = client.post(URL, {"file": SimpleUploadedFile("big.wav", song.read_bytes())},
                           HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value)  # fmt: skip

    assert response.status_code == 413
    assert response.json()["code"] == "file_too_large"
    assert_nothing_left(media)


def test_uploads_are_rate_limited_per_user(client, media, tmp_path, monkeypatch):
    from django.core.cache import cache

    from application.api.uploads import UploadRateThrottle

    monkeypatch.setattr(UploadRateThrottle, "THROTTLE_RATES", {"uploads": "2/hour"})
    cache.clear()
    song = write_song(tmp_path / "song.wav", duration_s=1.0)
    try:
        responses = [_upload(client, song) for _ in range(3)]
        listing = client.get(URL)
    finally:
        cache.clear()

    assert [r.status_code for r in responses] == [202, 202, 429]
    assert responses[2].json()["code"] == "throttled"
    assert listing.status_code == 200
    assert Project.objects.count() == 2


@pytest.mark.parametrize("duration_s", [0.01, 0.4])
def test_a_song_shorter_than_the_minimum_is_refused_at_upload(client, media, tmp_path, duration_s):
    from domain.audio import MIN_DURATION_S

    song = write_song(tmp_path / "blip.wav", duration_s=duration_s)

    response = _upload(client, song)

    assert response.status_code == 400
    assert response.json()["code"] == "audio_too_short"
    assert response.json()["extra"]["min_duration_s"] == MIN_DURATION_S
    assert_nothing_left(media)
