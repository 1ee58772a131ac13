"""The project page: progress while it separates, then the mixer; and deleting it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from application.api.downloads import signed_download_redirect
from business.selectors import plan_limits_for_user
from domain.mix import mixer_ranges, stem_filename
from domain.models import Project, Stem
from domain.selectors import project_get_for_user, stems_ordered
from domain.services import project_delete as project_delete_service

#: The mixer page's ES modules (main.js and everything it imports, pitch-shift.js included,
#: which it imports when the audio starts): the page preloads them all at once
#: (<link rel=modulepreload>) instead of the browser finding them one import at a time.
MIXER_MODULES = tuple(
    f"js/{path}"
    for path in (
        "mixer/main.js", "api.js", "format.js", "i18n.js", "mixer/audio-graph.js", "mixer/debug-handle.js",
        "mixer/canvas.js", "mixer/early.js", "mixer/export.js", "mixer/faders.js", "mixer/keyboard.js", "mixer/loop.js",
        "mixer/meters.js", "mixer/mix-store.js", "mixer/mixer-controls.js", "mixer/pitch-shift.js",
        "mixer/practice.js", "mixer/presets.js", "mixer/socket.js", "mixer/stems-loader.js", "mixer/strips.js",
        "mixer/transport.js", "mixer/waveform.js",
    )
)  # fmt: skip


@dataclass(frozen=True)
class StripView:
    """One stem's channel strip as the mixer template renders it, with the URLs its script reads."""

    kind: str
    label: str
    number: int
    preview_url: str
    peaks_url: str
    download_url: str


def _preview_link(*, project: Project, stem: Stem) -> str:
    """The signed link the preview API would redirect to (one request less per stem while the
    mixer opens); the API's URL when the file cannot be linked (the mixer then says so)."""
    ext = stem.preview_key.rsplit(".", 1)[-1]
    try:
        response = signed_download_redirect(
            key=stem.preview_key,
            filename=stem_filename(project_name=project.name, kind=stem.kind, ext=ext),
            as_attachment=False,
        )
    except Http404:
        return reverse("api:stem-preview", kwargs={"project_id": project.id, "kind": stem.kind})
    return response["Location"]


def _strips(*, project: Project, stems: list[Stem]) -> list[StripView]:
    def url(name: str, stem: Stem) -> str:
        return reverse(name, kwargs={"project_id": project.id, "kind": stem.kind})

    return [
        StripView(
            kind=stem.kind,
            label=str(stem.get_kind_display()),
            number=number,
            preview_url=_preview_link(project=project, stem=stem),
            peaks_url=url("api:stem-peaks", stem),
            download_url=url("api:stem-download", stem),
        )
        for number, stem in enumerate(stems, start=1)
    ]


@login_required
def project_detail(request: HttpRequest, project_id: UUID) -> HttpResponse:
    project = project_get_for_user(user=request.user, project_id=project_id)
    limits = plan_limits_for_user(user=request.user)
    ready = project.status == Project.Status.READY
    stems = stems_ordered(project) if ready else []
    ranges = mixer_ranges()
    api_url = reverse("api:project-detail", kwargs={"project_id": project.id})
    return render(
        request,
        "projects/detail.html",
        {
            "project": project,
            "jobs": list(project.jobs.all()),
            "stems": stems,
            # The mixer reads each stem's audio from its strip's URLs (and the page preloads
            # them): no API round trip before the audio starts downloading.
            "strips": _strips(project=project, stems=stems),
            "mixer_modules": MIXER_MODULES if ready else (),
            "export_formats": list(limits.export_formats),
            "api_url": api_url,
            "mix_url": f"{api_url}mix/",
            "ws_path": f"/ws/projects/{project.id}/",
            # The faders' bounds come from the same figures the export API validates with:
            # rendered into the inputs' min/max/step, and whole as JSON for the mixer's JS.
            "mixer_ranges": ranges,
            "mixer_ranges_json": json.dumps(ranges),
        },
    )


@login_required
@require_POST
def project_delete(request: HttpRequest, project_id: UUID) -> HttpResponse:
    project = project_get_for_user(user=request.user, project_id=project_id)
    name = project.name
    project_delete_service(project=project)
    messages.success(request, _("“%(name)s” was deleted.") % {"name": name})
    return redirect("library")
