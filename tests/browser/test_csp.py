"""The pages work under their Content-Security-Policy: a real browser reports no violation.

Chromium fires ``securitypolicyviolation`` for everything the policy blocks (a script, a
style, a socket, a media fetch); an init script (which the policy does not govern)
records them before the page's own scripts run.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

PASSWORD = "Policy-holds-2024!"
SAMPLE_RATE = 44_100
SONG_DURATION_S = 3.0
PROJECT_URL = re.compile(r".*/projects/(?P<id>[0-9a-f-]{36})/$")

#: Records the page's CSP violations (add it before any of the page's scripts run).
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.effectiveDirective} blocked ${event.blockedURI || "inline"}`);
});
"""


def csp_violations(page: Page) -> list[str]:
    return page.evaluate("window.__cspViolations")


def _open_page(new_page) -> Page:
    page = new_page()
    page.add_init_script(RECORD_VIOLATIONS)
    return page


@pytest.fixture(scope="module")
def short_song(tmp_path_factory: pytest.TempPathFactory) -> Path:
    t = np.arange(int(SONG_DURATION_S * SAMPLE_RATE)) / SAMPLE_RATE
    tone = 0.3 * np.sin(2 * np.pi * 220 * t) + 0.2 * np.sin(2 * np.pi * 55 * t) * (t % 0.5 < 0.1)
    path = tmp_path_factory.mktemp("csp-song") / "song.wav"
    sf.write(path, np.stack([tone, tone], axis=1).astype(np.float32), SAMPLE_RATE, subtype="PCM_16")
    return path


def test_every_page_and_the_mixer_run_without_a_violation(new_page, page_errors, short_song: Path) -> None:
    page = _open_page(new_page)
    seen: dict[str, list[str]] = {}

    page.goto("/accounts/login/")
    seen["login"] = csp_violations(page)
    page.goto("/accounts/signup/")
    seen["signup"] = csp_violations(page)
    username = f"csp{uuid.uuid4().hex[:8]}"
    page.fill("#id_username", username)
    page.fill("#id_email", f"{username}@example.com")
    page.fill("#id_password1", PASSWORD)
    page.fill("#id_password2", PASSWORD)
    page.get_by_test_id("signup-submit").click()
    page.wait_for_url("**/projects/")
    seen["library"] = csp_violations(page)

    page.get_by_test_id("upload-input").set_input_files(str(short_song))
    page.wait_for_url(PROJECT_URL, timeout=60_000)
    mixer = page.get_by_test_id("mixer")
    expect(mixer).to_be_visible(timeout=120_000)
    expect(mixer).to_have_attribute("data-state", "ready", timeout=60_000)
    page.get_by_test_id("play").click()
    expect(mixer).to_have_attribute("data-state", "playing", timeout=5_000)
    seen["mixer"] = csp_violations(page)
    # the stems were decoded by the inline script the policy allows by its hash
    assert page.evaluate("() => window.isomixEarly.decoding.size") > 0

    assert seen == {"login": [], "signup": [], "library": [], "mixer": []}
    assert page_errors == []


def test_the_api_docs_render_without_a_violation(new_page, page_errors) -> None:
    page = _open_page(new_page)

    page.goto("/api/docs/")

    expect(page.locator(".swagger-ui .info .title")).to_contain_text("IsoMix Studio API", timeout=15_000)
    assert csp_violations(page) == []
    assert page_errors == []
