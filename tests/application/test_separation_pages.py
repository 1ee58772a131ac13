"""The separation choice on the pages: the upload box's select, the project page's "Separate again"
panel, and the mixer's strips for a two-stem and a six-stem song.

No Demucs weights are on this machine, so the Demucs engines are what an engine the server lacks
looks like; the test model (``demucs_unittest``, offered by ``ISOMIX_SEPARATION_TEST_MODEL``) is
installed, and in a plan only where the test puts it there.
"""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.test import Client

from domain.models import Job, Project
from tests.application.test_i18n_pages import compiled_catalogues  # noqa: F401  (autouse: the .mo files)
from tests.factories import plan_update, pro_user_create, project_create_ready, user_create

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
NOT_HERE = "not installed on this server"


def _client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _options(html: str, select_testid: str) -> list[dict]:
    """The <option>s of the select with ``data-testid=select_testid``: value, words, flags, note."""
    select = re.search(rf'<select [^>]*data-testid="{select_testid}"[^>]*>(.*?)</select>', html, re.DOTALL)
    assert select, f"no select {select_testid}"
    return [
        {
            "value": attrs_value,
            "text": unescape(text.strip()),
            "selected": " selected" in attrs,
            "disabled": " disabled" in attrs,
            "note": unescape(note),
        }
        for attrs_value, note, attrs, text in re.findall(
            r'<option value="([^"]*)" data-note="([^"]*)"([^>]*)>(.*?)</option>', select.group(1), re.DOTALL
        )
    ]


def _text_of(html: str, testid: str) -> str:
    match = re.search(rf'<[a-z]+ [^>]*data-testid="{testid}"[^>]*>(.*?)</', html, re.DOTALL)
    assert match, f"no element {testid}"
    return unescape(match.group(1).strip())


def test_the_upload_box_lists_every_engine_with_the_unavailable_ones_disabled_and_saying_why():
    # Given a Free user (the plan has offline and htdemucs; the test model is in no plan)
    html = _client_for(user_create()).get("/projects/", **EN).content.decode()

    options = _options(html, "upload-engine")

    assert [(o["value"], o["text"], o["selected"], o["disabled"]) for o in options] == [
        ("offline", "Fast separation (built in)", True, False),
        ("htdemucs", f"Demucs, high quality — {NOT_HERE}", False, True),
        ("htdemucs_ft", f"Demucs fine-tuned, best quality — {NOT_HERE}", False, True),
        ("htdemucs_6s", f"Demucs, 6 stems (with guitar and piano) — {NOT_HERE}", False, True),
        ("demucs_unittest", "Demucs test model (untrained) — not in your plan", False, True),
    ]
    offline_note = "Ready in seconds on any server. Clean vocals; drums, bass and other are rougher."
    assert options[0]["note"] == offline_note
    assert _text_of(html, "upload-engine-note") == offline_note  # the default's note, before any script
    assert re.search(r'<input type="checkbox" id="upload-two-stems" name="two_stems" value="true"', html)
    assert "Vocals and instrumental only (for karaoke)" in html


def test_an_installed_engine_the_paid_plan_has_reads_as_that_plan():
    # Given the test model in Pro's engines, and a Free user
    plan_update("pro", engines=["offline", "htdemucs", "demucs_unittest"])

    options = _options(_client_for(user_create()).get("/projects/", **EN).content.decode(), "upload-engine")

    assert [(o["text"], o["disabled"]) for o in options if o["value"] == "demucs_unittest"] == [
        ("Demucs test model (untrained) — Pro", True)
    ]


def test_an_engine_in_the_plan_and_installed_can_be_picked():
    # Given a Pro user whose plan has the test model
    plan_update("pro", engines=["offline", "htdemucs", "demucs_unittest"])

    options = _options(_client_for(pro_user_create()).get("/projects/", **EN).content.decode(), "upload-engine")

    chosen = {o["value"]: o for o in options}
    assert (chosen["demucs_unittest"]["text"], chosen["demucs_unittest"]["disabled"]) == (
        "Demucs test model (untrained)",
        False,
    )
    assert [o["value"] for o in options if o["selected"]] == ["offline"]  # still the default


def test_the_upload_box_closes_the_choice_with_the_zone_when_the_plan_takes_no_upload():
    plan_update("free", uploads_per_day=0)

    html = _client_for(user_create()).get("/projects/", **EN).content.decode()

    assert re.search(r'<select id="upload-engine"[^>]* disabled>', html, re.DOTALL)
    assert re.search(r'<input type="checkbox" id="upload-two-stems"[^>]* disabled>', html, re.DOTALL)


def test_a_ready_song_has_the_separate_again_panel_with_its_engine_preselected():
    plan_update("pro", engines=["offline", "demucs_unittest"])
    owner = pro_user_create()
    project = project_create_ready(owner=owner, duration_s=0.5)
    Project.objects.filter(id=project.id).update(engine="demucs_unittest", model_name="demucs_unittest")

    html = _client_for(owner).get(f"/projects/{project.id}/", **EN).content.decode()

    panel = re.search(r'<details class="card separate-again"[^>]*>', html)
    assert panel, "no Separate again panel"
    assert f'data-url="/api/v1/projects/{project.id}/separation/"' in panel.group(0)
    assert 'data-job-id=""' in panel.group(0)  # nothing to follow yet
    assert " open" not in panel.group(0)  # folded: the mixer comes first
    assert [o["value"] for o in _options(html, "again-engine") if o["selected"]] == ["demucs_unittest"]
    assert _text_of(html, "again-engine-note") == "Checks that Demucs runs on this server. Its stems are not music."
    assert 'src="/static/js/separation.js"' in html


def test_a_failed_song_has_the_panel_open_and_a_song_still_separating_has_none():
    owner = user_create()
    failed = project_create_ready(owner=owner, duration_s=0.5)
    Project.objects.filter(id=failed.id).update(status=Project.Status.FAILED, engine="", error="Bad.")
    separating = project_create_ready(owner=owner, duration_s=0.5)
    Project.objects.filter(id=separating.id).update(status=Project.Status.PROCESSING)
    client = _client_for(owner)

    failed_html = client.get(f"/projects/{failed.id}/", **EN).content.decode()
    separating_html = client.get(f"/projects/{separating.id}/", **EN).content.decode()

    assert re.search(r'<details class="card separate-again"[^>]* open>', failed_html)
    assert [o["value"] for o in _options(failed_html, "again-engine") if o["selected"]] == ["offline"]
    assert 'data-testid="separate-again"' not in separating_html
    assert "js/separation.js" not in separating_html
    assert 'data-testid="again-engine"' not in separating_html


def test_a_separation_again_under_way_is_followed_from_the_start():
    owner = user_create()
    project = project_create_ready(owner=owner, duration_s=0.5)
    job = Job.objects.create(project=project, kind=Job.Kind.SEPARATE, engine="offline", params={"again": True})

    html = _client_for(owner).get(f"/projects/{project.id}/", **EN).content.decode()

    assert re.search(rf'<details class="card separate-again"[^>]*data-job-id="{job.id}" open>', html, re.DOTALL)


@pytest.mark.parametrize(
    ("kinds", "labels"),
    [
        (("vocals", "instrumental"), ["Vocals", "Instrumental"]),
        (
            ("vocals", "drums", "bass", "other", "guitar", "piano"),
            ["Vocals", "Drums", "Bass", "Other", "Guitar", "Piano"],
        ),
    ],
    ids=["two-stems", "six-stems"],
)
def test_the_mixer_has_one_strip_per_stem_with_its_label(media, kinds, labels):
    owner = user_create()
    project = project_create_ready(owner=owner, duration_s=0.5, kinds=kinds)

    html = _client_for(owner).get(f"/projects/{project.id}/", **EN).content.decode()

    strips = re.findall(r'<li class="stem stem-([a-z_]+)" data-stem="\1" data-stem-label="([^"]+)"', html)
    assert strips == list(zip(kinds, labels, strict=True))
    for kind in kinds:
        assert f'data-testid="download-{kind}"' in html
        assert f'data-stem-preview="{kind}"' in html  # its audio is preloaded
