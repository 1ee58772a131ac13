"""Choosing the separation: the engines offered, an upload with a choice, separating a song again.

The Demucs path runs for real with demucs's tiny untrained model (``demucs_unittest``, offered in
the tests by ``ISOMIX_SEPARATION_TEST_MODEL``); the full Demucs models have no weights on this
machine, which is what a choice the installation does not have looks like.
"""

from __future__ import annotations

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils.text import slugify

from business.models import UsageRecord
from domain.models import Job, Project
from model.actors import separate_stems
from tests.audio import write_song
from tests.factories import plan_update, pro_user_create, project_create_ready, user_create
from tests.helpers import signed_in, stored_files

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _queues_empty(empty_broker):
    return empty_broker


@pytest.fixture(autouse=True)
def _upload_rate_fresh():
    """These tests upload often: the per-user upload rate (keyed by user id, which the test
    database hands out again after each test) starts and ends empty, for them and the tests after."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def user():
    return pro_user_create()


@pytest.fixture
def wav(tmp_path) -> bytes:
    return write_song(tmp_path / "song.wav", duration_s=2.0).read_bytes()


def _upload(client, wav: bytes, **fields):
    return client.post("/api/v1/projects/", {"file": SimpleUploadedFile("song.wav", wav), **fields})


def _run_separation(project_id) -> Job:
    job = Job.objects.filter(project_id=project_id, kind=Job.Kind.SEPARATE).latest("created_at")
    separate_stems.fn(str(job.id))
    return Job.objects.get(id=job.id)


def test_engines_say_what_this_server_has_and_what_the_plan_includes(client):
    plan_update("pro", engines=["offline", "htdemucs", "demucs_unittest"])

    body = client.get("/api/v1/engines/").json()

    engines = {e["name"]: e for e in body["engines"]}
    assert list(engines) == ["offline", "htdemucs", "htdemucs_ft", "htdemucs_6s", "demucs_unittest"]
    assert body["default"] == "offline"  # no Demucs weights here
    assert engines["offline"] | {"note": ""} == {
        "name": "offline", "label": "Fast separation (built in)", "note": "", "stems": 4,
        "installed": True, "in_plan": True, "available": True,
    }  # fmt: skip
    assert engines["offline"]["note"]
    assert (engines["htdemucs"]["installed"], engines["htdemucs"]["in_plan"]) == (False, True)
    assert (engines["htdemucs_ft"]["in_plan"], engines["htdemucs_ft"]["available"]) == (False, False)
    assert engines["htdemucs_6s"]["stems"] == 6
    assert engines["demucs_unittest"]["available"] is True


def test_engines_need_a_signed_in_user(db):
    from rest_framework.test import APIClient

    response = APIClient().get("/api/v1/engines/")
    assert response.status_code in (401, 403)
    assert response.json()["code"] in ("not_authenticated", "authentication_failed")


def test_an_upload_with_a_chosen_engine_and_two_stems_is_separated_so(client, media, wav):
    plan_update("pro", engines=["offline", "demucs_unittest"])

    response = _upload(client, wav, engine="demucs_unittest", two_stems="true")

    assert response.status_code == 202, response.json()
    project_id = response.json()["id"]
    job = Job.objects.get(project_id=project_id)
    assert (job.engine, job.params) == ("demucs_unittest", {"two_stems": True})
    # Two stems cost the song's seconds twice (2 s of audio).
    usage = UsageRecord.objects.get(job_id=job.id, metric=UsageRecord.Metric.SEPARATION_SECONDS)
    assert usage.amount == 2 * 2
    assert _run_separation(project_id).state == Job.State.DONE
    body = client.get(f"/api/v1/projects/{project_id}/").json()
    assert body["status"] == "ready"
    assert [s["kind"] for s in body["stems"]] == ["vocals", "instrumental"]
    assert (body["engine"], body["model_name"]) == ("demucs_unittest", "demucs_unittest")
    assert body["engine_label"] == "Demucs test model (untrained)"
    assert client.get(body["stems"][1]["download_url"]).status_code in (200, 302)


def test_an_engine_this_server_does_not_have_is_a_clear_400_and_leaves_nothing(client, media, wav):
    response = _upload(client, wav, engine="htdemucs_ft")

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "engine_unavailable"
    assert "Demucs fine-tuned, best quality is not installed on this server" in body["message"]
    assert "offline" in body["extra"]["installed"]
    assert Project.objects.count() == 0 and Job.objects.count() == 0
    assert UsageRecord.objects.count() == 0
    assert stored_files(media) == []


def test_an_engine_outside_the_plan_is_402_with_the_way_to_upgrade(media, wav):
    client = signed_in(user_create())  # Free
    plan_update("free", engines=["offline"])

    response = _upload(client, wav, engine="demucs_unittest")

    assert response.status_code == 402
    body = response.json()
    assert body["code"] == "plan_required"
    assert body["extra"]["engines"] == ["offline"] and body["extra"]["upgrade_url"]
    assert Project.objects.count() == 0 and stored_files(media) == []


@pytest.mark.parametrize("engine", ["nonsense", "auto; DROP TABLE", "x" * 33, "demucs"])
def test_an_unknown_engine_is_a_field_error(client, media, wav, engine):
    response = _upload(client, wav, engine=engine)

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid_input"
    assert "engine" in body["extra"]["fields"]
    assert Project.objects.count() == 0 and stored_files(media) == []


def test_the_test_model_is_not_offered_unless_the_setting_says(client, settings, media, wav):
    settings.ISOMIX_SEPARATION_TEST_MODEL = False

    assert "demucs_unittest" not in [e["name"] for e in client.get("/api/v1/engines/").json()["engines"]]
    assert _upload(client, wav, engine="demucs_unittest").json()["code"] == "invalid_input"


def test_separating_again_keeps_the_old_stems_until_the_new_ones_are_ready(
    client, user, media, django_capture_on_commit_callbacks
):
    plan_update("pro", engines=["offline", "demucs_unittest"])
    project = project_create_ready(owner=user)
    old = {s.kind: (s.file_key, s.preview_key) for s in project.stems.all()}

    response = client.post(
        f"/api/v1/projects/{project.id}/separation/", {"engine": "demucs_unittest", "two_stems": True}, format="json"
    )

    assert response.status_code == 202, response.json()
    body = response.json()
    assert body["status"] == "ready"  # the mixer keeps playing the old stems meanwhile
    assert [s["kind"] for s in body["stems"]] == ["vocals", "drums", "bass", "other"]
    assert body["jobs"][-1]["state"] == "queued"
    assert all(default_storage.exists(k) for keys in old.values() for k in keys)
    again = client.post(f"/api/v1/projects/{project.id}/separation/", {"engine": "offline"}, format="json")
    assert again.status_code == 409 and again.json()["code"] == "job_conflict"

    with django_capture_on_commit_callbacks(execute=True):
        assert _run_separation(project.id).state == Job.State.DONE

    project.refresh_from_db()
    assert project.status == Project.Status.READY and project.model_name == "demucs_unittest"
    stems = {s.kind: s for s in project.stems.all()}
    assert sorted(stems) == ["instrumental", "vocals"]
    assert all(default_storage.exists(s.file_key) and default_storage.exists(s.preview_key) for s in stems.values())
    assert all(s.file_key not in {k for keys in old.values() for k in keys} for s in stems.values())
    # The earlier set's files are gone once the new one replaced it.
    assert not any(default_storage.exists(k) for keys in old.values() for k in keys)


def test_a_failed_separation_again_keeps_the_stems_the_song_had(client, user, media, monkeypatch):
    from model.engines.base import EngineError

    project = project_create_ready(owner=user)
    before = sorted((s.kind, s.file_key) for s in project.stems.all())

    class Broken:
        name, model_name, stems = "offline", "broken", ("vocals", "drums", "bass", "other")

        def separate(self, audio, *, sr, progress=None):
            raise EngineError("the model is damaged")

    monkeypatch.setattr("model.engines.get_engine", lambda *a, **k: Broken())
    monkeypatch.setattr("model.actors.MAX_ATTEMPTS", 1)
    assert client.post(f"/api/v1/projects/{project.id}/separation/", {}, format="json").status_code == 202

    job = _run_separation(project.id)

    assert job.state == Job.State.FAILED and job.user_error
    project.refresh_from_db()
    assert project.status == Project.Status.READY
    assert sorted((s.kind, s.file_key) for s in project.stems.all()) == before
    assert all(default_storage.exists(key) for _, key in before)
    assert UsageRecord.objects.get(job_id=job.id).state == UsageRecord.State.RELEASED


def test_separating_again_another_users_song_is_a_404(media):
    project = project_create_ready(owner=pro_user_create())
    stranger = signed_in(pro_user_create())

    response = stranger.post(f"/api/v1/projects/{project.id}/separation/", {"engine": "offline"}, format="json")

    assert response.status_code == 404 and response.json()["code"] == "not_found"
    assert Job.objects.filter(project=project).count() == 1


@pytest.mark.parametrize(
    "body",
    [[], "offline", {"engine": 4}, {"two_stems": "perhaps"}, {"engine": ["offline"]}, {"engine": "htdemucs_9s"}],
)
def test_separating_again_with_absurd_json_is_a_400_and_queues_nothing(client, user, media, body):
    project = project_create_ready(owner=user)

    response = client.post(f"/api/v1/projects/{project.id}/separation/", body, format="json")

    assert response.status_code == 400
    assert response.json()["code"] in ("invalid_input", "parse_error")
    assert Job.objects.filter(project=project).count() == 1
    assert UsageRecord.objects.filter(metric=UsageRecord.Metric.SEPARATION_SECONDS).count() == 0


SIX = ("vocals", "drums", "bass", "other", "guitar", "piano")


@pytest.mark.parametrize(
    ("kinds", "muted", "heard"),
    [(SIX, "vocals", "instrumental"), (("vocals", "instrumental"), "instrumental", "vocals")],
    ids=["six-stems", "two-stems"],
)
def test_every_stem_of_a_six_or_two_stem_song_is_in_the_detail_zip_and_export(
    client, user, media, tmp_path, kinds, muted, heard
):
    import zipfile

    project = project_create_ready(owner=user, duration_s=1.0, kinds=kinds)

    body = client.get(f"/api/v1/projects/{project.id}/").json()
    assert [s["kind"] for s in body["stems"]] == list(kinds)
    archive = client.get(f"/api/v1/projects/{project.id}/stems/archive/")
    assert archive.status_code == 200
    (tmp_path / "stems.zip").write_bytes(b"".join(archive.streaming_content))
    with zipfile.ZipFile(tmp_path / "stems.zip") as zipped:
        assert [name.rsplit("-", 1)[1] for name in zipped.namelist()] == [f"{kind}.flac" for kind in kinds]
    export = client.post(
        f"/api/v1/projects/{project.id}/exports/",
        {"format": "wav", "stems": {muted: {"mute": True}}},
        format="json",
    )
    assert export.status_code == 202, export.json()
    assert export.json()["filename"] == f"{slugify(project.name)}-{heard}.wav"


def test_a_song_separated_again_keeps_its_analysis_and_edited_lyrics(client, user, media, settings):
    from domain.models import Analysis, Lyrics

    settings.ISOMIX_LYRICS_AUTO = True
    project = project_create_ready(owner=user)
    Analysis.objects.create(project=project, tempo_bpm=120.0, time_signature="4/4", loudness_lufs=-14.0, peak_dbfs=-1.0)
    Lyrics.objects.create(project=project, language="en", source=Lyrics.Source.EDITED, lines=[])
    plan_update("pro", engines=["offline", "demucs_unittest"])
    body = {"engine": "demucs_unittest"}
    assert client.post(f"/api/v1/projects/{project.id}/separation/", body, format="json").status_code == 202

    assert _run_separation(project.id).state == Job.State.DONE

    kinds = list(Job.objects.filter(project=project).order_by("created_at").values_list("kind", flat=True))
    assert kinds == ["separate", "separate"]  # no new analysis, no new transcription


def test_two_separations_again_at_once_queue_one(client, user, media):
    project = project_create_ready(owner=user)
    url = f"/api/v1/projects/{project.id}/separation/"

    first, second = client.post(url, {}, format="json"), client.post(url, {}, format="json")

    assert (first.status_code, second.status_code) == (202, 409)
    assert Job.objects.filter(project=project, state=Job.State.QUEUED).count() == 1


def test_the_command_line_writes_vocals_and_instrumental_with_two_stems(tmp_path):
    import soundfile as sf
    from django.core.management import call_command

    song = write_song(tmp_path / "song.wav", duration_s=2.0)

    call_command("separate", str(song), "--out", str(tmp_path / "out"), "--engine", "demucs_unittest", "--two-stems")

    written = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert written == ["instrumental.wav", "vocals.wav"]
    vocals, sr = sf.read(tmp_path / "out" / "vocals.wav")
    assert sr == 44100 and vocals.shape == (88200, 2)
