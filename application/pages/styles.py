"""The style library page: the user's style sounds, the box that uploads more, and their grains.

The upload box knows the limits before anything is sent (files a request, bytes and seconds a
sound: :mod:`domain.remix`), and refuses a file over them in the page, naming it; the style API
checks all of it again and takes a request whole or not at all. Each sound is listed with its
grain job's progress while it is pending, an audition of the sound, and a plot of its grains
(pitch across, loudness up) read by the script from the sound's detail, whose points play the
grain they stand for.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from application.pages.library import ACCEPT
from domain.models import Job, StyleSound
from domain.remix import STYLE_FILES_MAX, STYLE_REQUEST_MAX_BYTES
from domain.selectors import style_job, styles_for_user
from model.services.remix import style_limits_for

#: The all-zero UUID the templates put in URL templates; the scripts replace it with an id.
ZERO_UUID = "00000000-0000-0000-0000-000000000000"


@dataclass(frozen=True)
class StyleRow:
    """One sound as the list renders it: the sound, its newest job, and the URLs its script reads."""

    style: StyleSound
    job: Job | None
    audio_url: str


def _rows(styles: list[StyleSound]) -> list[StyleRow]:
    return [
        StyleRow(
            style=style,
            job=style_job(style),
            audio_url=reverse("api:style-audio", kwargs={"style_id": style.id}),
        )
        for style in styles
    ]


def _url_template(name: str, **kwargs: object) -> str:
    return reverse(name, kwargs={"style_id": ZERO_UUID, **kwargs})


@login_required
def styles_library(request: HttpRequest) -> HttpResponse:
    # The house limits of a sound, or the plan's where those are smaller (as the API applies them).
    max_bytes, max_duration_s = style_limits_for(user=request.user)
    return render(
        request,
        "styles/library.html",
        {
            "rows": _rows(list(styles_for_user(user=request.user))),
            "accept": ACCEPT,
            "files_max": STYLE_FILES_MAX,
            "max_bytes": max_bytes,
            "max_mb": max_bytes // 1_000_000,
            "request_max_bytes": STYLE_REQUEST_MAX_BYTES,
            "max_duration_s": int(max_duration_s),
            "max_duration_min": round(max_duration_s / 60),
            "api_url": reverse("api:styles"),
            "detail_url_template": _url_template("api:style-detail"),
            "audio_url_template": _url_template("api:style-audio"),
            # Grain 0's URL: the script puts the grain's number in place of the trailing 0.
            "grain_url_template": _url_template("api:style-grain", index=0),
        },
    )
