"""Pages of plans and the account: pricing, the account page, email change, account deletion.

(Placeholder: the views below are filled in by the pages work of issue 9.)
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_POST


def pricing(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/pricing.html", {})


@login_required
def account(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/account.html", {})


@login_required
def account_email(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/account.html", {})


@login_required
@require_POST
def account_delete(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/account.html", {})
