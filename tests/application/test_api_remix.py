"""The granular remix's API: style sounds (upload, list, detail, audio, grains, delete) and remixes
(start, list, detail, downloads), bad input refused with nothing left behind, others' objects 404."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from business.models import UsageRecord
from domain.models import Job, Remix, StyleSound
from model.actors.remix import remix_song, style_grains
from tests.audio import style_wav
from tests.factories import project_create_ready, user_create, user_make_pro

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("empty_broker")]


def _files(media: Path) -> list[Path]:
    return sorted(p for p in media.rglob("*") if p.is_file() and "styles" in p.parts)


def _upload(client: APIClient, *files: tuple[str, bytes]):
    body = {"files": [SimpleUploadedFile(name, data) for name, data in files]}
    return client.post("/api/v1/styles/", body, format="multipart")


def _ready_style(client: APIClient, name: str = "kit.wav", **sound) -> dict:
    response = _upload(client, (name, style_wav(**sound)))
    assert response.status_code == 202, response.content
    style = response.json()["results"][0]
    style_grains.fn(style["job"]["id"])
    return client.get(f"/api/v1/styles/{style['id']}/").json()


def test_several_sounds_upload_at_once_and_each_becomes_a_grain_library(client, media):
    response = _upload(client, ("bass.wav", style_wav(pitches_hz=(55.0, 82.4))), ("lead.wav", style_wav()))

    assert response.status_code == 202, response.content
    results = response.json()["results"]
    assert [r["name"] for r in results] == ["bass", "lead"]
    assert [r["status"] for r in results] == ["pending", "pending"]
    assert all(r["job"]["state"] == "queued" for r in results)
    for style in results:
        style_grains.fn(style["job"]["id"])
    bass = client.get(f"/api/v1/styles/{results[0]['id']}/").json()
    assert bass["status"] == "ready"
    assert bass["grain_count"] == 2
    assert len(bass["scatter"]) == 2
    assert [round(p["f0_hz"]) for p in sorted(bass["scatter"], key=lambda p: p["start_s"])] == [55, 82]
    listed = client.get("/api/v1/styles/").json()
    assert listed["count"] == 2
    assert all(item["scatter"] == [] for item in listed["results"])  # the plot only in the detail


def test_a_grain_plays_as_a_short_wav(client):
    style = _ready_style(client)

    response = client.get(f"/api/v1/styles/{style['id']}/grains/0/")

    assert response.status_code == 200
    assert response["Content-Type"] == "audio/wav"
    audio, sr = sf.read(io.BytesIO(response.content))
    assert sr == 44100
    assert 0.2 < audio.shape[0] / sr < 0.5  # one 0.3-s burst (its silent tail trimmed by the split)
    assert client.get(f"/api/v1/styles/{style['id']}/grains/{style['grain_count']}/").status_code == 404


def test_the_sound_itself_plays(client):
    style = _ready_style(client)

    response = client.get(f"/api/v1/styles/{style['id']}/audio/")

    assert response.status_code == 302
    assert client.get(response["Location"]).status_code == 200


def test_one_bad_file_refuses_the_upload_naming_it_and_keeps_nothing(client, media):
    response = _upload(client, ("good.wav", style_wav()), ("evil.wav", b"<?php system($_GET['c']); ?>" * 50))

    assert response.status_code == 400
    body = response.json()
    assert body["code"] in ("invalid_audio", "unsupported_format")
    assert body["extra"]["file"] == "evil.wav"
    assert body["extra"]["index"] == 1
    assert "evil.wav" in body["message"]
    assert StyleSound.objects.count() == 0
    assert Job.objects.count() == 0
    assert _files(media) == []


def test_a_sound_longer_than_two_minutes_is_refused(client, media):
    buffer = io.BytesIO()
    sf.write(buffer, np.zeros(8000 * 125, dtype=np.float32), 8000, format="WAV", subtype="PCM_16")

    response = _upload(client, ("long.wav", buffer.getvalue()))

    assert response.status_code == 400
    assert response.json()["code"] == "audio_too_long"
    assert StyleSound.objects.count() == 0
    assert _files(media) == []


def test_more_than_twenty_files_are_refused(client, media):
    data = style_wav(pitches_hz=(220.0,))

    response = _upload(client, *[(f"s{i}.wav", data) for i in range(21)])

    assert response.status_code == 400
    assert StyleSound.objects.count() == 0
    assert _files(media) == []


@pytest.mark.parametrize("content_type", ["multipart/form-data; boundary=x", "application/x-www-form-urlencoded", ""])
def test_an_upload_without_files_is_a_clear_400(client, content_type):
    response = client.generic("POST", "/api/v1/styles/", b"", content_type=content_type)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_input"
    assert "files" in response.json()["extra"]["fields"]


def test_a_file_over_the_size_limit_is_refused_as_it_streams(client, media, monkeypatch):
    monkeypatch.setattr("model.services.remix.STYLE_MAX_BYTES", 50_000)

    response = _upload(client, ("big.wav", style_wav(pitches_hz=(110.0,) * 4)))

    assert response.status_code == 413
    assert response.json()["code"] == "file_too_large"
    assert response.json()["extra"]["file"] == "big.wav"
    assert "big.wav" in response.json()["message"]
    assert StyleSound.objects.count() == 0


def test_a_silent_sound_fails_its_job_with_a_plain_message(client):
    buffer = io.BytesIO()
    sf.write(buffer, np.zeros(44100, dtype=np.float32), 44100, format="WAV", subtype="PCM_16")
    style = _upload(client, ("silence.wav", buffer.getvalue())).json()["results"][0]

    style_grains.fn(style["job"]["id"])  # final: not retried (no exception for Dramatiq)

    body = client.get(f"/api/v1/styles/{style['id']}/").json()
    assert body["status"] == "failed"
    assert body["job"]["state"] == "failed"
    assert "silent" in body["user_error"]
    assert Job.objects.get(id=style["job"]["id"]).attempts == 1


def test_deleting_a_sound_removes_its_files(client, media, django_capture_on_commit_callbacks):
    style = _ready_style(client)
    assert len(_files(media)) == 2  # the sound and its grains

    with django_capture_on_commit_callbacks(execute=True):  # files go once the deletion commits
        response = client.delete(f"/api/v1/styles/{style['id']}/")

    assert response.status_code == 204
    assert StyleSound.objects.count() == 0
    assert _files(media) == []


def _other_client() -> APIClient:
    other = APIClient()
    other.force_authenticate(user_create())
    return other


def test_another_users_sound_is_a_404_everywhere(client):
    style = _ready_style(client)
    other = _other_client()

    for url in (f"/api/v1/styles/{style['id']}/", f"/api/v1/styles/{style['id']}/audio/",
                f"/api/v1/styles/{style['id']}/grains/0/"):  # fmt: skip
        assert other.get(url).status_code == 404, url
    assert other.delete(f"/api/v1/styles/{style['id']}/").status_code == 404
    assert other.get("/api/v1/styles/").json()["count"] == 0
    assert StyleSound.objects.filter(id=style["id"]).exists()


# ---------------------------------------------------------------- remixes


@pytest.fixture
def project(user):
    return project_create_ready(owner=user, duration_s=2.0)


def _remix(client, project, style_id, **extra):
    body = {
        "stems": {"bass": {"style": style_id, "gain_db": -3, "wet": 0.8}, "vocals": {"enabled": False}},
        "settings": {"grain_ms": 100, "seed": 7},
        **extra,
    }
    return client.post(f"/api/v1/projects/{project.id}/remixes/", body, format="json")


def test_a_remix_is_accepted_run_and_downloadable(client, project):
    style = _ready_style(client, pitches_hz=(110.0, 220.0, 330.0, 440.0))

    response = _remix(client, project, style["id"])

    assert response.status_code == 202, response.content
    remix = response.json()
    assert remix["state"] == "queued"
    assert remix["download_url"] is None
    assert remix["stems"]["bass"] == {"style": style["id"], "gain_db": -3.0, "enabled": True, "wet": 0.8}
    assert remix["stems"]["drums"]["style"] is None
    assert remix["settings"]["grain_ms"] == 100
    assert UsageRecord.objects.filter(metric=UsageRecord.Metric.REMIXES, job_id=remix["job"]).count() == 1
    remix_song.fn(remix["job"])
    done = client.get(f"/api/v1/remixes/{remix['id']}/").json()
    assert done["state"] == "done"
    assert [t["track"] for t in done["tracks"]] == ["remix_bass"]
    download = client.get(done["download_url"])
    assert download.status_code == 302
    audio, sr = sf.read(io.BytesIO(b"".join(client.get(download["Location"]).streaming_content)))
    assert sr == 44100
    assert audio.shape == (88200, 2)
    assert np.abs(audio).max() <= 10 ** (-1 / 20) + 1e-3
    peaks = client.get(done["tracks"][0]["peaks_url"]).json()
    assert peaks["kind"] == "bass"
    assert len(peaks["peaks"]) == 100
    listed = client.get(f"/api/v1/projects/{project.id}/remixes/").json()
    assert [r["id"] for r in listed["results"]] == [remix["id"]]


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({"stems": {"bass": {"style": "not-an-id"}}}, "stems.bass.style"),
        ({"stems": {"bass": {"style": "0" * 8 + "-0000-0000-0000-" + "0" * 12 + "\n"}}}, "stems.bass.style"),
        ('{"stems": {"bass": {"style": "STYLE"}}, "settings": {"grain_ms": 1' + "0" * 400 + "}}", "grain_ms"),
        ({"stems": {"vocals": {"style": "0" * 32}}}, "stems.vocals"),
        ({"stems": {"bass": {"gain_db": 99}}}, "stems.bass.gain_db"),
        ('{"stems": {"bass": {"wet": NaN}}}', None),
        ({"stems": {"bass": {"enabled": "yes"}}}, "stems.bass.enabled"),
        ({"stems": {"kazoo": {}}}, "kazoo"),
        ({"stems": {"bass": {"volume": 1}}}, "volume"),
        ({"stems": {}}, "at least one"),
        ({"stems": "all"}, None),
        ({"stems": {"bass": {"style": "STYLE"}}, "settings": {"grain_ms": 5}}, "grain_ms"),
        ({"stems": {"bass": {"style": "STYLE"}}, "settings": {"pitch_mapping": "on"}}, "pitch_mapping"),
        ({"stems": {"bass": {"style": "STYLE"}}, "settings": {"tempo": 2}}, "tempo"),
    ],
)
def test_a_bad_remix_request_is_a_400_naming_the_field_and_starts_nothing(client, project, body, needle):
    style = _ready_style(client)
    url = f"/api/v1/projects/{project.id}/remixes/"
    if isinstance(body, str):  # what a JSON encoder will not write (NaN, a 400-digit number)
        response = client.post(url, body.replace("STYLE", style["id"]), content_type="application/json")
    else:
        stems = body["stems"]
        if isinstance(stems, dict) and stems.get("bass", {}).get("style") == "STYLE":
            stems["bass"]["style"] = style["id"]
        response = client.post(url, body, format="json")

    assert response.status_code == 400, response.content
    assert response.json()["code"] in ("invalid_input", "parse_error")
    if needle:  # named in the message, or as the field it is about
        body = response.json()
        assert needle in body["message"] or any(needle in field for field in body["extra"]["fields"]), body
    assert Remix.objects.count() == 0
    assert not Job.objects.filter(kind=Job.Kind.REMIX).exists()


def test_a_remix_with_another_users_sound_is_refused_like_a_missing_one(client, project):
    other = _other_client()
    theirs = _ready_style(other)

    response = _remix(client, project, theirs["id"])

    assert response.status_code == 400
    assert response.json()["code"] == "style_not_ready"
    assert Remix.objects.count() == 0


def test_another_users_remix_is_a_404_everywhere(client, project):
    style = _ready_style(client)
    remix = _remix(client, project, style["id"]).json()
    remix_song.fn(remix["job"])
    other = _other_client()

    base = f"/api/v1/remixes/{remix['id']}/"
    for url in (base, f"{base}download/", f"{base}stems/bass/", f"{base}stems/bass/preview/",
                f"{base}stems/bass/peaks/", f"/api/v1/projects/{project.id}/remixes/"):  # fmt: skip
        assert other.get(url).status_code == 404, url
    assert _remix(other, project, style["id"]).status_code == 404


def test_a_stem_the_remix_did_not_revoice_is_a_404(client, project):
    style = _ready_style(client)
    remix = _remix(client, project, style["id"]).json()
    remix_song.fn(remix["job"])

    assert client.get(f"/api/v1/remixes/{remix['id']}/stems/drums/").status_code == 404
    assert client.get(f"/api/v1/remixes/{remix['id']}/stems/%00/").status_code == 404


def test_the_revoiced_stems_join_the_mixer_and_its_export(client, project, user):
    from model.actors import export_mix

    user_make_pro(user)  # a WAV export, to compare samples
    style = _ready_style(client)
    remix = _remix(client, project, style["id"]).json()
    remix_song.fn(remix["job"])

    mix = client.get(f"/api/v1/projects/{project.id}/mix/").json()
    assert list(mix["settings"]["stems"]) == ["vocals", "drums", "bass", "other", "remix_bass"]
    saved = client.put(
        f"/api/v1/projects/{project.id}/mix/",
        {"settings": {"stems": {"bass": {"mute": True}, "remix_bass": {"solo": True}}}},
        format="json",
    )
    assert saved.status_code == 200, saved.content
    export = client.post(
        f"/api/v1/projects/{project.id}/exports/", {"format": "wav", "stems": {"remix_bass": {"solo": True}}},
        format="json",
    ).json()  # fmt: skip
    export_mix.fn(export["job"])
    done = client.get(f"/api/v1/exports/{export['id']}/").json()
    assert done["state"] == "done", done
    location = client.get(done["download_url"])["Location"]
    audio, _sr = sf.read(io.BytesIO(b"".join(client.get(location).streaming_content)))
    # Only the re-voiced bass is heard, as the remix made it.
    track = client.get(f"/api/v1/remixes/{remix['id']}/stems/bass/")["Location"]
    revoiced, _sr = sf.read(io.BytesIO(b"".join(client.get(track).streaming_content)))
    assert np.sqrt(np.mean(audio**2)) > 0.01
    n = min(len(audio), len(revoiced))
    assert np.abs(audio[:n] - revoiced[:n]).max() < 2e-3


def test_a_remix_whose_sound_was_deleted_fails_saying_so_and_costs_nothing(client, project):
    style = _ready_style(client)
    remix = _remix(client, project, style["id"]).json()
    client.delete(f"/api/v1/styles/{style['id']}/")

    remix_song.fn(remix["job"])  # final: not retried

    body = client.get(f"/api/v1/remixes/{remix['id']}/").json()
    assert body["state"] == "failed"
    assert "deleted" in body["user_error"]
    assert body["tracks"] == []
    record = UsageRecord.objects.get(metric=UsageRecord.Metric.REMIXES, job_id=remix["job"])
    assert record.state == UsageRecord.State.RELEASED


def test_deleting_the_song_deletes_its_remixes_files(client, project, media, django_capture_on_commit_callbacks):
    style = _ready_style(client)
    remix = _remix(client, project, style["id"]).json()
    remix_song.fn(remix["job"])
    remix_files = [p for p in media.rglob("*") if p.is_file() and "remixes" in p.parts]
    assert len(remix_files) == 3  # the mix, the re-voiced bass and its preview

    with django_capture_on_commit_callbacks(execute=True):
        assert client.delete(f"/api/v1/projects/{project.id}/").status_code == 204

    assert not [p for p in media.rglob("*") if p.is_file() and "remixes" in p.parts]
    assert Remix.objects.count() == 0


def test_the_same_remix_settings_give_the_same_file(client, project):
    style = _ready_style(client)
    first = _remix(client, project, style["id"]).json()
    remix_song.fn(first["job"])
    second = _remix(client, project, style["id"]).json()
    remix_song.fn(second["job"])

    def samples(remix_id: str) -> np.ndarray:
        location = client.get(f"/api/v1/remixes/{remix_id}/download/")["Location"]
        return sf.read(io.BytesIO(b"".join(client.get(location).streaming_content)))[0]

    assert np.array_equal(samples(first["id"]), samples(second["id"]))


def test_an_export_renders_the_remix_it_was_mixed_with_not_a_newer_one(client, project, user):
    from model.actors import export_mix

    user_make_pro(user)
    style = _ready_style(client)
    first = _remix(client, project, style["id"]).json()  # the bass re-voiced
    remix_song.fn(first["job"])
    export = client.post(
        f"/api/v1/projects/{project.id}/exports/", {"format": "wav", "stems": {"remix_bass": {"solo": True}}},
        format="json",
    ).json()  # fmt: skip
    newer = client.post(
        f"/api/v1/projects/{project.id}/remixes/", {"stems": {"drums": {"style": style["id"]}}}, format="json"
    ).json()
    remix_song.fn(newer["job"])  # lands before the export runs

    export_mix.fn(export["job"])

    done = client.get(f"/api/v1/exports/{export['id']}/").json()
    audio, _sr = sf.read(
        io.BytesIO(b"".join(client.get(client.get(done["download_url"])["Location"]).streaming_content))
    )
    track = client.get(f"/api/v1/remixes/{first['id']}/stems/bass/")["Location"]
    bass, _sr = sf.read(io.BytesIO(b"".join(client.get(track).streaming_content)))
    n = min(len(audio), len(bass))
    assert np.abs(audio[:n] - bass[:n]).max() < 2e-3  # the first remix's bass alone, as it was mixed


def test_deleting_the_account_deletes_the_users_sounds_and_their_files(
    client, user, media, django_capture_on_commit_callbacks
):
    from business.services import account_delete

    _ready_style(client)
    assert len(_files(media)) == 2

    with django_capture_on_commit_callbacks(execute=True):
        account_delete(user=user)

    assert StyleSound.objects.count() == 0
    assert _files(media) == []
