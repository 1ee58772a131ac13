"""The library page: one card per project with its state, its separation in plain words and
how long it is kept, and the data its live script (static/js/library.js) reads."""

from __future__ import annotations

import datetime as dt
import re
from html import unescape

import pytest
from django.test import Client
from django.utils import timezone

from business.models import UsageRecord
from business.services import account_get_or_create
from domain.models import Job, Project
from tests.application.test_i18n_pages import compiled_catalogues  # noqa: F401  (autouse: the .mo files)
from tests.factories import pro_user_create, project_create_ready, user_create

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def _row(html: str, project_id) -> str:
    match = re.search(rf'<li class="project"[^>]*data-project-id="{project_id}".*?</li>', html, re.DOTALL)
    assert match, f"no row for {project_id}"
    return match.group(0)


def _client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_ready_row_names_its_separation_in_plain_words_and_when_it_goes():
    owner = user_create()
    project = project_create_ready(owner=owner, duration_s=0.5)
    Project.objects.filter(id=project.id).update(
        model_name="spleeter-2stems+net", expires_at=dt.datetime(2026, 5, 17, 9, 0, tzinfo=dt.UTC)
    )

    row = _row(_client_for(owner).get("/projects/", **EN).content.decode(), project.id)

    assert 'data-status="ready"' in row
    assert '<dd data-field="engine" data-testid="project-engine">Fast separation (built in)</dd>' in row
    assert "spleeter" not in row and "offline" not in row
    assert '<time datetime="2026-05-17T09:00:00+00:00">Kept until May 17, 2026</time>' in row
    # Ready: the mixer is one tap away, and there is no progress bar
    assert re.search(r'<a class="btn btn-primary btn-small" href="/projects/[^"]+/" data-field="open"[^>]*>', row)
    assert 'data-field="open" data-testid="project-open" hidden' not in row
    assert re.search(r'data-field="progress-block" data-testid="project-progress" hidden', row)


def test_a_processing_row_shows_its_progress_and_no_mixer_link():
    owner = user_create()
    project = project_create_ready(owner=owner, duration_s=0.5)
    Project.objects.filter(id=project.id).update(status=Project.Status.PROCESSING, engine="", model_name="")
    Job.objects.filter(project=project).update(state=Job.State.RUNNING, progress=30, stage="separate")

    row = _row(_client_for(owner).get("/projects/", **EN).content.decode(), project.id)

    assert 'data-status="processing"' in row
    assert 'data-field="progress-block" data-testid="project-progress">' in row
    assert 'data-testid="project-open" hidden' in row
    assert 'data-field="engine-item" hidden' in row  # no separation has run yet
    assert 'data-field="expires-item" hidden' in row


def test_a_failed_row_says_why_in_plain_words():
    owner = user_create()
    project = project_create_ready(owner=owner, duration_s=0.5)
    Project.objects.filter(id=project.id).update(status=Project.Status.FAILED, error="The song could not be decoded.")

    row = _row(_client_for(owner).get("/projects/", **EN).content.decode(), project.id)

    assert 'data-status="failed"' in row
    assert (
        '<p class="project-error" data-field="error" data-testid="project-error">The song could not be decoded.</p>'
        in row
    )
    assert 'data-testid="project-open" hidden' in row


def test_the_list_carries_what_its_live_script_needs():
    owner = user_create()
    project_create_ready(owner=owner, duration_s=0.5)

    html = _client_for(owner).get("/projects/", **EN).content.decode()

    root = re.search(r"<section[^>]*data-library[^>]*>", html, re.DOTALL).group(0)
    assert 'data-api-url="/api/v1/projects/"' in root
    assert 'data-ws-path="/ws/library/"' in root
    assert 'data-detail-url-template="/projects/00000000-0000-0000-0000-000000000000/"' in root
    assert 'data-delete-url-template="/projects/00000000-0000-0000-0000-000000000000/delete/"' in root
    assert '<script type="module" src="/static/js/library.js"></script>' in html
    template = html.split("<template data-project-template>")[1].split("</template>")[0]
    for field in (
        "name",
        "status",
        "progress",
        "percent",
        "stage",
        "error",
        "engine",
        "expires",
        "open",
        "delete-form",
    ):
        assert f'data-field="{field}"' in template, field
    assert 'name="csrfmiddlewaretoken"' in template


def test_the_empty_library_says_so_and_keeps_an_empty_list_for_new_projects():
    html = _client_for(user_create()).get("/projects/", **EN).content.decode()

    assert re.search(r'<ul class="project-list" data-project-list data-testid="project-list" hidden>\s*</ul>', html)
    assert 'data-testid="project-list-empty">No projects yet.' in html


def test_the_delete_question_names_the_project_escaped():
    owner = user_create()
    project = project_create_ready(owner=owner, duration_s=0.5)
    Project.objects.filter(id=project.id).update(name='Rock "n" <roll>')

    row = _row(_client_for(owner).get("/projects/", **EN).content.decode(), project.id)

    confirm = re.search(r'data-confirm="([^"]*)"', row).group(1)
    assert unescape(confirm) == 'Delete “Rock "n" <roll>”? Its stems and exports are deleted too.'
    assert "<roll>" not in row


def test_the_library_is_in_portuguese_for_a_portuguese_browser():
    owner = user_create()
    project_create_ready(owner=owner, duration_s=0.5)

    html = _client_for(owner).get("/projects/", HTTP_ACCEPT_LANGUAGE="pt-BR").content.decode()

    for text in (
        "<h1>Biblioteca</h1>",
        "Novo projeto",
        "Abrir o mixer",
        "Excluir",
        ">Pronto<",
        "Separação rápida (embutida)",
    ):
        assert text in html, text
    assert 'placeholder="Se vazio, o nome do arquivo"' in html


#: Session, user, saved language (3); the account and its plan (2); every usage meter in one
#: aggregate (1); the projects (1); the paid plan, for the separation engines outside this one (1,
#: the test model here). None grows with the library.
LIBRARY_QUERIES = 8


def test_the_library_reads_a_fixed_number_of_queries(django_assert_max_num_queries):
    owner = user_create()
    account_get_or_create(user=owner)
    for _ in range(3):
        project_create_ready(owner=owner, duration_s=0.5)
    client = _client_for(owner)
    client.get("/projects/", **EN)  # the session and the account are read once per request

    with django_assert_max_num_queries(LIBRARY_QUERIES):
        response = client.get("/projects/", **EN)

    assert response.status_code == 200
    assert response.content.decode().count('data-testid="project-row"') == 3 + 1  # and the template's


# ---------------------------------------------------------------- the plan's limits in the upload box


def _used(user, **amounts) -> None:
    """Record ``metric=amount`` units of the user's allowances as used today."""
    account = account_get_or_create(user=user)
    for metric, amount in amounts.items():
        UsageRecord.objects.create(
            account=account, metric=metric, amount=amount, state=UsageRecord.State.COMMITTED, created_at=timezone.now()
        )


def _upload_box(html: str) -> str:
    return re.search(r"<section[^>]*data-upload .*?</section>", html, re.DOTALL).group(0)


def _text(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def test_the_upload_box_says_what_is_left_of_the_plan_today_and_this_month():
    # Given a Free user who uploaded 2 songs today, separated as 20 minutes of stems
    owner = user_create()
    _used(owner, uploads=2, separation_s=20 * 60)

    # When the library is opened
    box = _upload_box(_client_for(owner).get("/projects/", **EN).content.decode())

    # Then the box knows the plan's allowances left, says them, and takes a file
    root = re.search(r"<section[^>]*>", box, re.DOTALL).group(0)
    assert 'data-uploads-left="3"' in root
    assert 'data-separation-seconds-left="2400"' in root
    assert 'data-max-upload-bytes="50000000"' in root
    assert 'data-upgrade-url="/pricing/"' in root
    assert 'data-blocked="false"' in root and 'data-state="idle"' in root
    allowance = re.search(r'data-testid="upload-allowance">(.*?)</p>', box, re.DOTALL).group(1)
    assert _text(allowance) == "3 uploads left today · 40 separation minutes left this month"
    assert 'data-testid="upload-limit"' not in box
    assert re.search(r'<input id="upload-file"[^>]*>', box).group(0).count(" disabled") == 0


def test_uploads_used_up_show_the_limit_and_the_upgrade_before_any_upload():
    # Given a Free user who used today's 5 uploads
    owner = user_create()
    _used(owner, uploads=5)

    # When the library is opened
    box = _upload_box(_client_for(owner).get("/projects/", **EN).content.decode())

    # Then the box says so with the way to the pricing page, and the drop zone takes no file
    limit = re.search(r'<div class="alert alert-warning upgrade-prompt" data-upload-limit.*?</div>', box, re.DOTALL)
    assert limit, box
    assert _text(limit.group(0)).startswith("The Free plan takes 5 uploads a day, and today's are used. More from ")
    assert '<a class="btn btn-primary" href="/pricing/" data-testid="upload-limit-upgrade">Upgrade to Pro</a>' in box
    assert 'data-blocked="true"' in box and 'data-state="blocked"' in box
    assert re.search(r'<input id="upload-file"[^>]* disabled>', box)
    assert 'data-upload-zone data-testid="upload-zone" aria-disabled="true"' in box


def test_separation_minutes_used_up_stop_uploads_too():
    # Given a Free user with less than a minute of this month's separation left
    owner = user_create()
    _used(owner, separation_s=60 * 60 - 59)

    # When the library is opened
    box = _upload_box(_client_for(owner).get("/projects/", **EN).content.decode())

    # Then the box says the minutes are used, until when, and offers Pro
    assert 'data-separation-seconds-left="59"' in box
    assert "The separation minutes of your Free plan are used for this month (60 minutes). They renew on " in _text(box)
    assert 'data-testid="upload-limit-upgrade"' in box
    assert 'data-blocked="true"' in box


def test_a_pro_user_at_a_limit_is_told_when_it_renews_without_an_upgrade_button():
    # Given a Pro user who used today's 100 uploads
    owner = pro_user_create()
    _used(owner, uploads=100)

    # When the library is opened
    box = _upload_box(_client_for(owner).get("/projects/", **EN).content.decode())

    # Then it says when more come, with nothing to upgrade to
    assert "The Pro plan takes 100 uploads a day, and today's are used. More from " in _text(box)
    assert 'data-testid="upload-limit-upgrade"' not in box
    assert 'data-upgrade-url=""' in box
    assert 'data-max-upload-bytes="200000000"' in box
