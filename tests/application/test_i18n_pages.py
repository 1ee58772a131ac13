"""The studio in English and Brazilian Portuguese: the browser's language, the switcher, the
language saved on the account, and the API following the same rules."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from django.utils.translation import trans_real
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from business.models import Account
from business.selectors import account_language_for_user
from domain.models import Project
from tests.factories import PASSWORD, project_create_ready, user_create

pytestmark = pytest.mark.django_db

LOCALE_DIR = Path(settings.LOCALE_PATHS[0]) / "pt_BR" / "LC_MESSAGES"
COOKIE = settings.LANGUAGE_COOKIE_NAME
PT = {"HTTP_ACCEPT_LANGUAGE": "pt-BR,pt;q=0.9,en;q=0.5"}
EN = {"HTTP_ACCEPT_LANGUAGE": "en-US,en;q=0.9"}


@pytest.fixture(autouse=True, scope="module")
def compiled_catalogues() -> None:
    """The .mo files as `make` builds them, when they are missing or older than their .po.

    Django caches a catalogue per process once read, so after compiling the cache is dropped.
    """
    stale = [
        po
        for po in LOCALE_DIR.glob("*.po")
        if not po.with_suffix(".mo").exists() or po.with_suffix(".mo").stat().st_mtime < po.stat().st_mtime
    ]
    if stale:
        call_command("compilemessages", locale=["pt_BR"], ignore_patterns=[".venv", "var", "node_modules"], verbosity=0)
        trans_real.translation_file_changed(sender=None, file_path=LOCALE_DIR / "django.mo")


def _html_lang(response) -> str:
    match = re.search(r'<html lang="([^"]+)">', response.content.decode())
    assert match, "no <html lang>"
    return match.group(1)


# ---------------------------------------------------------------- the browser's language


def test_a_portuguese_browser_gets_the_login_page_in_portuguese():
    response = Client().get("/accounts/login/", **PT)

    html = response.content.decode()
    assert response.status_code == 200
    assert _html_lang(response) == "pt-br"
    assert response["Content-Language"] == "pt-br"
    assert '<h1 id="login-title">Entrar</h1>' in html
    assert "Novo no IsoMix?" in html
    # Django's own form labels come translated too
    assert "Usuário" in html and "Senha" in html


def test_an_english_or_unknown_browser_gets_english():
    english = Client().get("/accounts/login/", **EN)
    german = Client().get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="de-DE,de;q=0.9")
    no_header = Client().get("/accounts/login/")

    for response in (english, german, no_header):
        assert _html_lang(response) == "en"
        assert '<h1 id="login-title">Log in</h1>' in response.content.decode()


def test_the_javascript_catalogue_follows_the_language():
    portuguese = Client().get("/jsi18n/", **PT).content.decode()
    english = Client().get("/jsi18n/", **EN).content.decode()

    assert "Enviando\\u2026" in portuguese or "Enviando…" in portuguese
    assert "Enviando" not in english


# ---------------------------------------------------------------- the switcher


def test_a_visitor_switches_with_the_cookie_and_goes_back_where_they_were():
    client = Client()

    response = client.post("/i18n/language/", {"language": "pt-br", "next": "/accounts/signup/"}, **EN)
    page = client.get("/accounts/signup/", **EN)

    assert response.status_code == 302
    assert response["Location"] == "/accounts/signup/"
    assert response.cookies[COOKIE].value == "pt-br"
    assert response.cookies[COOKIE]["max-age"] == settings.LANGUAGE_COOKIE_AGE
    assert _html_lang(page) == "pt-br"  # the cookie wins over Accept-Language
    assert "Crie a sua conta" in page.content.decode()
    assert not Account.objects.exists()


def test_the_switcher_marks_the_current_language():
    html = Client().get("/accounts/login/", **PT).content.decode()

    assert re.search(r'value="pt-br"[^>]*aria-pressed="true"', html, re.DOTALL)
    assert re.search(r'value="en"[^>]*aria-pressed="false"', html, re.DOTALL)
    assert 'action="/i18n/language/"' in html
    assert 'name="csrfmiddlewaretoken"' in html.split('class="lang-switch"')[1].split("</form>")[0]


def test_a_signed_in_user_saves_the_language_on_their_account():
    user = user_create()
    client = Client()
    client.force_login(user)

    response = client.post("/i18n/language/", {"language": "pt-br", "next": "/projects/"}, **EN)
    library = client.get("/projects/", **EN)

    assert response.status_code == 302
    assert Account.objects.get(user=user).language == "pt-br"
    assert response.cookies[COOKIE].value == "pt-br"
    assert _html_lang(library) == "pt-br"
    assert "<h1>Biblioteca</h1>" in library.content.decode()


def test_the_saved_language_follows_the_user_to_a_new_browser_and_stays_after_logout():
    # Given a user who chose Portuguese on one browser
    user = user_create()
    Account.objects.create(user=user, language="pt-br")

    # When they log in on another one, whose language is English and which has no cookie
    browser = Client()
    login = browser.post("/accounts/login/", {"username": user.username, "password": PASSWORD}, **EN)
    library = browser.get("/projects/", **EN)
    browser.post("/accounts/logout/", **EN)
    after_logout = browser.get("/accounts/login/", **EN)

    # Then the login answer gives that browser the cookie, and the pages are in Portuguese
    assert login.status_code == 302
    assert login.cookies[COOKIE].value == "pt-br"
    assert _html_lang(library) == "pt-br"
    # And after logout too (the cookie)
    assert _html_lang(after_logout) == "pt-br"


def test_the_saved_language_wins_over_a_cookie_of_another_language():
    user = user_create()
    Account.objects.create(user=user, language="en")
    client = Client()
    client.force_login(user)
    client.cookies[COOKIE] = "pt-br"

    response = client.get("/projects/", **PT)

    assert _html_lang(response) == "en"
    assert response.cookies[COOKIE].value == "en"  # the browser learns the saved choice


def test_a_blank_choice_follows_the_browser_again():
    user = user_create()
    Account.objects.create(user=user, language="pt-br")
    client = Client()
    client.force_login(user)
    client.cookies[COOKIE] = "pt-br"

    response = client.post("/i18n/language/", {"language": "", "next": "/projects/"})
    english = client.get("/projects/", **EN)
    portuguese = client.get("/projects/", **PT)

    assert Account.objects.get(user=user).language == ""
    assert response.cookies[COOKIE].value == ""  # deleted
    assert _html_lang(english) == "en"
    assert _html_lang(portuguese) == "pt-br"


@pytest.mark.parametrize("language", ["de", "pt", "x" * 500, "en\n"])
def test_an_unknown_language_is_a_400_and_changes_nothing(language):
    user = user_create()
    client = Client()
    client.force_login(user)

    response = client.post("/i18n/language/", {"language": language, "next": "/projects/"})

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid_input"
    assert body["extra"] == {"choices": ["en", "pt-br"]}
    assert "is not a language of the studio" in body["message"]
    assert COOKIE not in response.cookies
    assert not Account.objects.exists()


def test_an_anonymous_unknown_language_is_a_400_too():
    response = Client().post("/i18n/language/", {"language": "fr"}, **PT)

    assert response.status_code == 400
    assert response.json()["message"] == "“fr” não é um idioma do estúdio."
    assert COOKIE not in response.cookies


@pytest.mark.parametrize("next_url", ["https://evil.example/", "//evil.example/x", "javascript:alert(1)"])
def test_the_switcher_never_redirects_to_another_site(next_url):
    response = Client().post("/i18n/language/", {"language": "pt-br", "next": next_url})

    assert response.status_code == 302
    assert response["Location"] == "/"


def test_the_switcher_goes_back_to_the_referring_page_without_next():
    response = Client().post("/i18n/language/", {"language": "en"}, HTTP_REFERER="http://testserver/accounts/signup/")

    assert response["Location"] == "http://testserver/accounts/signup/"


def test_the_switcher_needs_post_and_the_csrf_token():
    client = Client(enforce_csrf_checks=True)

    assert client.get("/i18n/language/").status_code == 405
    refused = client.post("/i18n/language/", {"language": "pt-br"})
    assert refused.status_code == 403
    assert COOKIE not in refused.cookies


def test_signing_up_keeps_the_language_chosen_before():
    client = Client()
    client.post("/i18n/language/", {"language": "pt-br"})

    client.post(
        "/accounts/signup/",
        {"username": "bia", "email": "bia@example.com", "password1": PASSWORD, "password2": PASSWORD},
        **EN,
    )

    assert Account.objects.get(user__username="bia").language == "pt-br"


def test_signing_up_without_a_choice_follows_the_browser():
    Client().post(
        "/accounts/signup/",
        {"username": "caio", "email": "caio@example.com", "password1": PASSWORD, "password2": PASSWORD},
        **PT,
    )

    assert not Account.objects.filter(user__username="caio").exists()
    assert account_language_for_user(user=get_user_model().objects.get(username="caio")) == ""


# ---------------------------------------------------------------- the API


def test_a_token_client_gets_api_errors_in_its_accept_language():
    user = user_create()
    Account.objects.create(user=user, language="en")  # token clients follow their header only
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")

    portuguese = client.get("/api/v1/projects/?limit=0", **PT)
    english = client.get("/api/v1/projects/?limit=0", **EN)

    assert portuguese.status_code == english.status_code == 400
    assert portuguese.json()["message"] == "limit deve ser um número inteiro de 1 a 100."
    assert english.json()["message"] == "limit must be a whole number from 1 to 100."


def test_the_pages_session_gets_api_errors_in_the_saved_language():
    user = user_create()
    Account.objects.create(user=user, language="pt-br")
    client = Client()
    client.force_login(user)

    response = client.get("/api/v1/projects/?limit=0", **EN)

    assert response.json()["message"] == "limit deve ser um número inteiro de 1 a 100."


def test_login_lockout_message_is_translated(settings):
    settings.ISOMIX_LOGIN_ACCOUNT_FAILURES = 1
    user = user_create()

    response = Client().post("/accounts/login/", {"username": user.username, "password": "wrong"}, **PT)

    assert response.status_code == 429
    assert "Muitas tentativas de login sem sucesso. Tente de novo em 15 minutos." in response.content.decode()


# ---------------------------------------------------------------- dates and numbers


def test_library_dates_are_written_for_the_locale():
    owner = user_create()
    project = project_create_ready(owner=owner, duration_s=0.5)
    created = dt.datetime(2026, 3, 5, 14, 7, tzinfo=dt.UTC)
    Project.objects.filter(id=project.id).update(created_at=created, expires_at=created + dt.timedelta(days=30))
    client = Client()
    client.force_login(owner)

    portuguese = client.get("/projects/", **PT).content.decode()
    english = client.get("/projects/", **EN).content.decode()

    assert "Guardado até 4 de Abril de 2026" in portuguese
    assert ">05/03/2026 14:07<" in portuguese
    assert "Kept until April 4, 2026" in english
    assert ">03/05/2026 2:07 p.m.<" in english
    assert timezone.is_aware(created)
