"""The remix page of a song: re-voice its drums, bass and other stems with the user's style sounds.

Per stem of the song, a row: the re-voiced ones (:data:`domain.remix.REVOICED_KINDS`) choose a
ready style sound (or keep the original), a level and a dry/wet balance; the others (the vocals,
a guitar or piano stem) only a level and whether they are in the mix. The grain settings' ranges
are the pipeline's own (``RemixSettings.RANGES``), rendered into the inputs. The form starts from
the song's newest remix, so that "the same again with another seed" is one change.

The page's script posts the request to the remixes API and follows the job on the project's
socket (REST when the socket is down); the finished remix opens in the mixer, where its
re-voiced stems play beside the song's. A song that is not ready yet gets the page with a note
instead of the form.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from domain.mix import GAIN_DB_MAX, GAIN_DB_MIN, GAIN_DB_STEP
from domain.models import Job, Project, Remix, StyleSound
from domain.remix import REVOICED_KINDS, WET_MAX, WET_MIN
from domain.selectors import project_get_for_user, remixes_for_project, stems_ordered, styles_for_user

#: The dry/wet slider's step (the API takes any value in WET_MIN..WET_MAX).
WET_STEP = 0.05
#: The remixes listed under the form (newest first); older ones stay in the API's list.
HISTORY_MAX = 20
ZERO_UUID = "00000000-0000-0000-0000-000000000000"


@dataclass(frozen=True)
class StemRow:
    """One stem's row of the form, with the values it starts from."""

    kind: str
    label: str
    revoiced: bool
    style: str
    gain_db: float
    enabled: bool
    wet: float


@dataclass(frozen=True)
class RemixRow:
    """One remix in the list under the form."""

    remix: Remix
    state: str
    state_label: str
    summary: str
    download_url: str


#: The slider steps of the numeric grain settings (the pipeline takes any value in its range).
SETTING_STEPS = {"grain_ms": 10, "onset_delta": 0.01, "seed": 1}


def _settings_fields() -> dict[str, dict[str, Any]]:
    """Each grain setting's default and, for a number, its range and the slider's step, as the
    pipeline checks them (``model.pipelines.remix.settings``)."""
    from model.pipelines.remix.settings import RANGES, RemixSettings

    defaults = RemixSettings().to_json()
    specs: dict[str, dict[str, Any]] = {}
    for name, default in defaults.items():
        spec: dict[str, Any] = {"default": default}
        if name in RANGES:
            low, high = RANGES[name]
            spec.update(min=low, max=high, step=SETTING_STEPS.get(name, 1))
        specs[name] = spec
    return specs


def _stem_rows(*, project: Project, initial: Remix | None) -> list[StemRow]:
    before = initial.stems if initial is not None and isinstance(initial.stems, dict) else {}
    rows = []
    for stem in stems_ordered(project):
        entry = before.get(stem.kind) if isinstance(before.get(stem.kind), dict) else {}
        revoiced = stem.kind in REVOICED_KINDS
        rows.append(
            StemRow(
                kind=stem.kind,
                label=str(stem.get_kind_display()),
                revoiced=revoiced,
                style=str(entry.get("style") or "") if revoiced else "",
                gain_db=_clamped(entry.get("gain_db"), 0.0, GAIN_DB_MIN, GAIN_DB_MAX),
                enabled=entry.get("enabled", True) is not False,
                wet=_clamped(entry.get("wet"), 1.0, WET_MIN, WET_MAX),
            )
        )
    return rows


def _clamped(value: Any, default: float, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return default
    return min(high, max(low, float(value)))


def _initial_settings(fields: dict[str, dict[str, Any]], initial: Remix | None) -> dict[str, Any]:
    """Each setting's starting value: the newest remix's, where it is one the ranges allow."""
    before = initial.settings if initial is not None and isinstance(initial.settings, dict) else {}
    values = {}
    for name, spec in fields.items():
        value = before.get(name, spec.get("default"))
        default = spec.get("default")
        if isinstance(default, bool):
            values[name] = value if isinstance(value, bool) else default
        elif "min" in spec and "max" in spec:
            values[name] = _clamped(value, default, spec["min"], spec["max"])
        else:
            values[name] = default
    return values


def _summary(remix: Remix, names: dict[str, str]) -> str:
    """What a remix re-voiced with what: "Drums: Trap kit · Bass: Funk bass"."""
    parts = []
    stems = remix.stems if isinstance(remix.stems, dict) else {}
    labels = {"drums": _("Drums"), "bass": _("Bass"), "other": _("Other")}
    for kind in REVOICED_KINDS:
        entry = stems.get(kind)
        if not isinstance(entry, dict) or not entry.get("style") or entry.get("enabled") is False:
            continue
        name = names.get(str(entry["style"]).lower(), _("a deleted sound"))
        parts.append(_("%(stem)s: %(sound)s") % {"stem": labels[kind], "sound": name})
    return " · ".join(parts)


def _remix_rows(remixes: list[Remix], names: dict[str, str]) -> list[RemixRow]:
    rows = []
    for remix in remixes:
        done = remix.job.state == Job.State.DONE and bool(remix.file_key)
        rows.append(
            RemixRow(
                remix=remix,
                state=remix.job.state,
                state_label=str(remix.job.get_state_display()),
                summary=_summary(remix, names),
                download_url=reverse("api:remix-download", kwargs={"remix_id": remix.id}) if done else "",
            )
        )
    return rows


@login_required
def project_remix(request: HttpRequest, project_id: UUID) -> HttpResponse:
    project = project_get_for_user(user=request.user, project_id=project_id)
    ready = project.status == Project.Status.READY
    context: dict[str, Any] = {"project": project, "ready": ready}
    if ready:
        styles = list(styles_for_user(user=request.user))
        names = {str(style.id): style.name for style in styles}
        remixes = list(remixes_for_project(project=project)[:HISTORY_MAX])
        initial = remixes[0] if remixes else None
        fields = _settings_fields()
        # The newest unfinished remix: the page follows it (a reload while one runs).
        running = next((r for r in remixes if r.job.state in (Job.State.QUEUED, Job.State.RUNNING)), None)
        context.update(
            styles=[s for s in styles if s.status == StyleSound.Status.READY],
            pending_styles=sum(1 for s in styles if s.status == StyleSound.Status.PENDING),
            stem_rows=_stem_rows(project=project, initial=initial),
            settings_fields=fields,
            settings_values=_initial_settings(fields, initial),
            gain_range={"min": GAIN_DB_MIN, "max": GAIN_DB_MAX, "step": GAIN_DB_STEP},
            wet_range={"min": WET_MIN, "max": WET_MAX, "step": WET_STEP},
            remix_rows=_remix_rows(remixes, names),
            following=str(running.id) if running else "",
            remixes_url=reverse("api:remixes", kwargs={"project_id": project.id}),
            remix_url_template=reverse("api:remix-detail", kwargs={"remix_id": ZERO_UUID}),
            remix_download_url_template=reverse("api:remix-download", kwargs={"remix_id": ZERO_UUID}),
            ws_path=f"/ws/projects/{project.id}/",
            style_names_json=json.dumps(names),
        )
    return render(request, "projects/remix.html", context)
