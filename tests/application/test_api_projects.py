"""Project, stem and export endpoints; another user's things are a 404 everywhere."""

from __future__ import annotations

import io

import pytest
import soundfile as sf
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from domain.models import Export, Job, Project, Stem
from model.broker import queue_depth
from tests.factories import catalogue_write, pro_user_create, project_create_ready, user_create
from tests.helpers import signed_in, stored_files

pytestmark = pytest.mark.django_db


@pytest.fixture
def user():
    """A Pro user: what these tests export (WAV, FLAC, 320 kb/s, the stems zip) is Pro's."""
    return pro_user_create()


@pytest.fixture(autouse=True)
def _queues_empty(empty_broker):
    return empty_broker


@pytest.fixture
def stranger_client() -> APIClient:
    return signed_in(user_create())


@pytest.fixture
def project(user) -> Project:
    return project_create_ready(owner=user)


def test_detail_lists_jobs_and_stems_in_order(client, project):
    response = client.get(f"/api/v1/projects/{project.id}/")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready"
    assert [s["kind"] for s in body["stems"]] == ["vocals", "drums", "bass", "other"]
    assert body["stems"][0]["download_url"] == f"/api/v1/projects/{project.id}/stems/vocals/"
    assert body["stems"][0]["preview_url"] == f"/api/v1/projects/{project.id}/stems/vocals/preview/"
    assert [j["kind"] for j in body["jobs"]] == ["separate"]


def test_detail_and_list_say_in_plain_words_how_the_stems_were_made(client, project):
    Project.objects.filter(id=project.id).update(engine="offline", model_name="spleeter-2stems+net")
    project.refresh_from_db()

    detail = client.get(f"/api/v1/projects/{project.id}/").json()
    listed = client.get("/api/v1/projects/").json()["results"][0]

    assert detail["engine_label"] == listed["engine_label"] == "Fast separation (built in)"
    assert detail["engine"] == "offline"  # the engine's id stays, for programs


def test_expires_at_is_the_projects_retention_date(client, project):
    Project.objects.filter(id=project.id).update(expires_at="2031-05-04T03:02:01Z")

    detail = client.get(f"/api/v1/projects/{project.id}/").json()

    assert detail["expires_at"] == "2031-05-04T03:02:01Z"
    assert client.get("/api/v1/projects/").json()["results"][0]["expires_at"] == "2031-05-04T03:02:01Z"


def test_a_jobs_message_is_translated_when_shown(client, project, settings, tmp_path):
    message = "The separation failed. Please try again later; our team has the details."
    settings.LOCALE_PATHS = [
        catalogue_write(
            root=tmp_path / "locale",
            language="pt_BR",
            messages={message: "A separação falhou. Tente de novo mais tarde; nossa equipe tem os detalhes."},
        )
    ]
    Job.objects.filter(project=project).update(state=Job.State.FAILED, user_error=message)
    Project.objects.filter(id=project.id).update(status=Project.Status.FAILED, error=message)

    english = client.get(f"/api/v1/projects/{project.id}/", HTTP_ACCEPT_LANGUAGE="en").json()
    portuguese = client.get(f"/api/v1/projects/{project.id}/", HTTP_ACCEPT_LANGUAGE="pt-BR").json()

    assert english["jobs"][0]["user_error"] == english["error"] == message
    assert portuguese["jobs"][0]["user_error"].startswith("A separação falhou.")
    assert portuguese["error"].startswith("A separação falhou.")
    assert Job.objects.get(project=project).user_error == message  # stored as the worker wrote it


def test_list_shows_only_own_projects_with_a_fixed_number_of_queries(client, user):
    mine = [project_create_ready(owner=user, duration_s=0.5) for _ in range(3)]
    project_create_ready(owner=user_create(), duration_s=0.5)

    with CaptureQueriesContext(connection) as queries:
        response = client.get("/api/v1/projects/")

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3
    assert {p["id"] for p in body["results"]} == {str(p.id) for p in mine}
    assert len(queries) <= 4


def test_stem_download_is_the_lossless_file(client, project):
    redirect = client.get(f"/api/v1/projects/{project.id}/stems/bass/")
    response = APIClient().get(redirect["Location"])  # the signed link needs no session

    assert redirect.status_code == 302
    assert redirect["Location"].startswith("/files/")
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    audio, sr = sf.read(io.BytesIO(b"".join(response.streaming_content)))
    assert sr == 44100
    assert audio.shape == (int(2.0 * 44100), 2)


def test_stem_preview_and_peaks(client, project):
    preview = client.get(f"/api/v1/projects/{project.id}/stems/drums/preview/", follow=True)
    peaks = client.get(f"/api/v1/projects/{project.id}/stems/drums/peaks/")

    assert preview.status_code == 200
    assert preview["Content-Type"] == "audio/mpeg"
    assert peaks.status_code == 200
    body = peaks.json()
    assert body["kind"] == "drums"
    assert body["peaks_per_second"] == 50
    assert len(body["peaks"]) == 100
    assert all(-1 <= lo <= hi <= 1 for lo, hi in body["peaks"])
    assert max(hi for _, hi in body["peaks"]) == pytest.approx(0.2, abs=0.01)


@pytest.mark.parametrize("kind", ["kazoo", "%00", "vocals%00", "x" * 300])
@pytest.mark.parametrize("what", ["", "preview/", "peaks/"])
def test_unknown_stem_is_404(client, project, kind, what):
    response = client.get(f"/api/v1/projects/{project.id}/stems/{kind}/{what}")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_delete_removes_rows_and_files(client, project, media, django_capture_on_commit_callbacks):
    assert len(stored_files(media)) == 9  # original + 4 stems + 4 previews

    with django_capture_on_commit_callbacks(execute=True):
        response = client.delete(f"/api/v1/projects/{project.id}/")

    assert response.status_code == 204
    assert not Project.objects.filter(id=project.id).exists()
    assert Stem.objects.count() == 0 and Job.objects.count() == 0
    assert stored_files(media) == []


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/projects/{id}/"),
        ("delete", "/api/v1/projects/{id}/"),
        ("get", "/api/v1/projects/{id}/stems/vocals/"),
        ("get", "/api/v1/projects/{id}/stems/vocals/preview/"),
        ("get", "/api/v1/projects/{id}/stems/vocals/peaks/"),
        ("post", "/api/v1/projects/{id}/exports/"),
    ],
)
def test_another_users_project_is_404(stranger_client, project, media, method, path):
    before = stored_files(media)

    response = getattr(stranger_client, method)(path.format(id=project.id), {"format": "wav"}, format="json")

    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "message": "Not found.", "extra": {}}
    assert Project.objects.filter(id=project.id).exists()
    assert stored_files(media) == before
    assert Export.objects.count() == 0


def test_export_is_queued_with_clean_settings(client, project, django_capture_on_commit_callbacks):
    payload = {"format": "wav", "master_gain_db": -1.5, "stems": {"vocals": {"gain_db": -3, "mute": True}}}

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/api/v1/projects/{project.id}/exports/", payload, format="json")

    assert response.status_code == 202, response.content
    body = response.json()
    assert body["state"] == "queued"
    assert body["download_url"] is None
    export = Export.objects.get(id=body["id"])
    assert export.settings["master_gain_db"] == -1.5
    assert export.settings["stems"]["vocals"] == {"gain_db": -3.0, "mute": True, "solo": False, "pan": 0.0}
    assert export.settings["stems"]["bass"] == {"gain_db": 0.0, "mute": False, "solo": False, "pan": 0.0}
    assert queue_depth("cpu-priority") == 1  # a Pro user's


@pytest.mark.parametrize(
    ("payload", "status", "code"),
    [
        ({"format": "exe"}, 400, "invalid_input"),
        ({"format": "wav", "stems": {"kazoo": {}}}, 400, "invalid_input"),
        ({"format": "wav", "stems": {"vocals": {"pan": 3}}}, 400, "invalid_input"),
        ({"format": "wav", "stems": {"vocals": {"gain_db": "loud"}}}, 400, "invalid_input"),
    ],
)
def test_bad_export_settings_are_refused(client, project, payload, status, code):
    response = client.post(f"/api/v1/projects/{project.id}/exports/", payload, format="json")

    assert response.status_code == status, response.content
    assert response.json()["code"] == code
    assert Export.objects.count() == 0
    assert Job.objects.filter(kind=Job.Kind.EXPORT).count() == 0


def test_export_of_a_project_not_ready_is_409(client, project):
    Project.objects.filter(id=project.id).update(status=Project.Status.PROCESSING)

    response = client.post(f"/api/v1/projects/{project.id}/exports/", {"format": "mp3"}, format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "not_ready"
    assert Export.objects.count() == 0


def test_export_format_not_in_plan_is_refused():
    free_user = user_create()
    project = project_create_ready(owner=free_user, duration_s=0.5)
    client = signed_in(free_user)

    response = client.post(f"/api/v1/projects/{project.id}/exports/", {"format": "flac"}, format="json")

    assert response.status_code == 402
    body = response.json()
    assert body["code"] == "plan_required"
    assert body["extra"] == {"formats": ["mp3"], "mp3_max_kbps": 192, "upgrade_url": "/pricing/"}
    assert "FLAC" in body["message"]
    assert Export.objects.count() == 0 and Job.objects.filter(kind=Job.Kind.EXPORT).count() == 0


def test_another_users_export_is_404(client, stranger_client, project):
    export_id = client.post(f"/api/v1/projects/{project.id}/exports/", {"format": "wav"}, format="json").json()["id"]

    assert stranger_client.get(f"/api/v1/exports/{export_id}/").status_code == 404
    assert stranger_client.get(f"/api/v1/exports/{export_id}/download/").status_code == 404
    assert client.get(f"/api/v1/exports/{export_id}/").status_code == 200


def test_export_download_before_it_is_rendered_is_404(client, project):
    export_id = client.post(f"/api/v1/projects/{project.id}/exports/", {"format": "wav"}, format="json").json()["id"]

    response = client.get(f"/api/v1/exports/{export_id}/download/")

    assert response.status_code == 404


def test_schema_and_docs_are_served(client):
    schema = client.get("/api/v1/schema/")
    docs = client.get("/api/docs/")

    assert schema.status_code == 200
    assert b"/api/v1/projects/" in schema.content
    assert docs.status_code == 200
    assert b"swagger" in docs.content.lower()


def test_health_reports_each_dependency(client):
    response = APIClient().get("/health")

    assert response.status_code == 200
    checks = response.json()["checks"]
    assert set(checks) == {"database", "broker", "channel_layer", "storage", "disk", "workers"}
    assert checks["workers"]["seen_recently"] == 0  # reported, not failing
    assert all(c["status"] == "ok" for c in checks.values())
    assert checks["broker"]["queues"] == {"gpu": 0, "cpu": 0, "gpu-priority": 0, "cpu-priority": 0}
    assert checks["disk"]["free_bytes"] > 0


def test_health_is_503_when_a_dependency_is_down(client, monkeypatch):
    from application import health

    def broken() -> dict:
        raise ConnectionError("broker unreachable")

    monkeypatch.setitem(health.CHECKS, "broker", broken)

    response = APIClient().get("/health")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error"
    assert body["checks"]["broker"]["status"] == "error"
    assert "broker unreachable" in body["checks"]["broker"]["error"]
    assert body["checks"]["database"]["status"] == "ok"


def test_metrics_expose_requests_jobs_and_queues(client, project):
    APIClient().get("/health")

    response = APIClient().get("/metrics")

    assert response.status_code == 200
    text = response.content.decode()
    assert 'isomix_http_requests_total{method="GET",status="200"}' in text
    assert 'isomix_jobs{kind="separate",state="done"} 1.0' in text
    assert 'isomix_job_duration_seconds_count{kind="separate"}' in text
    assert 'isomix_queue_depth{queue="gpu"} 0.0' in text


def test_signed_link_is_refused_when_tampered_or_expired(client, project, settings):
    link = client.get(f"/api/v1/projects/{project.id}/stems/vocals/")["Location"]
    token = link.split("/")[2]

    tampered = APIClient().get(f"/files/{token[:-2]}xx/")
    settings.ISOMIX_DOWNLOAD_URL_TTL_S = -1  # every link is now past its lifetime
    expired = APIClient().get(link)

    assert tampered.status_code == 404
    assert expired.status_code == 404
