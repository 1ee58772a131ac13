"""The library page: the user's projects and the upload box."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from business.selectors import plan_limits_for_user
from domain.selectors import project_list_for_user

ACCEPT = ".mp3,.wav,.flac,.m4a,.aac,.ogg,audio/*"


@login_required
def library(request: HttpRequest) -> HttpResponse:
    limits = plan_limits_for_user(user=request.user)
    return render(
        request,
        "projects/library.html",
        {
            "projects": project_list_for_user(user=request.user),
            "max_upload_mb": limits.max_upload_mb,
            "max_upload_bytes": limits.max_upload_bytes,
            "max_duration_min": round(limits.max_duration_s / 60),
            "accept": ACCEPT,
        },
    )
