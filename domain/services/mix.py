"""The saved mixer of a project (restored on reload) and its named presets.

Every settings document is checked twice: its values by :class:`~domain.mix.MixSettings`
(the API's serializers build one), and against the project here: a stem the project does
not have, or a loop past the song's end, is refused (``invalid_input``). What is stored names
every stem of the project, in display order.
"""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from domain.exceptions import ErrorCode, IsoMixError, PresetLimit
from domain.mix import LOOP_END_SLACK_S, MIX_PRESET_NAME_MAX, MIX_PRESETS_MAX, MixSettings
from domain.models import MixPreset, MixState, Project
from domain.selectors import mixer_kinds


def mix_settings_for_project(*, project: Project, mix: MixSettings) -> MixSettings:
    """``mix`` with one strip per stem of ``project``, in display order (a stem not named is at rest).

    Raises ``IsoMixError`` (``invalid_input``) when ``mix`` names a stem the project lacks
    or its loop ends past the song (by more than ``LOOP_END_SLACK_S``).
    """
    stems = list(project.stems.all())
    kinds = mixer_kinds(project=project)
    unknown = sorted(set(mix.stems) - set(kinds))
    if unknown:
        raise IsoMixError(
            _("This project has no stem called %(kinds)s.") % {"kinds": ", ".join(unknown)},
            code=ErrorCode.INVALID_INPUT,
            extra={"stems": unknown},
        )
    if mix.loop is not None:
        duration_s = max([project.duration_s, *(s.duration_s for s in stems)])
        if mix.loop.end_s > duration_s + LOOP_END_SLACK_S:
            raise IsoMixError(
                _("The loop ends at %(end).1f s, after the end of the song (%(duration).1f s).")
                % {"end": mix.loop.end_s, "duration": duration_s},
                code=ErrorCode.INVALID_INPUT,
                extra={"loop_end_s": mix.loop.end_s, "duration_s": duration_s},
            )
    return mix.for_kinds(kinds)


def _project_lock(project: Project) -> None:
    # One writer at a time per project: two first saves, or two presets past the limit.
    Project.objects.select_for_update().filter(id=project.id).first()


def mix_state_save(*, project: Project, mix: MixSettings) -> MixState:
    """Keep ``mix`` as the project's mixer (replacing what was saved)."""
    cleaned = mix_settings_for_project(project=project, mix=mix)
    with transaction.atomic():
        _project_lock(project)
        state = MixState.objects.filter(project=project).first() or MixState(project=project)
        state.settings = cleaned.to_json()
        state.full_clean(exclude=["project"], validate_unique=False)
        state.save()
    return state


def mix_state_reset(*, project: Project) -> None:
    """Forget the saved mixer: the page starts from every fader at rest again."""
    MixState.objects.filter(project=project).delete()


def _preset_name(name: str) -> str:
    cleaned = "".join(ch for ch in name if ch.isprintable()).strip()
    if not cleaned or len(cleaned) > MIX_PRESET_NAME_MAX:
        message = _("A preset name has 1 to %(max)d characters.") % {"max": MIX_PRESET_NAME_MAX}
        raise IsoMixError(message, code=ErrorCode.INVALID_INPUT, extra={"fields": {"name": [message]}})
    return cleaned


def mix_preset_save(*, project: Project, name: str, mix: MixSettings) -> tuple[MixPreset, bool]:
    """Save ``mix`` under ``name`` (trimmed); a preset of that name is overwritten.

    Returns the preset and whether it is new. Raises ``PresetLimit`` when a new one would
    pass ``MIX_PRESETS_MAX`` for the project (overwriting one is always possible).
    """
    name = _preset_name(name)
    cleaned = mix_settings_for_project(project=project, mix=mix)
    with transaction.atomic():
        _project_lock(project)
        preset = MixPreset.objects.filter(project=project, name=name).first()
        created = preset is None
        if preset is None:
            if MixPreset.objects.filter(project=project).count() >= MIX_PRESETS_MAX:
                raise PresetLimit(
                    _("A song keeps at most %(max)d presets: delete one to save another.") % {"max": MIX_PRESETS_MAX},
                    limit=MIX_PRESETS_MAX,
                )
            preset = MixPreset(project=project, name=name)
        preset.settings = cleaned.to_json()
        preset.full_clean(exclude=["project"], validate_unique=False)
        preset.save()
    return preset, created


def mix_preset_delete(*, preset: MixPreset) -> None:
    preset.delete()
