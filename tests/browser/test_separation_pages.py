"""Choosing the separation in a real browser, at desktop and at phone width.

- Uploading a song with the Demucs test model (``demucs_unittest``, which really runs) and "Vocals
  and instrumental only": the song is separated by the product's worker into exactly two stems, and
  the mixer opens with a Vocals and an Instrumental strip.
- "Separate again" on that two-stem song into the engine's four stems: the panel shows the new
  job's step, the page reloads by itself once it is done, and the mixer has the four strips.
- An engine this server lacks is offered disabled, saying so; picking another shows its note.
- A refusal of the separation API (a mocked 402 ``plan_required``) is shown with the way up; a
  separation that fails (mocked REST) shows the job's reason and leaves the mixer as it is.

The test model is in no plan the data migration makes: the tests put it in Pro's engines and the
user on Pro, as an operator does in the admin. Every real separation here is the test model's (a few
seconds a song): the built-in engine is the default, and is picked in the panel, but not run.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import soundfile as sf
from playwright.sync_api import BrowserContext, Page, expect

from tests.browser.test_library_live import VIEWPORTS
from tests.browser.test_studio import (
    MIXER_LOAD_TIMEOUT_MS,
    SAMPLE_RATE,
    SEPARATION_TIMEOUT_MS,
    plan_set,
    render_song,
    sign_up,
    unique_name,
    upload,
)

pytestmark = pytest.mark.browser

SEPARATION_API = re.compile(r".*/api/v1/projects/[0-9a-f-]{36}/separation/$")
PROJECT_DETAIL = re.compile(r".*/api/v1/projects/[0-9a-f-]{36}/$")
FAKE_JOB = "00000000-0000-4000-8000-0000000000c1"
OFFLINE_NOTE = "Ready in seconds on any server. Clean vocals; drums, bass and other are rougher."
TEST_MODEL_NOTE = "Checks that Demucs runs on this server. Its stems are not music."
TOUCH_MIN_PX = 44

_PRO_HAS_THE_TEST_MODEL = """
from business.models import Plan
plan = Plan.objects.get(slug="pro")
if "demucs_unittest" not in plan.engines:
    plan.engines = [*plan.engines, "demucs_unittest"]
    plan.full_clean()
    plan.save()
"""

# Kept across the reload (sessionStorage): each state the panel and its step went through.
WATCH_PANEL = """() => {
  const note = () => {
    const panel = document.querySelector("[data-separate-again]");
    if (!panel) return;
    const seen = JSON.parse(sessionStorage.getItem("separateSeen") || '{"panel": [], "step": []}');
    const step = panel.querySelector("[data-steps] [data-job-id]");
    for (const [list, value] of [[seen.panel, panel.dataset.state], [seen.step, step && step.dataset.state]]) {
      if (value && list.at(-1) !== value) list.push(value);
    }
    sessionStorage.setItem("separateSeen", JSON.stringify(seen));
  };
  const panel = document.querySelector("[data-separate-again]");
  new MutationObserver(note).observe(panel, { subtree: true, childList: true, attributes: true });
  note();
}"""


@pytest.fixture
def open_context(chromium_browser, studio_server) -> Iterator[Callable[..., BrowserContext]]:
    """Fresh browser contexts at a viewport (test_library_live's); uncaught page errors fail the test."""
    contexts: list[BrowserContext] = []
    errors: list[str] = []

    def make(*, viewport: str = "desktop") -> BrowserContext:
        options: dict[str, Any] = {"base_url": studio_server.base_url, "viewport": VIEWPORTS[viewport]}
        if viewport == "phone":
            options.update(has_touch=True, is_mobile=True, device_scale_factor=2)
        context = chromium_browser.new_context(**options)
        context.set_default_timeout(15_000)
        context.set_default_navigation_timeout(30_000)
        context.on("page", lambda page: page.on("pageerror", lambda error: errors.append(str(error))))
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        for page in context.pages:
            page.unroute_all(behavior="ignoreErrors")
        context.close()
    assert errors == [], errors


@pytest.fixture(scope="module")
def short_song(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("separation-songs") / "short-song.wav"
    sf.write(path, render_song(duration_s=3.0), SAMPLE_RATE, subtype="PCM_16")
    return path


@pytest.fixture
def pro_with_test_model(studio_server) -> None:
    studio_server.manage("shell", "-c", _PRO_HAS_THE_TEST_MODEL)


def _sign_up_on_pro(page: Page, studio_server, prefix: str) -> str:
    username = unique_name(prefix)
    sign_up(page, username)
    plan_set(studio_server, username, "pro")
    page.reload()
    return username


def _strips(page: Page) -> list[tuple[str, str]]:
    pairs = page.locator("[data-stem]").evaluate_all("els => els.map(el => [el.dataset.stem, el.dataset.stemLabel])")
    return [tuple(pair) for pair in pairs]


def _fits_the_width(page: Page) -> None:
    overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page is {overflow} px wider than the screen"


def _touch_sized(page: Page, *test_ids: str) -> None:
    for test_id in test_ids:
        height = page.get_by_test_id(test_id).bounding_box()["height"]
        assert height >= TOUCH_MIN_PX, (test_id, height)


def _upload_two_stems_with_the_test_model(page: Page, song: Path) -> str:
    engine = page.get_by_test_id("upload-engine")
    expect(engine).to_have_value("offline")
    expect(page.get_by_test_id("upload-engine-note")).to_have_text(OFFLINE_NOTE)
    engine.select_option("demucs_unittest")
    expect(page.get_by_test_id("upload-engine-note")).to_have_text(TEST_MODEL_NOTE)
    page.get_by_test_id("upload-two-stems").check()
    return upload(page, song)


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_an_upload_with_the_test_model_and_two_stems_opens_a_mixer_of_two_strips(
    open_context, studio_server, pro_with_test_model, short_song, viewport
):
    # Given a Pro user on their library, whose plan has the Demucs test model
    page = open_context(viewport=viewport).new_page()
    _sign_up_on_pro(page, studio_server, "twostems")
    if viewport == "phone":
        _fits_the_width(page)
        _touch_sized(page, "upload-engine")

    # When they upload a song with the test model, vocals and instrumental only
    project_id = _upload_two_stems_with_the_test_model(page, short_song)

    # Then the song is separated and the mixer opens with exactly those two strips
    expect(page.get_by_test_id("mixer")).to_be_visible(timeout=SEPARATION_TIMEOUT_MS)
    assert page.url.endswith(f"/projects/{project_id}/")
    expect(page.get_by_test_id("mixer")).to_have_attribute("data-state", "ready", timeout=MIXER_LOAD_TIMEOUT_MS)
    assert _strips(page) == [("vocals", "Vocals"), ("instrumental", "Instrumental")]
    expect(page.get_by_test_id("project-engine")).to_have_text("Separated with Demucs test model (untrained)")
    # And the panel to separate it again has the song's engine preselected
    expect(page.get_by_test_id("again-engine")).to_have_value("demucs_unittest")
    if viewport == "phone":
        _fits_the_width(page)


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_separating_again_into_four_stems_follows_the_job_and_reloads_with_four_strips(
    open_context, studio_server, pro_with_test_model, short_song, viewport
):
    # Given a ready two-stem song on its page
    context = open_context(viewport=viewport)
    page = context.new_page()
    _sign_up_on_pro(page, studio_server, "again")
    project_id = _upload_two_stems_with_the_test_model(page, short_song)
    expect(page.get_by_test_id("mixer")).to_have_attribute("data-state", "ready", timeout=SEPARATION_TIMEOUT_MS)
    assert [kind for kind, _ in _strips(page)] == ["vocals", "instrumental"]
    page.evaluate(WATCH_PANEL)

    # When they open "Separate again" (the song's engine preselected, the note following the
    # select) and send it for all the engine's stems
    page.get_by_test_id("separate-again-toggle").click()
    engine = page.get_by_test_id("again-engine")
    expect(engine).to_have_value("demucs_unittest")
    engine.select_option("offline")
    expect(page.get_by_test_id("again-engine-note")).to_have_text(OFFLINE_NOTE)
    expect(page.get_by_test_id("again-two-stems")).not_to_be_checked()
    if viewport == "phone":
        _fits_the_width(page)
        _touch_sized(page, "separate-again-toggle", "again-engine", "separate-again-submit")
    with page.expect_response(SEPARATION_API) as answer:
        page.get_by_test_id("separate-again-submit").click()
    assert answer.value.status == 202

    # Then the page reloads by itself with the mixer of the four stems
    expect(page.get_by_test_id("stem-drums")).to_be_attached(timeout=SEPARATION_TIMEOUT_MS)
    assert page.url.endswith(f"/projects/{project_id}/")
    assert page.evaluate("performance.getEntriesByType('navigation')[0].type") == "reload"
    expect(page.get_by_test_id("mixer")).to_have_attribute("data-state", "ready", timeout=MIXER_LOAD_TIMEOUT_MS)
    assert _strips(page) == [("vocals", "Vocals"), ("drums", "Drums"), ("bass", "Bass"), ("other", "Other")]
    expect(page.get_by_test_id("project-engine")).to_have_text("Separated with Fast separation (built in)")
    # And before that, the panel followed the new job as a step until it was done
    seen = json.loads(page.evaluate("sessionStorage.getItem('separateSeen')"))
    assert seen["panel"][0] == "idle" and "running" in seen["panel"] and seen["panel"][-1] == "done", seen
    assert seen["step"][-1] == "done" and set(seen["step"]) <= {"queued", "running", "done"}, seen
    # And the panel is back to its start
    expect(page.get_by_test_id("separate-again")).to_have_attribute("data-state", "idle")
    expect(page.get_by_test_id("again-engine")).to_have_value("offline")


def test_an_engine_the_server_lacks_is_offered_disabled(open_context):
    # Given a new Free user's library (no Demucs weights on this server)
    page = open_context().new_page()
    sign_up(page, unique_name("lacks"))

    engine = page.get_by_test_id("upload-engine")
    options = engine.locator("option")

    # Then Demucs is listed, disabled, saying why; the built-in engine is chosen
    lacking = engine.locator('option[value="htdemucs"]')
    expect(lacking).to_be_disabled()
    expect(lacking).to_have_text("Demucs, high quality — not installed on this server")
    expect(engine.locator('option[value="offline"]')).to_be_enabled()
    expect(engine).to_have_value("offline")
    assert options.evaluate_all("els => els.filter(el => !el.disabled).map(el => el.value)") == ["offline"]
    # And it cannot be picked
    with pytest.raises(Exception, match="disabled|not enabled|did not find some options"):
        engine.select_option("htdemucs", timeout=1_000)
    expect(engine).to_have_value("offline")


def test_a_refusal_of_the_separation_api_is_shown_with_the_way_up(
    open_context, studio_server, pro_with_test_model, short_song
):
    # Given a ready song, and a separation API that refuses as it does for an engine outside the plan
    page = open_context().new_page()
    _sign_up_on_pro(page, studio_server, "refused")
    _upload_two_stems_with_the_test_model(page, short_song)
    expect(page.get_by_test_id("mixer")).to_have_attribute("data-state", "ready", timeout=SEPARATION_TIMEOUT_MS)
    refusal = {
        "code": "plan_required",
        "message": "Demucs, high quality is not part of your Free plan.",  # as the API words it
        "extra": {"engine": "htdemucs", "upgrade_url": "/pricing/"},
    }
    page.route(
        SEPARATION_API,
        lambda route: route.fulfill(status=402, content_type="application/json", body=json.dumps(refusal)),
    )

    # When they ask to separate it again
    page.get_by_test_id("separate-again-toggle").click()
    page.get_by_test_id("separate-again-submit").click()

    # Then the API's message is shown with the upgrade link, and the panel can be used again
    expect(page.get_by_test_id("separate-again-error")).to_have_text(refusal["message"])
    expect(page.get_by_test_id("separate-again-upgrade")).to_be_visible()
    expect(page.get_by_test_id("separate-again-upgrade")).to_have_attribute("href", "/pricing/")
    expect(page.get_by_test_id("separate-again")).to_have_attribute("data-state", "idle")
    expect(page.get_by_test_id("separate-again-submit")).to_be_enabled()
    expect(page.get_by_test_id("again-engine")).to_be_enabled()
    # And the mixer is as it was
    assert [kind for kind, _ in _strips(page)] == ["vocals", "instrumental"]


def test_a_failed_separation_again_says_why_and_leaves_the_mixer_as_it_is(
    open_context, studio_server, pro_with_test_model, short_song
):
    # Given a ready two-stem song, and a server that takes the separation and then fails it
    page = open_context().new_page()
    _sign_up_on_pro(page, studio_server, "failing")
    project_id = _upload_two_stems_with_the_test_model(page, short_song)
    expect(page.get_by_test_id("mixer")).to_have_attribute("data-state", "ready", timeout=SEPARATION_TIMEOUT_MS)
    project = page.request.get(f"/api/v1/projects/{project_id}/").json()
    job = {
        "id": FAKE_JOB, "kind": "separate", "state": "queued", "progress": 0, "stage": "", "user_error": "",
        "engine": "demucs_unittest", "model_name": "", "started_at": None, "finished_at": None, "duration_s": None,
    }  # fmt: skip
    reason = "The separation engine could not process this song. Our team has the details."
    failed = {**job, "state": "failed", "progress": 40, "stage": "separate", "user_error": reason, "duration_s": 1.5}
    page.route(
        SEPARATION_API,
        lambda route: route.fulfill(
            status=202, content_type="application/json", body=json.dumps({**project, "jobs": [*project["jobs"], job]})
        ),
    )
    page.route(
        PROJECT_DETAIL,
        lambda route: (
            route.fulfill(
                status=200,
                content_type="application/json",
                body=json.dumps({**project, "jobs": [*project["jobs"], failed]}),
            )
            if route.request.method == "GET"
            else route.continue_()
        ),
    )
    page.evaluate("window.__sameDocument = true")

    # When they separate it again
    page.get_by_test_id("separate-again-toggle").click()
    page.get_by_test_id("separate-again-submit").click()

    # Then the panel says why, its step failed, and the fields can be used again
    expect(page.get_by_test_id("separate-again-error")).to_have_text(reason)
    step = page.get_by_test_id("separate-again-step")
    expect(step).to_have_attribute("data-job-id", FAKE_JOB)
    expect(step).to_have_attribute("data-state", "failed")
    expect(page.get_by_test_id("separate-again")).to_have_attribute("data-state", "failed")
    expect(page.get_by_test_id("separate-again-submit")).to_be_enabled()
    expect(page.get_by_test_id("separate-again-upgrade")).to_be_hidden()
    # And the mixer stays, with its stems, on the same page
    assert page.evaluate("window.__sameDocument") is True
    assert _strips(page) == [("vocals", "Vocals"), ("instrumental", "Instrumental")]
    expect(page.get_by_test_id("mixer")).to_have_attribute("data-state", "ready")
