"""The project page: progress while it separates, then the mixer; and deleting it.

The export panel offers every format and MP3 bit rate, and the zip of all stems: those outside
the user's plan are shown disabled with a "Pro" badge and a link to the pricing page, rather
than hidden (the export and archive APIs refuse them with a 402 ``plan_required``). The karaoke
bundle is not one of the formats listed: the mixer's script offers it once the song has lyrics
(it reads them from ``lyrics_url``).

The mixer page also shows the song's analysis (read by its script from ``analysis_url``) and its
processing steps: the newest separation, analysis and lyrics job, kept current over the socket.

When the song has a finished remix, the newest one's re-voiced stems follow the song's own as
more strips (``remix_drums``, ...): each with its own fader, mute, solo and pan, saved with the
mix and sent in an export's ``stems`` like any other.

A ready or failed song has a "Separate again" panel: the upload box's separation choice
(:func:`application.pages.library.separation_fields`) with the song's engine preselected. Its
script (``static/js/separation.js``) posts to the separation API and follows the new job; a
separation already queued or running when the page is made is followed from the start.
"""

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
from application.pages.library import separation_fields
from business.exceptions import PlanRequired, upgrade_url
from business.selectors import PlanLimits, plan_for_user
from domain.mix import mixer_ranges, stem_filename
from domain.models import Export, Job, Project, RemixStem, Stem
from domain.remix import REVOICED_KINDS
from domain.selectors import project_get_for_user, remix_latest_done, stems_ordered
from model.services import export_allowed_check, project_remove

#: The mixer page's ES modules (main.js and everything it imports, pitch-shift.js included,
#: which it imports when the audio starts): the page preloads them all at once
#: (<link rel=modulepreload>) instead of the browser finding them one import at a time.
MIXER_MODULES = tuple(
    f"js/{path}"
    for path in (
        "mixer/main.js", "api.js", "format.js", "i18n.js", "upgrade.js", "mixer/audio-graph.js",
        "mixer/debug-handle.js",
        "mixer/canvas.js", "mixer/early.js", "mixer/export.js", "mixer/faders.js", "mixer/keyboard.js", "mixer/loop.js",
        "mixer/meters.js", "mixer/mix-store.js", "mixer/mixer-controls.js", "mixer/pitch-shift.js",
        "mixer/practice.js", "mixer/presets.js", "mixer/socket.js", "mixer/stems-loader.js", "mixer/strips.js",
        "mixer/transport.js", "mixer/waveform.js", "mixer/analysis.js", "mixer/metronome.js", "mixer/steps.js",
        "labels.js",
        # The karaoke view main.js mounts (static/js/karaoke/: its own owner's; keep this in step).
        "karaoke/index.js", "karaoke/editor.js", "karaoke/edits.js", "karaoke/lyrics-api.js", "karaoke/paste.js",
        "karaoke/timing.js", "karaoke/view.js",
    )
)  # fmt: skip


@dataclass(frozen=True)
class StripView:
    """One stem's channel strip as the mixer template renders it, with the URLs its script reads.

    ``kind`` is the strip's key in the mixer (and in the mix settings): a stem kind of the song,
    or a re-voiced stem's track (``remix_drums``), whose ``source_kind`` (``drums``) gives it
    its colour.
    """

    kind: str
    label: str
    number: int
    preview_url: str
    peaks_url: str
    download_url: str
    source_kind: str = ""
    revoiced: bool = False


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


def _remix_preview_link(*, project: Project, track: RemixStem) -> str:
    """As :func:`_preview_link`, for a re-voiced stem (the remix preview API's URL as fallback)."""
    ext = track.preview_key.rsplit(".", 1)[-1]
    try:
        response = signed_download_redirect(
            key=track.preview_key,
            filename=stem_filename(project_name=project.name, kind=track.track, ext=ext),
            as_attachment=False,
        )
    except Http404:
        return reverse("api:remix-stem-preview", kwargs={"remix_id": track.remix_id, "kind": track.kind})
    return response["Location"]


def _remix_strips(*, project: Project, tracks: list[RemixStem], first_number: int) -> list[StripView]:
    """The re-voiced stems' strips, numbered on from the song's own."""

    def url(name: str, track: RemixStem) -> str:
        return reverse(name, kwargs={"remix_id": track.remix_id, "kind": track.kind})

    return [
        StripView(
            kind=track.track,
            label=track.label,
            number=number,
            preview_url=_remix_preview_link(project=project, track=track),
            peaks_url=url("api:remix-stem-peaks", track),
            download_url=url("api:remix-stem-download", track),
            source_kind=track.kind,
            revoiced=True,
        )
        for number, track in enumerate(tracks, start=first_number)
    ]


def _revoiced_tracks(project: Project) -> list[RemixStem]:
    """The newest finished remix's re-voiced stems, in the song's stem order (none without one)."""
    remix = remix_latest_done(project=project)
    if remix is None:
        return []
    order = {kind: i for i, kind in enumerate(REVOICED_KINDS)}
    return sorted(remix.tracks.all(), key=lambda t: order.get(t.kind, len(order)))


@dataclass(frozen=True)
class ExportChoice:
    """One option of the export panel: a format or an MP3 bit rate, and whether the plan has it."""

    value: str | int
    label: str
    allowed: bool
    selected: bool = False


def export_choices(*, limits: PlanLimits, ranges: dict) -> dict:
    """The export panel's options as the plan allows them (the first allowed one selected)."""
    formats = [
        ExportChoice(value=value, label=str(label), allowed=value in limits.export_formats)
        for value, label in Export.Format.choices
        if value != Export.Format.KARAOKE  # offered by the script, once the song has lyrics
    ]
    first = next((f.value for f in formats if f.allowed), None)
    formats = [ExportChoice(f.value, f.label, f.allowed, selected=f.value == first) for f in formats]
    rates = [kbps for kbps in ranges["mp3_bitrates"] if kbps <= limits.mp3_max_kbps]
    default = ranges["mp3_bitrate_default"]
    chosen = default if default in rates else max(rates, default=None)
    bitrates = [
        ExportChoice(value=kbps, label=str(kbps), allowed=kbps in rates, selected=kbps == chosen)
        for kbps in ranges["mp3_bitrates"]
    ]
    locked = [f.label for f in formats if not f.allowed]
    locked_rates = [str(b.value) for b in bitrates if not b.allowed]
    if locked_rates:
        locked.append(_("MP3 at %(rates)s kbps") % {"rates": " / ".join(locked_rates)})
    return {
        "export_format_choices": formats,
        "export_bitrate_choices": bitrates,
        # What of the panel is outside the plan, for the note beside it (with the upgrade link).
        "export_locked_text": _("%(features)s: with Pro.") % {"features": ", ".join(locked)} if locked else "",
        "stems_zip": limits.stems_zip,
        "karaoke_export": ExportChoice(
            value=Export.Format.KARAOKE,
            label=_("Karaoke bundle (instrumental + lyrics)"),
            allowed=_export_allowed(limits=limits, fmt=Export.Format.KARAOKE),
        ),
    }


def _export_allowed(*, limits: PlanLimits, fmt: str) -> bool:
    try:
        export_allowed_check(limits=limits, fmt=fmt, bitrate_kbps=None)
    except PlanRequired:
        return False
    return True


#: The steps the mixer page shows (an export's progress is the export panel's).
STEP_KINDS = (Job.Kind.SEPARATE, Job.Kind.ANALYSE, Job.Kind.LYRICS)


def _step_jobs(jobs: list[Job]) -> list[Job]:
    """The newest job of each of :data:`STEP_KINDS`, in that order (a re-run replaces its step)."""
    newest = {job.kind: job for job in jobs if job.kind in STEP_KINDS}  # jobs come oldest first
    return [newest[kind] for kind in STEP_KINDS if kind in newest]


def separate_again_panel(*, project: Project, jobs: list[Job], limits: PlanLimits, upgradable: bool) -> dict:
    """What the "Separate again" panel needs: only a ready or failed song has one (one still
    separating for the first time shows its progress instead)."""
    if project.status not in (Project.Status.READY, Project.Status.FAILED):
        return {"separation_panel": False}
    latest = next((job for job in reversed(jobs) if job.kind == Job.Kind.SEPARATE), None)  # oldest first
    running = latest is not None and latest.state not in Job.FINISHED
    return {
        "separation_panel": True,
        "separation_url": reverse("api:project-separate", kwargs={"project_id": project.id}),
        "separation_job_id": str(latest.id) if running else "",
        **separation_fields(limits=limits, upgradable=upgradable, current=project.engine),
    }


@login_required
def project_detail(request: HttpRequest, project_id: UUID) -> HttpResponse:
    project = project_get_for_user(user=request.user, project_id=project_id)
    plan = plan_for_user(user=request.user)
    limits = PlanLimits.from_plan(plan)
    ready = project.status == Project.Status.READY
    stems = stems_ordered(project) if ready else []
    strips = _strips(project=project, stems=stems)
    if ready:
        strips += _remix_strips(project=project, tracks=_revoiced_tracks(project), first_number=len(strips) + 1)
    ranges = mixer_ranges()
    api_url = reverse("api:project-detail", kwargs={"project_id": project.id})
    jobs = list(project.jobs.all())
    return render(
        request,
        "projects/detail.html",
        {
            "project": project,
            "jobs": jobs,
            "step_jobs": _step_jobs(jobs) if ready else [],
            "stems": stems,
            # The mixer reads each stem's audio from its strip's URLs (and the page preloads
            # them): no API round trip before the audio starts downloading.
            "strips": strips,
            "has_revoiced": any(strip.revoiced for strip in strips),
            "remix_url": reverse("project_remix", kwargs={"project_id": project.id}) if ready else "",
            "mixer_modules": MIXER_MODULES if ready else (),
            "export_formats": list(limits.export_formats),
            **export_choices(limits=limits, ranges=ranges),
            "upgrade_url": "" if plan.is_paid else upgrade_url(),
            "api_url": api_url,
            "mix_url": f"{api_url}mix/",
            "analysis_url": reverse("api:analysis", kwargs={"project_id": project.id}),
            "lyrics_url": reverse("api:lyrics", kwargs={"project_id": project.id}),
            "ws_path": f"/ws/projects/{project.id}/",
            # The faders' bounds come from the same figures the export API validates with:
            # rendered into the inputs' min/max/step, and whole as JSON for the mixer's JS.
            "mixer_ranges": ranges,
            "mixer_ranges_json": json.dumps(ranges),
            **separate_again_panel(project=project, jobs=jobs, limits=limits, upgradable=not plan.is_paid),
        },
    )


@login_required
@require_POST
def project_delete(request: HttpRequest, project_id: UUID) -> HttpResponse:
    project = project_get_for_user(user=request.user, project_id=project_id)
    name = project.name
    project_remove(project=project)
    messages.success(request, _("“%(name)s” was deleted.") % {"name": name})
    return redirect("library")
