"""The style library and remix pages, and the re-voiced strips on the project page (Django client).

Each page renders for its owner only (another user's song is a 404), needs a login, and says
so plainly where there is nothing to do yet (a song still separating, no style sounds).
"""

from __future__ import annotations

import re
import uuid
from html import unescape

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from domain.models import Job, Project, Remix, RemixStem, StyleSound
from domain.remix import STYLE_FILES_MAX, STYLE_REQUEST_MAX_BYTES
from model.pipelines.remix.settings import RANGES, RemixSettings
from model.services.remix import style_limits_for
from tests.factories import project_create_ready, user_create

pytestmark = pytest.mark.django_db


def style_create(*, owner, name: str = "Trap kit", status: str = StyleSound.Status.READY) -> StyleSound:
    style = StyleSound.objects.create(
        owner=owner,
        name=name,
        original_filename=f"{name}.wav",
        file_key=f"styles/{uuid.uuid4()}/original.wav",
        format="wav",
        duration_s=3.5,
        size_bytes=1000,
        status=status,
        grain_count=12 if status == StyleSound.Status.READY else 0,
    )
    state = Job.State.DONE if status == StyleSound.Status.READY else Job.State.QUEUED
    Job.objects.create(style=style, kind=Job.Kind.STYLE, state=state, progress=100 if state == Job.State.DONE else 0)
    return style


def remix_create(*, project: Project, style: StyleSound, state: str = Job.State.DONE, seed: int = 7) -> Remix:
    job = Job.objects.create(project=project, kind=Job.Kind.REMIX, state=state, progress=100)
    remix = Remix.objects.create(
        project=project,
        job=job,
        stems={
            "vocals": {"gain_db": -3.0, "enabled": True},
            "drums": {"style": str(style.id), "gain_db": -1.5, "enabled": True, "wet": 0.75},
            "bass": {"style": None, "gain_db": 0.0, "enabled": True, "wet": 1.0},
            "other": {"style": str(style.id), "gain_db": 0.0, "enabled": False, "wet": 1.0},
        },
        settings={**RemixSettings().to_json(), "grain_ms": 200.0, "seed": seed},
        file_key=f"remixes/{uuid.uuid4()}.flac" if state == Job.State.DONE else "",
    )
    if state == Job.State.DONE:
        for kind in ("drums", "other"):
            RemixStem.objects.create(
                remix=remix,
                kind=kind,
                file_key=f"remixes/{remix.id}/{kind}.flac",
                preview_key=f"remixes/{remix.id}/{kind}.mp3",
                peaks=[[-0.1, 0.1]],
                peaks_per_second=50,
                duration_s=0.5,
            )
    return remix


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def html_of(response) -> str:
    return unescape(response.content.decode())


# ---------------------------------------------------------------- the style library


def test_the_style_library_lists_the_owners_sounds_only():
    owner = user_create()
    mine = style_create(owner=owner, name="Funk bass")
    pending = style_create(owner=owner, name="Vocal chop", status=StyleSound.Status.PENDING)
    theirs = style_create(owner=user_create(), name="Someone else's kit")

    response = signed_in(owner).get("/styles/")

    assert response.status_code == 200
    html = html_of(response)
    assert [row.style for row in response.context["rows"]] == [pending, mine]  # newest first
    assert f'data-style-id="{mine.id}" data-status="ready"' in html
    assert f'data-style-id="{pending.id}" data-status="pending"' in html
    assert str(theirs.id) not in html and "Someone else's kit" not in html
    # Each sound can be heard, and the grain plot is there for the ready one only
    assert f'src="/api/v1/styles/{mine.id}/audio/"' in html
    assert html.count('data-testid="style-scatter" data-state="idle">') == 1


def test_the_style_library_box_knows_the_limits_the_api_applies():
    owner = user_create()

    response = signed_in(owner).get("/styles/")

    html = html_of(response)
    max_bytes, max_duration_s = style_limits_for(user=owner)
    assert f'data-files-max="{STYLE_FILES_MAX}"' in html
    assert f'data-max-bytes="{max_bytes}"' in html
    assert f'data-request-max-bytes="{STYLE_REQUEST_MAX_BYTES}"' in html
    assert f'data-max-duration-s="{int(max_duration_s)}"' in html
    assert re.search(r'<input id="style-files"[^>]* multiple ', html)
    assert 'data-upload-url="/api/v1/styles/"' in html
    assert 'data-grain-url-template="/api/v1/styles/00000000-0000-0000-0000-000000000000/grains/0/"' in html
    assert 'data-testid="style-list-empty">' in html


def test_the_style_library_reads_a_fixed_number_of_queries_however_many_sounds():
    owner = user_create()
    for i in range(2):
        style_create(owner=owner, name=f"Kit {i}")
    client = signed_in(owner)
    with CaptureQueriesContext(connection) as few:
        assert client.get("/styles/").status_code == 200
    for i in range(6):
        style_create(owner=owner, name=f"More {i}")
    with CaptureQueriesContext(connection) as many:
        assert client.get("/styles/").status_code == 200

    assert len(many) == len(few)


def test_the_pages_need_a_login():
    project = project_create_ready(owner=user_create(), duration_s=0.5)

    for path in ("/styles/", f"/projects/{project.id}/remix/"):
        response = Client().get(path)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


def test_the_nav_links_the_style_library():
    response = signed_in(user_create()).get("/projects/")

    assert re.search(
        r'<a href="/styles/" class="nav-link[^"]*" data-testid="nav-styles">Style sounds</a>', html_of(response)
    )


# ---------------------------------------------------------------- the remix page


def test_the_remix_page_offers_each_stem_with_the_owners_ready_sounds():
    owner = user_create()
    project = project_create_ready(owner=owner, duration_s=0.5)
    kit = style_create(owner=owner, name="Trap kit")
    pending = style_create(owner=owner, name="Still cutting", status=StyleSound.Status.PENDING)
    theirs = style_create(owner=user_create(), name="Not yours")

    response = signed_in(owner).get(f"/projects/{project.id}/remix/")

    assert response.status_code == 200
    html = html_of(response)
    # One row per stem of the song; drums, bass and other choose a sound and a dry/wet, the vocals not
    assert [row.kind for row in response.context["stem_rows"]] == ["vocals", "drums", "bass", "other"]
    for kind in ("drums", "bass", "other"):
        assert f'data-testid="remix-style-{kind}"' in html
        assert f'data-testid="remix-wet-{kind}"' in html
    assert 'data-testid="remix-style-vocals"' not in html
    assert 'data-testid="remix-gain-vocals"' in html
    # Only the owner's ready sounds are offered
    assert html.count(f'<option value="{kit.id}">Trap kit</option>') == 3
    assert f'<option value="{pending.id}"' not in html
    assert str(theirs.id) not in html
    # The grain settings span the pipeline's ranges, from its defaults
    low, high = RANGES["grain_ms"]
    assert re.search(rf'id="remix-grain-ms"[^>]*min="{low:g}" max="{high:g}" step="10" value="120"', html)
    assert re.search(rf'id="remix-seed"[^>]*min="0" max="{RANGES["seed"][1]}" step="1" value="0"', html)
    assert re.search(r'data-testid="remix-pitch-mapping" checked', html)
    assert not re.search(r'data-testid="remix-snap" checked', html)
    # The script's URLs
    assert f'data-remixes-url="/api/v1/projects/{project.id}/remixes/"' in html
    assert f'data-ws-path="/ws/projects/{project.id}/"' in html
    assert 'data-following=""' in html
    assert 'data-testid="remix-list-empty">' in html


def test_the_remix_page_starts_from_the_songs_newest_remix_and_lists_them():
    owner = user_create()
    project = project_create_ready(owner=owner, duration_s=0.5)
    kit = style_create(owner=owner, name="Trap kit")
    older = remix_create(project=project, style=kit, seed=3)
    newest = remix_create(project=project, style=kit, seed=99, state=Job.State.FAILED)
    Job.objects.filter(id=newest.job_id).update(user_error="The remix could not be made.")

    response = signed_in(owner).get(f"/projects/{project.id}/remix/")

    html = html_of(response)
    rows = {row.kind: row for row in response.context["stem_rows"]}
    assert rows["drums"].style == str(kit.id) and rows["drums"].wet == 0.75 and rows["drums"].gain_db == -1.5
    assert rows["other"].enabled is False
    assert rows["vocals"].gain_db == -3.0
    assert re.search(rf'<option value="{kit.id}" selected>Trap kit</option>', html)
    assert re.search(r'id="remix-seed"[^>]* value="99"', html)
    assert re.search(r'id="remix-grain-ms"[^>]* value="200"', html)
    # Newest first, each with its state; the finished one can be downloaded
    assert [row.remix for row in response.context["remix_rows"]] == [newest, older]
    assert f'data-remix-id="{newest.id}" data-job-id="{newest.job_id}" data-state="failed"' in html
    assert "The remix could not be made." in html
    assert f'href="/api/v1/remixes/{older.id}/download/"' in html
    assert "Drums: Trap kit" in html


def test_the_remix_page_follows_a_remix_still_running():
    owner = user_create()
    project = project_create_ready(owner=owner, duration_s=0.5)
    running = remix_create(project=project, style=style_create(owner=owner), state=Job.State.RUNNING)

    html = html_of(signed_in(owner).get(f"/projects/{project.id}/remix/"))

    assert f'data-following="{running.id}"' in html


def test_without_ready_sounds_the_remix_page_points_to_the_style_library():
    owner = user_create()
    project = project_create_ready(owner=owner, duration_s=0.5)

    response = signed_in(owner).get(f"/projects/{project.id}/remix/")

    html = html_of(response)
    assert 'data-testid="remix-no-styles"' in html
    assert 'href="/styles/" data-testid="remix-styles-link"' in html
    assert re.search(r'data-testid="remix-submit" disabled', html)


def test_another_users_remix_page_is_404():
    project = project_create_ready(owner=user_create(), duration_s=0.5)

    response = signed_in(user_create()).get(f"/projects/{project.id}/remix/")

    assert response.status_code == 404


def test_the_remix_page_of_a_song_not_ready_says_so_without_a_form():
    owner = user_create()
    project = project_create_ready(owner=owner, duration_s=0.5)
    Project.objects.filter(id=project.id).update(status=Project.Status.PROCESSING)

    response = signed_in(owner).get(f"/projects/{project.id}/remix/")

    assert response.status_code == 200
    html = html_of(response)
    assert 'data-testid="remix-not-ready"' in html
    assert "once its stems are separated" in html
    assert "data-remix " not in html and "js/remix.js" not in html
    # And the song's page offers no remix while it separates
    assert 'data-testid="project-remix"' not in html_of(signed_in(owner).get(f"/projects/{project.id}/"))


# ---------------------------------------------------------------- the mixer


def test_the_mixer_has_the_newest_finished_remixs_stems_after_the_songs():
    owner = user_create()
    project = project_create_ready(owner=owner, duration_s=0.5)
    kit = style_create(owner=owner)
    done = remix_create(project=project, style=kit)
    remix_create(project=project, style=kit, state=Job.State.RUNNING)  # newer, not finished: not shown

    response = signed_in(owner).get(f"/projects/{project.id}/")

    assert response.status_code == 200
    html = html_of(response)
    strips = response.context["strips"]
    assert [s.kind for s in strips] == ["vocals", "drums", "bass", "other", "remix_drums", "remix_other"]
    assert [s.number for s in strips] == [1, 2, 3, 4, 5, 6]
    assert [s.label for s in strips[4:]] == ["Drums (re-voiced)", "Other (re-voiced)"]
    assert 'class="stem stem-remix_drums stem-drums stem-revoiced" data-stem="remix_drums"' in html
    assert 'data-stem-label="Drums (re-voiced)"' in html
    assert f'data-peaks-url="/api/v1/remixes/{done.id}/stems/drums/peaks/"' in html
    assert (
        f'href="/api/v1/remixes/{done.id}/stems/other/" data-stem-download data-testid="download-remix_other"' in html
    )
    # Its preview is preloaded like the others' (its file is gone here: the API's URL instead)
    assert (
        f'href="/api/v1/remixes/{done.id}/stems/drums/preview/" as="fetch" crossorigin data-stem-preview="remix_drums"'
        in html
    )
    # Each has its own fader, mute and solo
    for control in ("gain-remix_drums", "mute-remix_drums", "solo-remix_drums", "pan-remix_other"):
        assert f'data-testid="{control}"' in html
    assert "css/remix.css" in html
    assert f'href="/projects/{project.id}/remix/" data-testid="project-remix"' in html


def test_the_mixer_without_a_finished_remix_has_the_songs_stems_only():
    owner = user_create()
    project = project_create_ready(owner=owner, duration_s=0.5)
    remix_create(project=project, style=style_create(owner=owner), state=Job.State.FAILED)

    response = signed_in(owner).get(f"/projects/{project.id}/")

    assert [s.kind for s in response.context["strips"]] == ["vocals", "drums", "bass", "other"]
    html = html_of(response)
    assert "remix_" not in html
    assert "css/remix.css" not in html
    assert 'data-testid="project-remix"' in html
