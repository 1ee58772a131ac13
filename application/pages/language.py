"""The language switcher (the small form in the top bar of every page).

``POST /i18n/language/`` with ``language`` (a code of ``settings.LANGUAGES``, or ``""`` to
follow the browser) and ``next`` (where to go back to). A signed-in user's choice is saved on
their account (``business.services.account_language_set``), so it follows them to every
browser they log in from; everyone gets the ``django_language`` cookie, so the choice stays
after logout and works for visitors who are not signed in. An unknown language is a 400 in
the house error shape, and changes nothing.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from application.api.errors import error_body
from application.middleware import language_cookie_set
from business.services import account_language_set, language_check
from domain.exceptions import IsoMixError


@require_POST
def language_set(request: HttpRequest) -> HttpResponse:
    language = request.POST.get("language", "")
    try:
        if request.user.is_authenticated:
            account_language_set(user=request.user, language=language)
        else:
            language_check(language=language)
    except IsoMixError as exc:
        return JsonResponse(error_body(exc), status=exc.status_code)
    response = HttpResponseRedirect(_next_url(request))
    if language:
        language_cookie_set(response, language)
    else:  # follow the browser again
        response.delete_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            path=settings.LANGUAGE_COOKIE_PATH,
            domain=settings.LANGUAGE_COOKIE_DOMAIN,
            samesite=settings.LANGUAGE_COOKIE_SAMESITE,
        )
    return response


def _next_url(request: HttpRequest) -> str:
    """``next`` when it is a path of this site (never another host: an open redirect), else the
    page the form was on, else the home page."""
    for candidate in (request.POST.get("next", ""), request.headers.get("Referer", "")):
        if candidate and url_has_allowed_host_and_scheme(
            candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            return candidate
    return reverse("home")
