"""Plans in a real browser, at desktop and phone width, against the running product.

- A Free user who has used today's uploads sees the limit and the "Upgrade to Pro" button on
  the library before uploading anything; the drop zone takes no file; the button leads to the
  pricing page. An upload the server refuses (402: the last upload used up on another device
  meanwhile) shows the server's message with the same button.
- In the mixer, a Free user sees WAV, FLAC, the best MP3 rates and the zip of the stems marked
  Pro and disabled; an export the plan lacks (forced past the disabled option) is refused by the
  server and shown with the upgrade button. The same user on Pro exports WAV, end to end through
  the product's worker, and gets the download link.
- The pricing and account pages render without a page error or a CSP violation, nothing
  scrolls sideways, and at phone width every button is a 44 px touch target.

Plans and usage are set as an operator would, on the server's own database
(``studio_server.manage("shell", ...)``), for the test's own user only: the other browser tests
share the server.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf
from playwright.sync_api import BrowserContext, Page, expect

from tests.browser.conftest import BrowserErrors, watched_page
from tests.browser.test_csp import RECORD_VIOLATIONS, csp_violations
from tests.browser.test_library_live import TOUCH_MIN_PX, VIEWPORTS
from tests.browser.test_mixer_live import ReadyProject, open_mixer
from tests.browser.test_studio import (
    EXPORT_TIMEOUT_MS,
    PASSWORD,
    SAMPLE_RATE,
    SEPARATION_TIMEOUT_MS,
    plan_set,
    render_song,
    sign_up,
    unique_name,
    upload,
)

pytestmark = pytest.mark.browser

EXPORTS_CREATE = re.compile(r".*/api/v1/projects/[0-9a-f-]{36}/exports/$")
PROJECTS_CREATE = re.compile(r".*/api/v1/projects/$")

#: Uses up today's uploads of a user's plan: a ledger row as the upload API writes it.
_UPLOADS_USE = """
from django.contrib.auth import get_user_model
from django.utils import timezone
from business.models import UsageRecord
from business.selectors import usage_for_user
from business.services import account_get_or_create
user = get_user_model().objects.get(username={username!r})
left = usage_for_user(user=user)["uploads"].left - {keep}
UsageRecord.objects.create(
    account=account_get_or_create(user=user), metric="uploads", amount=left, state="committed",
    created_at=timezone.now(),
)
"""

OpenPage = Callable[..., Page]


def uploads_use(studio_server, username: str, *, keep: int = 0) -> None:
    """Use up today's uploads of ``username``'s plan but ``keep``."""
    studio_server.manage("shell", "-c", _UPLOADS_USE.format(username=username, keep=keep))


@pytest.fixture
def open_page(chromium_browser, studio_server, page_errors: BrowserErrors) -> Iterator[OpenPage]:
    """A watched page (page errors collected, CSP violations recorded) at a viewport, in a fresh
    context; ``storage_state`` signs it in as a user already made."""
    contexts: list[BrowserContext] = []

    def make(*, viewport: str = "desktop", storage_state: dict[str, Any] | None = None) -> Page:
        options: dict[str, Any] = {
            "base_url": studio_server.base_url,
            "viewport": VIEWPORTS[viewport],
            "accept_downloads": True,
        }
        if viewport == "phone":
            options.update(has_touch=True, is_mobile=True, device_scale_factor=2)
        if storage_state is not None:
            options["storage_state"] = storage_state
        context = chromium_browser.new_context(**options)
        context.set_default_navigation_timeout(30_000)
        contexts.append(context)
        page = watched_page(context, page_errors)
        page.add_init_script(RECORD_VIOLATIONS)
        return page

    yield make
    for context in contexts:
        context.close()


def layout_problems(page: Page, *, touch: bool, scope: str = "main") -> list[str]:
    """What does not fit the screen: sideways scrolling, a control (of the top bar, or in
    ``scope``) cut off, and on a phone a button or a top-bar link smaller than 44 px."""
    return page.evaluate(
        """([touch, minimum, scope]) => {
          const width = document.documentElement.clientWidth;
          const problems = [];
          const scroll = document.documentElement.scrollWidth;
          if (scroll > width) problems.push(`page scrolls sideways: ${scroll}px > ${width}px`);
          const inside = ["a.btn", ".btn", "button", "input", "select", "meter"].map((s) => `${scope} ${s}`);
          const selector = [".topbar a", ".topbar button", ...inside].join(", ");
          for (const element of document.querySelectorAll(selector)) {
            if (element.offsetParent === null || element.classList.contains("visually-hidden")) continue;
            const box = element.getBoundingClientRect();
            const label = `${element.tagName.toLowerCase()} "${(element.textContent || element.name || "").trim()}"`;
            if (box.left < 0 || box.right > width + 0.5) {
              problems.push(`${label} is cut off: ${box.left}..${box.right}`);
            }
            const tapped = element.matches(".topbar a, .topbar button, .btn, button");
            if (touch && tapped && (box.width < minimum || box.height < minimum)) {
              problems.push(`${label} is ${box.width}x${box.height}px`);
            }
          }
          return problems;
        }""",
        [touch, TOUCH_MIN_PX, scope],
    )


def song_file(folder: Path, *, name: str = "song.wav", duration_s: float = 2.0) -> Path:
    path = folder / name
    t = np.arange(int(duration_s * SAMPLE_RATE)) / SAMPLE_RATE
    sf.write(path, np.stack([0.3 * np.sin(2 * np.pi * 220 * t)] * 2, axis=1), SAMPLE_RATE, subtype="PCM_16")
    return path


# ---------------------------------------------------------------- (1) a limit reached, before uploading


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_a_free_user_out_of_uploads_sees_the_limit_and_the_upgrade_before_uploading(
    open_page, studio_server, page_errors, viewport
):
    # Given a Free user who has used today's uploads
    page = open_page(viewport=viewport)
    username = unique_name("quota")
    sign_up(page, username)
    uploads_use(studio_server, username)
    posts: list[str] = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" and PROJECTS_CREATE.match(r.url) else None)

    # When they open their library
    page.goto("/projects/")

    # Then the upload box says so with the way up, before anything is uploaded
    box = page.get_by_test_id("upload")
    limit = page.get_by_test_id("upload-limit")
    expect(limit).to_be_visible()
    expect(limit).to_contain_text(re.compile(r"The Free plan takes \d+ uploads a day, and today's are used\."))
    upgrade = page.get_by_test_id("upload-limit-upgrade")
    expect(upgrade).to_be_visible()
    expect(upgrade).to_have_text("Upgrade to Pro")
    expect(page.get_by_test_id("upload-allowance")).to_contain_text("0 uploads left today")
    # And the drop zone takes no file, even one handed to it by a script
    expect(box).to_have_attribute("data-state", "blocked")
    expect(page.get_by_test_id("upload-zone")).to_have_attribute("aria-disabled", "true")
    expect(page.get_by_test_id("upload-input")).to_be_disabled()
    page.evaluate(
        """() => {
          const input = document.querySelector("[data-upload-input]");
          const transfer = new DataTransfer();
          transfer.items.add(new File([new Uint8Array(1000)], "song.wav", { type: "audio/wav" }));
          input.files = transfer.files;
          input.dispatchEvent(new Event("change", { bubbles: true }));
        }"""
    )
    expect(box).to_have_attribute("data-state", "blocked")
    assert posts == []
    assert layout_problems(page, touch=viewport == "phone") == []

    # When they follow the upgrade button, they land on the pricing page, on Free
    upgrade.click()
    page.wait_for_url("**/pricing/")
    expect(page.get_by_test_id("plan-pro")).to_be_visible()
    expect(page.get_by_test_id("plan-free")).to_have_attribute("data-current", "true")
    assert csp_violations(page) == []
    assert page_errors == []


def test_an_upload_the_server_refuses_for_the_plan_shows_its_message_and_the_upgrade(
    open_page, studio_server, page_errors, tmp_path
):
    # Given a Free user whose library was opened with one upload left today
    page = open_page()
    username = unique_name("last")
    sign_up(page, username)
    uploads_use(studio_server, username, keep=1)
    page.goto("/projects/")
    expect(page.get_by_test_id("upload-allowance")).to_contain_text("1 upload left today")
    # ... which another device uses meanwhile
    uploads_use(studio_server, username)

    # When they upload a song
    with page.expect_response(lambda r: bool(PROJECTS_CREATE.match(r.url)) and r.request.method == "POST") as info:
        page.get_by_test_id("upload-input").set_input_files(str(song_file(tmp_path)))

    # Then the server's 402 is shown in its words, with the upgrade button, and the zone closes
    assert info.value.status == 402
    body = info.value.json()
    assert (body["code"], body["extra"]["metric"], body["extra"]["upgrade_url"]) == (
        "quota_exceeded",
        "uploads",
        "/pricing/",
    )
    expect(page.get_by_test_id("upload-error")).to_have_text(body["message"])
    expect(page.get_by_test_id("upload-upgrade")).to_be_visible()
    expect(page.get_by_test_id("upload-upgrade")).to_have_attribute("href", "/pricing/")
    expect(page.get_by_test_id("upload")).to_have_attribute("data-state", "blocked")
    expect(page.get_by_test_id("upload-input")).to_be_disabled()
    expect(page.get_by_test_id("project-list-empty")).to_be_visible()
    assert page_errors == []


# ---------------------------------------------------------------- (2) the plan in the mixer; Pro exports WAV


@pytest.fixture(scope="module")
def plan_project(chromium_browser, studio_server, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, ReadyProject]:
    """A separated song of a new (Free) user: the username, the project and the user's cookies."""
    song = tmp_path_factory.mktemp("plan-song") / "Plan Song.wav"
    sf.write(song, render_song(duration_s=6.0), SAMPLE_RATE, subtype="PCM_16")
    context = chromium_browser.new_context(base_url=studio_server.base_url)
    context.set_default_timeout(15_000)
    try:
        page = context.new_page()
        username = unique_name("plans")
        sign_up(page, username)
        project_id = upload(page, song)
        expect(page.get_by_test_id("mixer")).to_be_visible(timeout=SEPARATION_TIMEOUT_MS)
        return username, ReadyProject(project_id=project_id, storage_state=context.storage_state())
    finally:
        context.close()


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_a_free_mixer_marks_what_pro_exports_and_the_server_refuses_it_with_the_way_up(
    open_page, studio_server, plan_project, page_errors, viewport
):
    # Given the Free user's mixer
    username, project = plan_project
    plan_set(studio_server, username, "free")
    page = open_page(viewport=viewport, storage_state=project.storage_state)
    open_mixer(page, project)

    # Then WAV, FLAC and the best MP3 rates are there, disabled and marked Pro, with the way up
    formats = page.locator("[data-testid=export-format] option")
    assert formats.evaluate_all("os => os.map(o => [o.value, o.disabled, o.textContent.trim()])") == [
        ["mp3", False, "MP3"],
        ["wav", True, "WAV · Pro"],
        ["flac", True, "FLAC · Pro"],
    ]
    rates = page.locator("[data-testid=export-bitrate] option")
    assert rates.evaluate_all("os => os.filter(o => o.disabled).map(o => o.value)") == ["256", "320"]
    expect(page.get_by_test_id("export-plan-note")).to_be_visible()
    expect(page.get_by_test_id("export-plan-upgrade")).to_have_attribute("href", "/pricing/")
    # And the zip of every stem is shown, marked Pro, and is no link
    archive = page.get_by_test_id("stems-archive")
    expect(archive).to_have_attribute("aria-disabled", "true")
    expect(archive).to_contain_text("Pro")
    assert archive.evaluate("e => e.tagName") == "SPAN"

    # When an export the plan lacks is sent all the same (a page left open since a downgrade)
    page.evaluate("document.querySelector('[data-testid=export-format]').value = 'wav'")
    with page.expect_response(lambda r: bool(EXPORTS_CREATE.match(r.url)) and r.request.method == "POST") as info:
        page.get_by_test_id("export-submit").click()

    # Then the server's refusal is shown in its words, with the upgrade button
    assert info.value.status == 402
    body = info.value.json()
    assert (body["code"], body["extra"]["upgrade_url"]) == ("plan_required", "/pricing/")
    expect(page.get_by_test_id("export-error")).to_have_text(body["message"])
    expect(page.get_by_test_id("export-upgrade")).to_be_visible()
    expect(page.get_by_test_id("export-upgrade")).to_have_attribute("href", "/pricing/")
    expect(page.get_by_test_id("export-status")).to_have_attribute("data-state", "error")
    # (the mixer's own controls are test_mixer_panels's)
    assert layout_problems(page, touch=viewport == "phone", scope="[data-export-form]") == []
    assert page_errors == []


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_a_pro_user_exports_wav_from_the_mixer_and_gets_the_download(
    open_page, studio_server, plan_project, page_errors, viewport
):
    # Given the same user, now on Pro, in the mixer
    username, project = plan_project
    plan_set(studio_server, username, "pro")
    page = open_page(viewport=viewport, storage_state=project.storage_state)
    open_mixer(page, project)
    expect(page.get_by_test_id("export-plan-note")).to_have_count(0)
    expect(page.get_by_test_id("stems-archive")).to_have_attribute(
        "href", f"/api/v1/projects/{project.project_id}/stems/archive/"
    )

    # When they export the mix as WAV
    page.get_by_test_id("export-format").select_option("wav")
    with page.expect_response(lambda r: bool(EXPORTS_CREATE.match(r.url)) and r.request.method == "POST") as info:
        page.get_by_test_id("export-submit").click()

    # Then the worker renders it and the panel offers the file
    assert info.value.status == 202, info.value.text()
    assert info.value.json()["format"] == "wav"
    expect(page.get_by_test_id("export-status")).to_have_attribute("data-state", "done", timeout=EXPORT_TIMEOUT_MS)
    link = page.get_by_test_id("export-download")
    expect(link).to_be_visible()
    expect(link).to_have_attribute("download", "plan-song-mix.wav")
    expect(page.get_by_test_id("export-upgrade")).to_be_hidden()
    assert page_errors == []


# ---------------------------------------------------------------- (3) the pages fit


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_the_pricing_and_account_pages_fit_the_screen_without_errors(open_page, studio_server, page_errors, viewport):
    touch = viewport == "phone"
    # Given a visitor on the pricing page
    visitor = open_page(viewport=viewport)
    visitor.goto("/pricing/")
    expect(visitor.get_by_test_id("billing-off")).to_be_visible()
    expect(visitor.get_by_test_id("plan-signup")).to_have_count(2)
    assert layout_problems(visitor, touch=touch) == []
    assert csp_violations(visitor) == []

    # Given a user with a long name (and email address) who used some of today's uploads
    page = open_page(viewport=viewport)
    username = unique_name("fits-on-a-phone-with-a-rather-long-name-")
    sign_up(page, username)
    uploads_use(studio_server, username, keep=2)

    # When they open the pricing page, then their account page
    page.goto("/pricing/")
    expect(page.get_by_test_id("plan-free")).to_have_attribute("data-current", "true")
    pricing_problems = layout_problems(page, touch=touch)
    pricing_csp = csp_violations(page)
    page.get_by_test_id("nav-user").click()
    page.wait_for_url("**/account/")

    # Then the account page shows the plan and the meters, and both pages fit
    expect(page.get_by_test_id("plan-name")).to_have_text("Free")
    expect(page.get_by_test_id("meter-uploads-value")).to_have_text("3 of 5")
    expect(page.get_by_test_id("account-upgrade")).to_be_visible()
    expect(page.get_by_test_id("email-form")).to_be_visible()
    expect(page.get_by_test_id("delete-form")).to_be_visible()
    assert pricing_problems == []
    assert layout_problems(page, touch=touch) == []
    assert pricing_csp == [] and csp_violations(page) == []
    assert page_errors == []


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_the_password_pages_fit_the_screen_without_errors(open_page, page_errors, viewport):
    touch = viewport == "phone"
    # Given a visitor who forgot their password
    visitor = open_page(viewport=viewport)
    visitor.goto("/accounts/login/")
    visitor.get_by_role("link", name="Forgot your password?").click()
    visitor.wait_for_url("**/accounts/password/reset/")
    reset_problems = layout_problems(visitor, touch=touch)
    # When they ask for the link
    visitor.fill("#id_email", "nobody@example.com")
    visitor.locator("main form button[type=submit]").click()
    visitor.wait_for_url("**/accounts/password/reset/sent/")
    sent_problems = layout_problems(visitor, touch=touch)

    # And a signed-in user opens the password change from their account page
    page = open_page(viewport=viewport)
    sign_up(page, unique_name("pw"))
    page.goto("/accounts/password/change/")
    expect(page.locator("#id_old_password")).to_be_visible()

    # Then every page fits, with no CSP violation or page error
    assert reset_problems == [] and sent_problems == []
    assert layout_problems(page, touch=touch) == []
    assert csp_violations(visitor) == [] and csp_violations(page) == []
    assert page_errors == []


def test_the_email_changes_from_the_account_page_and_a_wrong_password_says_why(open_page, page_errors):
    # Given a user on their account page
    page = open_page()
    username = unique_name("mail")
    sign_up(page, username)
    page.goto("/account/")

    # When they type a wrong password with a new address
    form = page.get_by_test_id("email-form")
    form.get_by_label("Current password").fill("not-my-password")
    form.get_by_label("New email").fill(f"{username}-new@example.com")
    form.get_by_test_id("email-submit").click()

    # Then the form says why, and the address is the same
    expect(page.get_by_test_id("email-form")).to_contain_text("That is not your current password.")
    expect(page.get_by_test_id("account-email")).to_have_text(f"{username}@example.com")

    # When they type their password
    form = page.get_by_test_id("email-form")
    form.get_by_label("Current password").fill(PASSWORD)
    form.get_by_label("New email").fill(f"{username}-new@example.com")
    form.get_by_test_id("email-submit").click()

    # Then the page shows the new address
    page.wait_for_url("**/account/")
    expect(page.get_by_test_id("account-email")).to_have_text(f"{username}-new@example.com")
    assert page_errors == []


# ---------------------------------------------------------------- the billing buttons (static/js/billing.js)

#: The pricing page's buttons as billing on renders them (this server has no Stripe keys, so its
#: pages have none), wired by a fresh copy of billing.js (another URL: another module instance).
_BILLING_BUTTONS = """async () => {
  const plan = document.querySelector("[data-testid=plan-pro] .plan-actions");
  plan.insertAdjacentHTML("beforeend",
    '<button type="button" class="btn" data-billing-checkout data-interval="year"' +
    ' data-url="/api/v1/billing/checkout/" data-testid="subscribe-year">Subscribe for $90 a year</button>');
  const error = document.querySelector("[data-billing-error]");
  await import("/static/js/billing.js?copy=" + Date.now());
  return Boolean(error);
}"""
CHECKOUT = re.compile(r".*/api/v1/billing/checkout/$")


def test_a_subscribe_button_posts_its_interval_and_opens_the_page_stripe_answers(open_page, page_errors):
    # Given a user on the pricing page with a subscribe button, and a checkout that answers a URL
    page = open_page()
    sign_up(page, unique_name("buy"))
    page.goto("/pricing/")
    assert page.evaluate(_BILLING_BUTTONS) is True
    answers = iter(
        [
            {"status": 502, "json": {"code": "billing_error", "message": "Stripe could not be reached.", "extra": {}}},
            {"status": 200, "json": {"url": "/account/?checkout=done"}},
        ]
    )
    sent: list[dict[str, Any]] = []

    def checkout(route):
        sent.append({"body": route.request.post_data_json, "csrf": route.request.headers.get("x-csrftoken", "")})
        route.fulfill(**next(answers))

    page.route(CHECKOUT, checkout)
    button = page.get_by_test_id("subscribe-year")

    # When Stripe cannot be reached, the page says so and the button works again
    button.click()
    expect(page.get_by_test_id("billing-error")).to_have_text("Stripe could not be reached.")
    expect(button).to_be_enabled()
    expect(button).to_have_text("Subscribe for $90 a year")

    # When it answers, the browser goes where it says (Stripe's page; here the account page)
    button.click()
    page.wait_for_url("**/account/?checkout=done")
    expect(page.get_by_test_id("checkout-done")).to_be_visible()
    assert [s["body"] for s in sent] == [{"interval": "year"}, {"interval": "year"}]
    assert all(s["csrf"] for s in sent)
    assert page_errors == []
