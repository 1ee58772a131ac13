"""English and Brazilian Portuguese in a real browser, at 1280 px and at 390 px.

- The top bar's switcher changes the language of the page it is on; a signed-in user's choice
  is saved, so a new login in a fresh browser (English, no cookie) comes back in Portuguese.
- A browser set to pt-BR (Playwright's `locale`, which sends Accept-Language) gets Portuguese
  pages, Portuguese messages from the scripts (upload.js, library.js: the JavaScript
  catalogue) and from the API, and dates and percents written the Brazilian way.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser import test_library_live
from tests.browser.test_library_live import (
    FAKE_PROJECT,
    LIBRARY_SOCKET,
    VIEWPORTS,
    FakeLibraryServer,
    job_event,
    layout_problems,
)
from tests.browser.test_studio import PASSWORD, screenshot, sign_up, unique_name

pytestmark = pytest.mark.browser

#: The library tests' browser contexts (a viewport, a locale; page errors fail the test).
open_context = test_library_live.open_context


def html_lang(page: Page) -> str:
    return page.evaluate("document.documentElement.lang")


def log_in(page: Page, username: str) -> None:
    page.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.get_by_test_id("login-submit").click()
    page.wait_for_url("**/projects/")


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_the_switcher_changes_the_language_and_the_choice_follows_the_user(open_context, viewport):
    # Given a new user in an English browser
    first = open_context(viewport=viewport).new_page()
    username = unique_name("rui")
    sign_up(first, username)
    expect(first.locator("h1")).to_have_text("Library")
    assert html_lang(first) == "en"
    expect(first.get_by_test_id("language-en")).to_have_attribute("aria-pressed", "true")

    # When they choose Portuguese in the top bar
    first.get_by_test_id("language-pt-br").click()

    # Then the same page comes back in Portuguese, the switcher saying so
    first.wait_for_url("**/projects/")
    expect(first.locator("h1")).to_have_text("Biblioteca")
    assert html_lang(first) == "pt-br"
    expect(first.get_by_test_id("language-pt-br")).to_have_attribute("aria-pressed", "true")
    expect(first.get_by_test_id("logout")).to_have_text("Sair")
    assert layout_problems(first, width=VIEWPORTS[viewport]["width"], touch=viewport == "phone") == []

    # And after logging out, the login page stays in Portuguese (the cookie)
    first.get_by_test_id("logout").click()
    expect(first.locator("h1")).to_have_text("Entrar")

    # When they log in again in a fresh browser, English and without the cookie
    second = open_context(viewport=viewport).new_page()
    second.goto("/accounts/login/")
    expect(second.locator("h1")).to_have_text("Log in")
    log_in(second, username)

    # Then the studio speaks Portuguese again, the scripts included
    expect(second.locator("h1")).to_have_text("Biblioteca")
    assert html_lang(second) == "pt-br"
    assert second.evaluate('window.django.gettext("Uploading…")') == "Enviando…"

    # And switching back to English works the same way
    second.get_by_test_id("language-en").click()
    expect(second.locator("h1")).to_have_text("Library")
    assert html_lang(second) == "en"


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_a_portuguese_browser_gets_portuguese_pages_scripts_and_api_messages(open_context, tmp_path, viewport):
    # Given a browser set to Brazilian Portuguese
    page = open_context(viewport=viewport, locale="pt-BR").new_page()
    page.goto("/accounts/signup/")
    expect(page.locator("h1")).to_have_text("Crie a sua conta")
    assert html_lang(page) == "pt-br"
    expect(page.get_by_test_id("signup-submit")).to_have_text("Criar conta")
    sign_up(page, unique_name("ana"))
    expect(page.locator("h1")).to_have_text("Biblioteca")
    expect(page.get_by_test_id("upload-zone")).to_contain_text("Solte uma música aqui ou escolha um arquivo")
    expect(page.get_by_test_id("project-list-empty")).to_have_text(
        "Nenhum projeto ainda. Envie uma música aqui em cima para começar."
    )
    assert layout_problems(page, width=VIEWPORTS[viewport]["width"], touch=viewport == "phone") == []
    screenshot(page, f"library-pt-{viewport}")

    # When they choose an empty file, then upload.js says so in Portuguese
    empty = tmp_path / "vazio.wav"
    empty.write_bytes(b"")
    page.get_by_test_id("upload-input").set_input_files(str(empty))
    expect(page.get_by_test_id("upload-error")).to_have_text("“vazio.wav” está vazio.")

    # When they choose a file that is not audio by its name
    notes = tmp_path / "letra.txt"
    notes.write_text("la la la")
    page.get_by_test_id("upload-input").set_input_files(str(notes))
    expect(page.get_by_test_id("upload-error")).to_have_text(
        "“letra.txt” não parece um arquivo de áudio. Escolha um arquivo MP3, WAV, FLAC, M4A, AAC ou OGG."
    )

    # When they send a file named like audio that is not audio, then the API refuses it in Portuguese
    fake = tmp_path / "demo.wav"
    fake.write_bytes(b"this is not a wave file" * 100)
    page.get_by_test_id("upload-input").set_input_files(str(fake))
    expect(page.get_by_test_id("upload-error")).to_have_text(
        "Este arquivo não é um áudio que conseguimos ler. Envie um arquivo MP3, WAV, FLAC, M4A/AAC ou OGG.",
        timeout=30_000,
    )
    expect(page.get_by_test_id("project-list-empty")).to_be_visible()


def test_live_rows_are_written_in_portuguese_with_brazilian_dates_and_percents(open_context):
    # Given a pt-BR library whose server the test plays, with one processing project
    page = open_context(locale="pt-BR").new_page()
    sign_up(page, unique_name("leo"))
    sockets = []
    page.route_web_socket(LIBRARY_SOCKET, lambda socket: sockets.append(socket))
    server = FakeLibraryServer(page, status="processing")
    page.goto("/projects/")
    row = page.locator(f'[data-project-id="{FAKE_PROJECT}"]')

    # Then the row library.js made is in Portuguese, dates by Intl for pt-BR
    expect(row.get_by_test_id("project-status")).to_have_text("Processando")
    expect(row.get_by_test_id("project-progress")).to_contain_text("Lendo o áudio")
    expect(row.get_by_test_id("project-expires")).to_have_text("Guardado até 4 de abril de 2026")
    expect(row.locator('[data-field="created"]')).to_have_text(re.compile(r"^05/03/2026,? \d{2}:07$"))
    expect(row.locator('[data-field="duration"]')).to_have_text("3:03")
    confirm = row.locator('[data-field="delete-form"]').get_attribute("data-confirm")
    assert confirm == "Excluir “Garage take 3”? As faixas e exportações deste projeto também serão excluídas."

    # When the separation moves on and then finishes
    expect(page.get_by_test_id("library")).to_have_attribute("data-mode", "live")
    sockets[-1].send(job_event(state="running", progress=57, stage="separate", project_status="processing"))
    expect(row.get_by_test_id("project-progress")).to_contain_text("57%")
    expect(row.get_by_test_id("project-progress")).to_contain_text("Separando as faixas")
    server.set(status="ready", progress=100, stage="encode")
    sockets[-1].send(job_event(state="done", progress=100, stage="encode", project_status="ready"))

    # Then it says so in Portuguese
    expect(row.get_by_test_id("project-status")).to_have_text("Pronto")
    expect(row.get_by_test_id("project-open")).to_have_text("Abrir o mixer")
