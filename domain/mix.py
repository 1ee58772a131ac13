"""Mixer settings: one type from the API to the ffmpeg render, with its ranges defined once.

The browser's faders, the API's validation, the saved ``Export.settings`` and the render
all read the ranges below; the page receives them as JSON (:func:`mixer_ranges`), so the
fader the user drags and the value the server accepts cannot disagree.

Django-free on purpose: the render pipeline (``model/pipelines/media.py``) imports it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

#: Fader range in dB, per stem and master. Below -60 dB a stem is inaudible in a mix;
#: +6 dB is the usual fader headroom. Silence is ``mute``, not a lower gain.
GAIN_DB_MIN = -60.0
GAIN_DB_MAX = 6.0
GAIN_DB_STEP = 0.5
#: Pan: -1 full left, 0 centre, +1 full right (Web Audio's StereoPannerNode law).
PAN_MIN = -1.0
PAN_MAX = 1.0
PAN_STEP = 0.05
#: Waveform peaks: min/max pairs per second of audio, for every stem.
PEAKS_PER_SECOND = 50


@dataclass(frozen=True)
class StemMix:
    """One stem's channel strip."""

    gain_db: float = 0.0
    mute: bool = False
    solo: bool = False
    pan: float = 0.0

    def __post_init__(self) -> None:
        if not GAIN_DB_MIN <= self.gain_db <= GAIN_DB_MAX:
            raise ValueError(f"gain_db must be within {GAIN_DB_MIN}..{GAIN_DB_MAX}, got {self.gain_db!r}")
        if not PAN_MIN <= self.pan <= PAN_MAX:
            raise ValueError(f"pan must be within {PAN_MIN}..{PAN_MAX}, got {self.pan!r}")


@dataclass(frozen=True)
class MixSettings:
    """The whole mixer: master gain and one :class:`StemMix` per stem kind."""

    master_gain_db: float = 0.0
    stems: Mapping[str, StemMix] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not GAIN_DB_MIN <= self.master_gain_db <= GAIN_DB_MAX:
            raise ValueError(f"master_gain_db must be within {GAIN_DB_MIN}..{GAIN_DB_MAX}")

    def for_kinds(self, kinds: Iterable[str]) -> MixSettings:
        """Exactly one strip per kind in ``kinds`` (in that order); kinds not given are at rest."""
        return MixSettings(
            master_gain_db=self.master_gain_db, stems={kind: self.stems.get(kind, StemMix()) for kind in kinds}
        )

    def to_json(self) -> dict[str, Any]:
        return {"master_gain_db": self.master_gain_db, "stems": {k: asdict(m) for k, m in self.stems.items()}}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> MixSettings:
        """Read what :meth:`to_json` wrote (``Export.settings``)."""
        return cls(
            master_gain_db=float(data.get("master_gain_db", 0.0)),
            stems={kind: StemMix(**strip) for kind, strip in (data.get("stems") or {}).items()},
        )


def mixer_ranges() -> dict[str, Any]:
    """The ranges as the page's mixer reads them (``data-mixer-ranges``)."""
    return {
        "gain_db": {"min": GAIN_DB_MIN, "max": GAIN_DB_MAX, "step": GAIN_DB_STEP},
        "pan": {"min": PAN_MIN, "max": PAN_MAX, "step": PAN_STEP},
        "peaks_per_second": PEAKS_PER_SECOND,
    }
