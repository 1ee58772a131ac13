"""Server-rendered pages: sign-up, library, project, delete; other users get 404."""

from __future__ import annotations

import datetime
import json
import posixpath
import re
from html import unescape
from pathlib import Path

import pytest
from django.db import transaction
from django.test import Client
from django.utils import formats, timezone, translation

from application.pages.project import MIXER_MODULES
from business.selectors import plan_limits_for_user
from domain.mix import (
    GAIN_DB_MAX,
    GAIN_DB_MIN,
    GAIN_DB_STEP,
    PAN_MAX,
    PAN_MIN,
    PAN_STEP,
    TEMPO_MAX,
    TEMPO_MIN,
    TEMPO_STEP,
    TRANSPOSE_MAX,
    TRANSPOSE_MIN,
    TRANSPOSE_STEP,
    mixer_ranges,
)
from domain.models import Job, Project
from model.broker import queue_depth
from tests.factories import PASSWORD, pro_user_create, project_create_ready, user_create
from tests.helpers import stored_files

pytestmark = pytest.mark.django_db


def test_signup_logs_in_and_lands_on_the_library():
    client = Client()

    response = client.post(
        "/accounts/signup/",
        {"username": "ada", "email": "Ada@Example.COM", "password1": PASSWORD, "password2": PASSWORD},
        follow=True,
    )

    assert response.redirect_chain[-1][0] == "/projects/"
    assert response.context["user"].username == "ada"
    assert response.context["user"].email == "Ada@example.com"  # the domain part is normalised


def test_login_and_logout():
    user = user_create()
    client = Client()

    assert client.post("/accounts/login/", {"username": user.username, "password": PASSWORD}).status_code == 302
    assert client.get("/projects/").status_code == 200
    client.post("/accounts/logout/")
    assert client.get("/projects/").status_code == 302


def test_pages_need_login():
    response = Client().get("/projects/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_library_lists_own_projects_only():
    owner = user_create()
    mine = project_create_ready(owner=owner, duration_s=0.5)
    theirs = project_create_ready(owner=user_create(), duration_s=0.5)
    client = Client()
    client.force_login(owner)

    response = client.get("/projects/")

    assert response.status_code == 200
    assert list(response.context["projects"]) == [mine]
    assert mine.name in response.content.decode()
    assert theirs.name not in response.content.decode()


def test_ready_project_page_has_the_mixer():
    owner = pro_user_create()
    project = project_create_ready(owner=owner, duration_s=0.5)
    client = Client()
    client.force_login(owner)

    response = client.get(f"/projects/{project.id}/")

    assert response.status_code == 200
    assert [s.kind for s in response.context["stems"]] == ["vocals", "drums", "bass", "other"]
    assert response.context["export_formats"] == ["mp3", "wav", "flac"]


def test_another_users_project_page_and_delete_are_404(media):
    project = project_create_ready(owner=user_create(), duration_s=0.5)
    before = stored_files(media)
    client = Client()
    client.force_login(user_create())

    assert client.get(f"/projects/{project.id}/").status_code == 404
    assert client.post(f"/projects/{project.id}/delete/").status_code == 404
    assert Project.objects.filter(id=project.id).exists()
    assert stored_files(media) == before


def test_delete_from_the_library_removes_the_files(media, django_capture_on_commit_callbacks):
    owner = user_create()
    project = project_create_ready(owner=owner, duration_s=0.5)
    client = Client()
    client.force_login(owner)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/projects/{project.id}/delete/")

    assert response.status_code == 302
    assert not Project.objects.exists()
    assert stored_files(media) == []


def test_deleting_a_project_still_separating_gives_back_what_its_job_reserved(django_capture_on_commit_callbacks):
    # Given a project whose separation was accepted (the upload and its minutes reserved) and is still queued
    from business.models import UsageRecord
    from business.quotas import quota_reserve

    owner = user_create()
    project = project_create_ready(owner=owner, duration_s=0.5)
    Project.objects.filter(id=project.id).update(status=Project.Status.PROCESSING)
    job = Job.objects.create(project=project, kind=Job.Kind.SEPARATE, state=Job.State.QUEUED)
    with transaction.atomic():
        quota_reserve(user=owner, amounts={"uploads": 1, "separation_s": 120}).attach(job_id=job.id)
    client = Client()
    client.force_login(owner)

    # When the owner deletes it from the page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/projects/{project.id}/delete/")

    # Then it is gone, and the reserved units no longer count
    assert response.status_code == 302
    assert not Project.objects.exists()
    assert sorted(UsageRecord.objects.values_list("metric", "state")) == [
        ("separation_s", "released"),
        ("uploads", "released"),
    ]


def test_admin_filters_jobs_and_retries_a_failed_one(django_capture_on_commit_callbacks):
    import dramatiq

    dramatiq.get_broker().flush_all()
    admin = user_create()
    admin.is_staff = admin.is_superuser = True
    admin.save()
    project = project_create_ready(owner=user_create(), duration_s=0.5)
    failed = Job.objects.create(project=project, kind=Job.Kind.EXPORT, state=Job.State.FAILED, user_error="x")
    client = Client()
    client.force_login(admin)

    listing = client.get("/admin/domain/job/?state__exact=failed")
    with django_capture_on_commit_callbacks(execute=True):
        retry = client.post("/admin/domain/job/", {"action": "retry", "_selected_action": [str(failed.id)]})

    assert listing.status_code == 200
    assert list(listing.context["cl"].result_list) == [failed]
    assert retry.status_code == 302
    failed.refresh_from_db()
    assert failed.state == Job.State.QUEUED and failed.user_error == ""
    assert queue_depth("cpu") == 1
    dramatiq.get_broker().flush_all()
    for page in ("project", "stem", "export"):
        assert client.get(f"/admin/domain/{page}/").status_code == 200


def _attribute(html: str, name: str) -> str:
    """The one value of ``name="..."`` in ``html``, unescaped as a browser would."""
    values = re.findall(rf'\s{re.escape(name)}="([^"]*)"', html)
    assert len(values) == 1, (name, values)
    return unescape(values[0])


def _bounds(tag: str) -> list[float]:
    return [float(_attribute(tag, name)) for name in ("min", "max", "step")]


@pytest.mark.parametrize("language", ["en", "pt-br"])  # pt-BR writes -0,05: not a number in HTML
def test_project_page_serves_the_mixer_ranges_the_api_validates_with(language):
    owner = user_create()
    project = project_create_ready(owner=owner, duration_s=0.5)
    client = Client()
    client.force_login(owner)

    with translation.override(language):
        html = client.get(f"/projects/{project.id}/").content.decode()

    assert json.loads(_attribute(html, "data-mixer-ranges")) == mixer_ranges()
    faders = re.findall(r'<input type="range" id="(?:master-gain|gain-\w+)"[^>]*>', html)
    pans = re.findall(r'<input type="range" id="pan-\w+"[^>]*>', html)
    tempo = re.findall(r'<input type="range" id="tempo"[^>]*>', html)
    transpose = re.findall(r'<input type="range" id="transpose"[^>]*>', html)
    assert len(faders) == 5 and len(pans) == 4 and len(tempo) == 1 and len(transpose) == 1
    assert all(_bounds(tag) == [GAIN_DB_MIN, GAIN_DB_MAX, GAIN_DB_STEP] for tag in faders)
    assert all(_bounds(tag) == [PAN_MIN, PAN_MAX, PAN_STEP] for tag in pans)
    assert _bounds(tempo[0]) == [TEMPO_MIN, TEMPO_MAX, TEMPO_STEP]
    assert _bounds(transpose[0]) == [TRANSPOSE_MIN, TRANSPOSE_MAX, TRANSPOSE_STEP]


def test_library_serves_the_upload_limit_in_bytes():
    owner = user_create()
    client = Client()
    client.force_login(owner)

    html = client.get("/projects/").content.decode()

    assert int(_attribute(html, "data-max-upload-bytes")) == plan_limits_for_user(user=owner).max_upload_bytes


def _meta(html: str) -> str:
    match = re.search(r'<p class="meta" data-testid="project-meta">(.*?)</p>', html, re.DOTALL)
    assert match, "no project meta line"
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", match.group(1))).split())


@pytest.mark.parametrize("ready", [True, False], ids=["mixer", "progress"])
@pytest.mark.parametrize("language", ["en", "pt-br"])
def test_project_pages_say_in_plain_words_how_it_was_separated_and_until_when_it_is_kept(ready, language):
    # Given a separated project kept until a known day (or one still waiting to be separated)
    owner = user_create()
    project = project_create_ready(owner=owner, duration_s=0.5)
    expires = timezone.make_aware(datetime.datetime(2027, 3, 14, 12, 0))
    changes = {"expires_at": expires, "model_name": "spleeter-2stems+net"}
    if not ready:
        changes.update(status=Project.Status.PENDING, engine="", model_name="")
    Project.objects.filter(id=project.id).update(**changes)
    client = Client()
    client.force_login(owner)

    # When its page is opened in that language
    html = client.get(f"/projects/{project.id}/", HTTP_ACCEPT_LANGUAGE=language).content.decode()

    # Then it says until when it is kept, as the language writes dates, and (once separated)
    # what made its stems in a musician's words, never the engine's id
    meta = _meta(html)
    with translation.override(language):
        kept = translation.gettext("Kept until %(date)s") % {"date": formats.date_format(expires, "DATE_FORMAT")}
        made = translation.gettext("Separated with %(engine)s") % {
            "engine": translation.gettext("Fast separation (built in)")
        }
    assert kept in meta
    assert ('data-testid="project-engine"' in html) is ready
    if ready:
        assert made in meta
        assert "spleeter" not in meta and "offline" not in meta
    if language == "pt-br":
        assert "14 de março de 2027" in meta.lower()
    else:
        assert "March 14, 2027" in meta


def test_mixer_page_links_and_preloads_each_stems_audio(media):
    # Given a ready project
    owner = user_create()
    project = project_create_ready(owner=owner, duration_s=0.5)
    client = Client()
    client.force_login(owner)

    # When its page is opened
    html = client.get(f"/projects/{project.id}/").content.decode()

    # Then each stem strip names its audio, the head preloads exactly those, and each plays
    strips = re.findall(r'<li class="stem [^"]*" data-stem="(\w+)"[^>]*data-preview-url="([^"]+)"', html)
    preloads = re.findall(r'<link rel="preload" href="([^"]+)" as="fetch" crossorigin data-stem-preview="(\w+)"', html)
    assert [kind for kind, _ in strips] == ["vocals", "drums", "bass", "other"]
    assert sorted((kind, unescape(url)) for url, kind in preloads) == sorted((k, unescape(u)) for k, u in strips)
    for _, url in strips:
        response = client.get(unescape(url))
        assert response.status_code == 200
        assert response["Content-Type"] == "audio/mpeg"
        assert b"".join(response.streaming_content)
    # And another user cannot use those links' page, nor its stems' API
    other = Client()
    other.force_login(user_create())
    assert other.get(f"/projects/{project.id}/").status_code == 404


def test_mixer_page_preloads_every_module_the_mixer_imports():
    # Given the mixer's ES modules as main.js imports them (static and dynamic imports)
    static = Path(__file__).resolve().parents[2] / "static"
    found: set[str] = set()
    todo = ["js/mixer/main.js"]
    while todo:
        path = todo.pop()
        if path in found:
            continue
        found.add(path)
        # The code only: a comment may show an import as an example.
        source = re.sub(r"/\*[\s\S]*?\*/|^\s*//[^\n]*", "", (static / path).read_text(), flags=re.MULTILINE)
        for target in re.findall(r'(?:from\s+|import\s*\(\s*)"(\.{1,2}/[^"]+\.js)"', source):
            todo.append(posixpath.normpath(posixpath.join(posixpath.dirname(path), target)))

    # Then the page preloads exactly those
    assert set(MIXER_MODULES) == found
