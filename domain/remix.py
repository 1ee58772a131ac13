"""The granular remix's limits and its per-stem request, with their ranges defined once.

A style sound is a short recording of the user's (a drum kit, a bass, a vocal chop) that a job
cuts into grains; a remix re-plays the song's drums, bass and other stems note for note with
the grains of the sounds chosen for them. The API, the pages and the job read the figures
below. Django-free, like :mod:`domain.mix`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

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

_UUID = re.compile(r"^[0-9a-fA-F]{8}-?([0-9a-fA-F]{4}-?){3}[0-9a-fA-F]{12}$")


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


def _number(name: str, value: Any, low: float, high: float) -> float:
    # "not low <= value <= high" is also true for NaN.
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise ValueError(f"{name} must be a number within {low}..{high}")
    return float(value)


def remix_stems_from_json(data: Any, *, kinds: Iterable[str]) -> dict[str, RemixStemConfig]:
    """The request's ``stems`` object, checked, with one entry per stem of the song (``kinds``).

    A stem the request does not name is mixed in as it is, at 0 dB. Raises ``ValueError`` with a
    message naming the field (``stems.bass.wet``) for anything else: an unknown stem or field, a
    wrong type, a number out of range, a style on a stem that is not re-voiced, no stem re-voiced.
    """
    kinds = list(kinds)
    if not isinstance(data, Mapping):
        raise ValueError("stems must be an object of the song's stems")
    unknown = [k for k in data if k not in kinds]
    if unknown:
        raise ValueError(f"the song has no stem called {', '.join(map(str, unknown[:6]))}")
    configs = {}
    for kind in kinds:
        entry = data.get(kind, {})
        if not isinstance(entry, Mapping):
            raise ValueError(f"stems.{kind} must be an object")
        extra = set(entry) - _STEM_FIELDS
        if extra:
            raise ValueError(f"stems.{kind} has no field {', '.join(sorted(map(str, extra))[:6])}")
        style = entry.get("style")
        if style is not None:
            if kind not in REVOICED_KINDS:
                raise ValueError(f"stems.{kind}: only {', '.join(REVOICED_KINDS)} are re-voiced")
            if not isinstance(style, str) or not _UUID.match(style):
                raise ValueError(f"stems.{kind}.style must be a style sound's id")
        enabled = entry.get("enabled", True)
        if not isinstance(enabled, bool):
            raise ValueError(f"stems.{kind}.enabled must be true or false")
        configs[kind] = RemixStemConfig(
            kind=kind,
            style=style.lower() if style is not None else None,
            gain_db=_number(f"stems.{kind}.gain_db", entry.get("gain_db", 0.0), GAIN_DB_MIN, GAIN_DB_MAX),
            enabled=enabled,
            wet=_number(f"stems.{kind}.wet", entry.get("wet", 1.0), WET_MIN, WET_MAX),
        )
    if not any(c.revoiced for c in configs.values()):
        raise ValueError("choose a style sound for at least one of drums, bass and other")
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


def db_to_gain(gain_db: float) -> float:
    return math.pow(10.0, gain_db / 20.0)
