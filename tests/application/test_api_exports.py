"""Exports with the practice settings: bit rate, loop region, tempo and key, and their names."""

from __future__ import annotations

import io

import pytest
import soundfile as sf
from rest_framework.test import APIClient

from domain.models import Export, Job, Project
from model.actors import export_mix
from tests.factories import catalogue_write, pro_user_create, project_create_ready

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("empty_broker")]


@pytest.fixture
def user():
    """A Pro user: what these tests export (WAV, FLAC, 320 kb/s, the stems zip) is Pro's."""
    return pro_user_create()


@pytest.fixture
def project(user) -> Project:
    project = project_create_ready(owner=user, duration_s=2.0)
    Project.objects.filter(id=project.id).update(name="Águas de Março")
    return Project.objects.get(id=project.id)


def _export(client, project: Project, **body):
    return client.post(f"/api/v1/projects/{project.id}/exports/", body, format="json")


def test_an_mp3_export_takes_its_bit_rate_and_is_named_by_what_it_holds(client, project):
    response = _export(client, project, format="mp3", bitrate_kbps=320, stems={"vocals": {"mute": True}})

    assert response.status_code == 202, response.content
    body = response.json()
    assert body["bitrate_kbps"] == 320
    assert body["region"] == "all"
    assert body["filename"] == "aguas-de-marco-instrumental.mp3"
    export = Export.objects.get(id=body["id"])
    assert (export.bitrate_kbps, export.region) == (320, "all")


def test_an_mp3_without_a_bit_rate_is_192_and_lossless_keeps_none(client, project):
    mp3 = _export(client, project, format="mp3").json()
    flac = _export(client, project, format="flac", bitrate_kbps=128).json()

    assert mp3["bitrate_kbps"] == 192
    assert flac["bitrate_kbps"] is None
    assert flac["filename"] == "aguas-de-marco-mix.flac"


def test_the_settings_kept_carry_tempo_key_and_loop(client, project):
    body = _export(
        client, project, format="wav", tempo=0.8, transpose=-2, region="loop",
        loop={"start_s": 0.5, "end_s": 1.5, "enabled": True}, stems={"drums": {"solo": True}, "bass": {"solo": True}},
    ).json()  # fmt: skip

    export = Export.objects.get(id=body["id"])
    assert export.settings["tempo"] == 0.8
    assert export.settings["transpose"] == -2
    assert export.settings["loop"] == {"start_s": 0.5, "end_s": 1.5, "enabled": True}
    assert export.region == "loop"
    assert body["filename"] == "aguas-de-marco-drums-and-bass-tempo80-key-2-loop-0m00s-0m02s.wav"


@pytest.mark.parametrize(
    "body",
    [
        {"format": "mp3", "bitrate_kbps": 100},
        {"format": "mp3", "bitrate_kbps": "loud"},
        {"format": "wav", "region": "chorus"},
        {"format": "wav", "region": "loop"},  # no loop to render
        {"format": "wav", "region": "loop", "loop": None},
        {"format": "wav", "region": "loop", "loop": {"start_s": 1.0, "end_s": 8.0}},  # past the song's end
        {"format": "wav", "tempo": 2},
        {"format": "wav", "transpose": -13},
        {"format": "wav", "loop": {"start_s": 1.0, "end_s": 1.01}},
    ],
)
def test_bad_export_options_are_refused_and_nothing_is_queued(client, project, empty_broker, body):
    response = _export(client, project, **body)

    assert response.status_code == 400, response.content
    assert response.json()["code"] == "invalid_input"
    assert Export.objects.count() == 0
    assert Job.objects.filter(kind=Job.Kind.EXPORT).count() == 0


def test_the_export_runs_from_the_api_to_the_downloaded_file(client, project, django_capture_on_commit_callbacks):
    # Given an export of the loop 0.5–1.5 s, slowed to 0.8 and a tone down, vocals only
    with django_capture_on_commit_callbacks(execute=True):
        created = _export(
            client, project, format="flac", tempo=0.8, transpose=-2, region="loop",
            loop={"start_s": 0.5, "end_s": 1.5, "enabled": True}, stems={"vocals": {"solo": True}},
        ).json()  # fmt: skip

    # When the worker renders it
    export_mix.fn(created["job"])

    # Then the export says so, and its download is that audio under that name
    done = client.get(f"/api/v1/exports/{created['id']}/").json()
    assert done["state"] == "done" and done["error"] == ""
    assert done["download_url"] == f"/api/v1/exports/{created['id']}/download/"
    redirect = client.get(done["download_url"])
    response = APIClient().get(redirect["Location"])
    assert response.status_code == 200
    filename = "aguas-de-marco-vocals-tempo80-key-2-loop-0m00s-0m02s.flac"
    assert response["Content-Disposition"] == f'attachment; filename="{filename}"'
    audio, sr = sf.read(io.BytesIO(b"".join(response.streaming_content)))
    assert sr == 44100
    assert audio.shape[0] / sr == pytest.approx(1.0 / 0.8, abs=0.02)


def test_a_failed_exports_message_is_shown_in_the_language_asked_for(client, project, settings, tmp_path):
    settings.LOCALE_PATHS = [
        catalogue_write(
            root=tmp_path / "locale",
            language="pt_BR",
            messages={"The audio could not be encoded.": "Não foi possível codificar o áudio."},
        )
    ]
    export_id = _export(client, project, format="wav").json()["id"]
    Job.objects.filter(export__id=export_id).update(
        state=Job.State.FAILED, user_error="The audio could not be encoded."
    )

    english = client.get(f"/api/v1/exports/{export_id}/", HTTP_ACCEPT_LANGUAGE="en")
    portuguese = client.get(f"/api/v1/exports/{export_id}/", HTTP_ACCEPT_LANGUAGE="pt-BR")

    assert english.json()["error"] == "The audio could not be encoded."
    assert portuguese.json()["error"] == "Não foi possível codificar o áudio."
    assert Job.objects.get(export__id=export_id).user_error == "The audio could not be encoded."  # stored as is
