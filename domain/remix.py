"""The granular remix's limits and its per-stem request, with their ranges defined once.

A style sound is a short recording of the user's (a drum kit, a bass, a vocal chop) that a job
cuts into grains; a remix re-plays the song's drums, bass and other stems note for note with
the grains of the sounds chosen for them. The API, the pages and the job read the figures
below; its refusals are the API's, in the user's language.
"""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from domain.exceptions import ErrorCode, IsoMixError
from domain.mix import GAIN_DB_MAX, GAIN_DB_MIN

#: One style sound: at most this large and this long (a kit or a phrase, not a song), and at
#: least long enough to hold a grain.
STYLE_MAX_BYTES = 20_000_000
STYLE_MAX_DURATION_S = 120.0
#: Files one upload request may carry, and the whole request's body (more go in another request).
STYLE_FILES_MAX = 20
STYLE_REQUEST_MAX_BYTES = 100_000_000
#: Style sounds one user keeps.
STYLES_PER_USER_MAX = 200

#: The stems a remix re-voices with grains; the others (vocals, guitar, piano) are mixed in dry.
REVOICED_KINDS = ("drums", "bass", "other")
WET_MIN, WET_MAX = 0.0, 1.0

_UUID = re.compile(r"[0-9a-fA-F]{8}-?([0-9a-fA-F]{4}-?){3}[0-9a-fA-F]{12}")


@dataclass(frozen=True)
class RemixStemConfig:
    """One stem of a remix: re-voiced with ``style`` (a style sound's id) or, without one, as it is."""

    kind: str
    style: str | None = None
    gain_db: float = 0.0
    enabled: bool = True
    #: Dry/wet: 0 the original stem, 1 only the grains.
    wet: float = 1.0

    @property
    def revoiced(self) -> bool:
        return self.enabled and self.style is not None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"gain_db": self.gain_db, "enabled": self.enabled}
        if self.kind in REVOICED_KINDS:
            data.update(style=self.style, wet=self.wet)
        return data


_STEM_FIELDS = {"style", "gain_db", "enabled", "wet"}


def _invalid(field: str, message: str) -> IsoMixError:
    return IsoMixError(message, code=ErrorCode.INVALID_INPUT, extra={"fields": {field: [message]}})


def _number(field: str, value: Any, low: float, high: float) -> float:
    # "not low <= value <= high" is also true for NaN.
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise _invalid(field, _("%(field)s takes a number from %(low)s to %(high)s.") % {
            "field": field, "low": plain_number(low), "high": plain_number(high)})  # fmt: skip
    return float(value)


def remix_stems_from_json(data: Any, *, kinds: Iterable[str]) -> dict[str, RemixStemConfig]:
    """The request's ``stems`` object, checked, with one entry per stem of the song (``kinds``).

    A stem the request does not name is mixed in as it is, at 0 dB. Raises ``IsoMixError``
    (``invalid_input``, ``extra.fields`` naming the field, as ``stems.bass.wet``) for anything
    else: an unknown stem or field, a wrong type, a number out of range, a style on a stem that is
    not re-voiced, no stem re-voiced.
    """
    kinds = list(kinds)
    if not isinstance(data, Mapping):
        raise _invalid("stems", _("stems is an object with one entry per stem of the song."))
    unknown = [str(k) for k in data if k not in kinds]
    if unknown:
        raise _invalid("stems", _("This song has no stem called %(kinds)s.") % {"kinds": ", ".join(unknown[:6])})
    configs = {}
    for kind in kinds:
        entry = data.get(kind, {})
        if not isinstance(entry, Mapping):
            raise _invalid(f"stems.{kind}", _("stems.%(kind)s is an object of settings.") % {"kind": kind})
        extra = sorted(str(k) for k in set(entry) - _STEM_FIELDS)
        if extra:
            raise _invalid(f"stems.{kind}", _("stems.%(kind)s has no setting called %(names)s.") % {
                "kind": kind, "names": ", ".join(extra[:6])})  # fmt: skip
        style = entry.get("style")
        if style is not None:
            if kind not in REVOICED_KINDS:
                raise _invalid(f"stems.{kind}.style", _("Only the drums, the bass and the other stem are re-voiced."))
            if not isinstance(style, str) or not _UUID.fullmatch(style):
                raise _invalid(f"stems.{kind}.style", _("stems.%(kind)s.style is a style sound's id.") % {"kind": kind})
            style = str(uuid.UUID(style))  # one spelling: hyphenated, lower case
        enabled = entry.get("enabled", True)
        if not isinstance(enabled, bool):
            raise _invalid(f"stems.{kind}.enabled", _("stems.%(kind)s.enabled is true or false.") % {"kind": kind})
        configs[kind] = RemixStemConfig(
            kind=kind,
            style=style,
            gain_db=_number(f"stems.{kind}.gain_db", entry.get("gain_db", 0.0), GAIN_DB_MIN, GAIN_DB_MAX),
            enabled=enabled,
            wet=_number(f"stems.{kind}.wet", entry.get("wet", 1.0), WET_MIN, WET_MAX),
        )
    if not any(c.revoiced for c in configs.values()):
        raise _invalid("stems", _("Choose a style sound for at least one of the drums, the bass and the other stem."))
    return configs


def remix_stems_to_json(configs: Mapping[str, RemixStemConfig]) -> dict[str, Any]:
    return {kind: config.to_json() for kind, config in configs.items()}


def remix_stems_load(data: Mapping[str, Any]) -> dict[str, RemixStemConfig]:
    """Read what :func:`remix_stems_to_json` stored (the job's side)."""
    return {
        kind: RemixStemConfig(
            kind=kind,
            style=entry.get("style"),
            gain_db=float(entry.get("gain_db", 0.0)),
            enabled=bool(entry.get("enabled", True)),
            wet=float(entry.get("wet", 1.0)),
        )
        for kind, entry in data.items()
    }


def plain_number(value: float) -> str:
    """``20.0`` → ``"20"``, ``0.06`` → ``"0.06"``, ``2147483647`` → ``"2147483647"`` (for messages)."""
    return str(int(value)) if float(value).is_integer() else str(value)


def db_to_gain(gain_db: float) -> float:
    return math.pow(10.0, gain_db / 20.0)
