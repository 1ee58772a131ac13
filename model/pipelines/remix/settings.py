"""The remix request's ``"settings"`` block: :class:`RemixSettings`, parsed strictly.

:meth:`RemixSettings.from_json` takes what a client sent (JSON types) and refuses anything it
does not understand exactly: an unknown key, a boolean where a number belongs (``True`` is an
``int`` in Python), a number where a boolean belongs, NaN or infinity, a fractional seed, a value
out of :data:`RANGES`. Keys left out take their defaults. Every refusal is a
:class:`SettingsError` (a ``ValueError``) that names the field, so the API can point at it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

__all__ = ["RANGES", "RemixSettings", "SettingsError"]

MAX_SEED = 2**31 - 1

#: Inclusive (low, high) bounds of the numeric settings, for the page's inputs and the API schema.
RANGES: dict[str, tuple[float, float]] = {
    "grain_ms": (20.0, 1000.0),
    "onset_delta": (0.01, 1.0),
    "seed": (0, MAX_SEED),
}


class SettingsError(ValueError):
    """A remix setting that is unknown, of the wrong type or out of range; ``field`` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


@dataclass(frozen=True, slots=True)
class RemixSettings:
    """How :func:`~model.pipelines.remix.remix_stem` re-voices a stem.

    Attributes
    ----------
    grain_ms : float
        Length of one grain in milliseconds (20..1000); notes longer than a grain are filled
        with overlapping grains.
    pitch_mapping : bool
        Transpose each grain to the note's pitch (bass and other stems; never drums).
    envelope : bool
        Shape each grain with attack and decay envelopes.
    snap_to_beats : bool
        Move grain starts to the beat grid, when the song has one.
    onset_delta : float
        ``librosa.onset.onset_detect``'s ``delta`` (0.01..1): the higher, the fewer notes.
    seed : int
        Seed of the grain choice's tie-breaking (0..2**31 - 1): the same settings on the same
        inputs give the same output.
    """

    grain_ms: float = 120.0
    pitch_mapping: bool = True
    envelope: bool = True
    snap_to_beats: bool = False
    onset_delta: float = 0.06
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("pitch_mapping", "envelope", "snap_to_beats"):
            if not isinstance(getattr(self, name), bool):
                raise SettingsError(name, "must be true or false")
        for name in ("grain_ms", "onset_delta"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise SettingsError(name, "must be a number")
            try:
                finite = math.isfinite(value)
            except OverflowError:  # an integer past any float (JSON allows 400 digits)
                finite = False
            if not finite:
                raise SettingsError(name, "must be a finite number")
            object.__setattr__(self, name, float(value))
        if isinstance(self.seed, bool) or not isinstance(self.seed, int):
            raise SettingsError("seed", "must be an integer")
        for name, (low, high) in RANGES.items():
            value = getattr(self, name)
            if not low <= value <= high:
                raise SettingsError(name, f"must be between {low} and {high}, got {value}")

    @classmethod
    def from_json(cls, data: Any) -> RemixSettings:
        """Settings from a request's JSON object; keys left out take their defaults.

        Raises
        ------
        SettingsError
            ``data`` is not an object, or holds an unknown key, a value of the wrong type
            (booleans are not numbers, numbers not booleans, the seed an integer), NaN,
            infinity, or a value outside :data:`RANGES`.
        """
        if not isinstance(data, Mapping):
            raise SettingsError("settings", "must be an object")
        known = {f.name for f in fields(cls)}
        for key in data:
            if key not in known:
                raise SettingsError(str(key), "unknown setting")
        return cls(**dict(data))

    def to_json(self) -> dict[str, Any]:
        """The settings as JSON types; ``from_json(to_json())`` gives them back."""
        return asdict(self)
