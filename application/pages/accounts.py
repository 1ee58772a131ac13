"""Pages of the account: the home redirect and sign-up (with an email: application/pages/forms.py)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import login
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from application.pages.forms import SignupForm
from business.services import account_language_set


def home(request: HttpRequest) -> HttpResponse:
    return redirect("library" if request.user.is_authenticated else "login")


def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("library")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            user = form.save()
            # A language the visitor chose with the switcher before signing up becomes theirs.
            chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
            if chosen in dict(settings.LANGUAGES):
                account_language_set(user=user, language=chosen)
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        return redirect("library")
    return render(request, "accounts/signup.html", {"form": form})
