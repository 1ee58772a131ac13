"""Mixer settings: one type from the API to the ffmpeg render, with its ranges defined once.

The browser's faders, the API's validation, the saved mixer state and presets, the saved
``Export.settings`` and the render all read the ranges below; the page receives them as
JSON (:func:`mixer_ranges`), so the control the user moves and the value the server accepts
cannot disagree.

Tempo and transpose mean the same on the page and in the export: the song plays at
``tempo`` times its speed (it lasts ``duration / tempo``) with its pitch moved by
``transpose`` semitones (frequencies × 2^(transpose/12)), the two independently.

Django-free on purpose: the render pipeline (``model/pipelines/media.py``) imports it.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
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
#: Playback speed, as a factor of the song's own (pitch kept). Past these bounds a
#: time-stretcher smears transients audibly; practice tools stop at half and 1.5× speed.
TEMPO_MIN = 0.5
TEMPO_MAX = 1.5
TEMPO_STEP = 0.05
#: Transposition in whole semitones, up to an octave either way.
TRANSPOSE_MIN = -12
TRANSPOSE_MAX = 12
TRANSPOSE_STEP = 1
#: The shortest loop region, in seconds (shorter is a click, not a loop).
LOOP_MIN_S = 0.1
#: How far past the song's recorded duration a loop may end, in seconds: the page measures
#: the duration on the decoded MP3 previews, which the encoder pads by up to ~50 ms.
LOOP_END_SLACK_S = 0.1
#: Waveform peaks: min/max pairs per second of audio, for every stem.
PEAKS_PER_SECOND = 50
#: Constant bit rates an MP3 export can take, in kb/s; lossless formats take none.
EXPORT_MP3_BITRATES = (128, 192, 256, 320)
EXPORT_MP3_BITRATE_DEFAULT = 192
#: Named mix presets one project can hold, and the longest name (characters).
MIX_PRESETS_MAX = 50
MIX_PRESET_NAME_MAX = 80

#: The order stems are named in (``domain.models.StemKind``'s, repeated: no Django here).
_NAME_ORDER = ("vocals", "drums", "bass", "other", "guitar", "piano", "instrumental")


def _check_range(name: str, value: float, low: float, high: float) -> None:
    # "not low <= value <= high" is also true for NaN.
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise ValueError(f"{name} must be within {low}..{high}, got {value!r}")


@dataclass(frozen=True)
class StemMix:
    """One stem's channel strip."""

    gain_db: float = 0.0
    mute: bool = False
    solo: bool = False
    pan: float = 0.0

    def __post_init__(self) -> None:
        _check_range("gain_db", self.gain_db, GAIN_DB_MIN, GAIN_DB_MAX)
        _check_range("pan", self.pan, PAN_MIN, PAN_MAX)
        if not isinstance(self.mute, bool) or not isinstance(self.solo, bool):
            raise ValueError("mute and solo must be true or false")


@dataclass(frozen=True)
class LoopRegion:
    """A region of the song, in seconds from its start; ``enabled`` is the loop switch."""

    start_s: float
    end_s: float
    enabled: bool = True

    def __post_init__(self) -> None:
        _check_range("start_s", self.start_s, 0.0, math.inf)
        _check_range("end_s", self.end_s, 0.0, math.inf)
        if not math.isfinite(self.end_s):
            raise ValueError("end_s must be finite")
        if not self.end_s - self.start_s >= LOOP_MIN_S:
            raise ValueError(f"a loop lasts at least {LOOP_MIN_S} s, got {self.start_s}..{self.end_s}")
        if not isinstance(self.enabled, bool):
            raise ValueError("enabled must be true or false")

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s

    def to_json(self) -> dict[str, Any]:
        return {"start_s": self.start_s, "end_s": self.end_s, "enabled": self.enabled}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> LoopRegion:
        return cls(start_s=_number(data["start_s"]), end_s=_number(data["end_s"]), enabled=data.get("enabled", True))


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"a number was expected, got {value!r}")
    return float(value)


def _semitones(value: Any) -> int:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"transpose must be a whole number of semitones, got {value!r}")
    return value


@dataclass(frozen=True)
class MixSettings:
    """The whole mixer: master gain, one :class:`StemMix` per stem kind, tempo, key and loop."""

    master_gain_db: float = 0.0
    stems: Mapping[str, StemMix] = field(default_factory=dict)
    tempo: float = 1.0
    transpose: int = 0
    loop: LoopRegion | None = None

    def __post_init__(self) -> None:
        _check_range("master_gain_db", self.master_gain_db, GAIN_DB_MIN, GAIN_DB_MAX)
        _check_range("tempo", self.tempo, TEMPO_MIN, TEMPO_MAX)
        if isinstance(self.transpose, bool) or not isinstance(self.transpose, int):
            raise ValueError(f"transpose must be a whole number of semitones, got {self.transpose!r}")
        _check_range("transpose", self.transpose, TRANSPOSE_MIN, TRANSPOSE_MAX)
        if self.loop is not None and not isinstance(self.loop, LoopRegion):
            raise ValueError("loop must be a LoopRegion or None")

    @property
    def pitch_ratio(self) -> float:
        """The factor every frequency is multiplied by: 2^(transpose/12)."""
        return 2.0 ** (self.transpose / 12)

    @property
    def changes_time_or_pitch(self) -> bool:
        return self.tempo != 1.0 or self.transpose != 0

    def audible(self) -> list[str]:
        """The stems heard: with any solo, the soloed ones not muted; else all not muted."""
        if any(m.solo for m in self.stems.values()):
            return [k for k, m in self.stems.items() if m.solo and not m.mute]
        return [k for k, m in self.stems.items() if not m.mute]

    def for_kinds(self, kinds: Iterable[str]) -> MixSettings:
        """Exactly one strip per kind in ``kinds`` (in that order); kinds not given are at rest."""
        return replace(self, stems={kind: self.stems.get(kind, StemMix()) for kind in kinds})

    def to_json(self) -> dict[str, Any]:
        return {
            "master_gain_db": self.master_gain_db,
            "stems": {k: asdict(m) for k, m in self.stems.items()},
            "tempo": self.tempo,
            "transpose": self.transpose,
            "loop": self.loop.to_json() if self.loop is not None else None,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> MixSettings:
        """Read what :meth:`to_json` wrote; missing tempo, transpose and loop are 1.0, 0 and none.

        Raises ``ValueError`` (or ``TypeError``, ``KeyError`` for a malformed document) on
        anything :meth:`to_json` could not have written.
        """
        loop = data.get("loop")
        return cls(
            master_gain_db=_number(data.get("master_gain_db", 0.0)),
            stems={kind: StemMix(**strip) for kind, strip in (data.get("stems") or {}).items()},
            tempo=_number(data.get("tempo", 1.0)),
            transpose=_semitones(data.get("transpose", 0)),
            loop=LoopRegion.from_json(loop) if loop is not None else None,
        )


def mixer_ranges() -> dict[str, Any]:
    """The ranges as the page's mixer reads them (``data-mixer-ranges``)."""
    return {
        "gain_db": {"min": GAIN_DB_MIN, "max": GAIN_DB_MAX, "step": GAIN_DB_STEP},
        "pan": {"min": PAN_MIN, "max": PAN_MAX, "step": PAN_STEP},
        "peaks_per_second": PEAKS_PER_SECOND,
        "tempo": {"min": TEMPO_MIN, "max": TEMPO_MAX, "step": TEMPO_STEP},
        "transpose": {"min": TRANSPOSE_MIN, "max": TRANSPOSE_MAX, "step": TRANSPOSE_STEP},
        "loop_min_s": LOOP_MIN_S,
        "mp3_bitrates": list(EXPORT_MP3_BITRATES),
        "mp3_bitrate_default": EXPORT_MP3_BITRATE_DEFAULT,
    }


# ---------------------------------------------------------------- file names

#: The longest slug of a song's name in a file name (the rest of the name is short).
SLUG_MAX = 80


def filename_slug(name: str) -> str:
    """The song's name as an ASCII file-name part: ``"Canção do Mar!"`` → ``"cancao-do-mar"``.

    As Django's ``slugify`` (accents folded, anything else not a letter, digit, ``_`` or ``-``
    dropped), at most :data:`SLUG_MAX` characters; ``"song"`` when nothing is left.
    """
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"[^\w\s-]", "", text.lower())
    slug = re.sub(r"[-\s]+", "-", text).strip("-_")
    if len(slug) > SLUG_MAX:
        slug = slug[:SLUG_MAX].rstrip("-_")
    return slug or "song"


def stem_filename(*, project_name: str, kind: str, ext: str) -> str:
    """A stem's download name: ``"cancao-do-mar-vocals.flac"``."""
    return f"{filename_slug(project_name)}-{kind}.{ext}"


def _ordered(kinds: Iterable[str]) -> list[str]:
    known = {k: i for i, k in enumerate(_NAME_ORDER)}
    return sorted(kinds, key=lambda k: (known.get(k, len(known)), k))


def _joined(kinds: list[str]) -> str:
    return "-".join(kinds[:-1]) + "-and-" + kinds[-1]


def heard_label(settings: MixSettings) -> str:
    """What an export of ``settings`` holds, in a file name's words.

    ``settings.stems`` names every stem of the song (as the services store it):
    all heard → ``mix``; all but the vocals → ``instrumental``; the vocals alone →
    ``vocals``; nothing → ``silence``; one other stem → its kind; all but one (not the
    vocals) → ``without-drums``; else the kinds heard, ``drums-and-bass``.
    """
    every = _ordered(settings.stems)
    heard = _ordered(settings.audible())
    missing = [k for k in every if k not in heard]
    if not heard:
        return "silence"
    if not missing:
        return "mix"
    if missing == ["vocals"]:
        return "instrumental"
    if len(heard) == 1:
        return heard[0]
    if len(missing) == 1:
        return f"without-{missing[0]}"
    return _joined(heard)


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}m{secs:02d}s"


def export_basename(*, project_name: str, settings: MixSettings, region: str) -> str:
    """The export's file name without its extension: song, what is heard, then what was changed.

    ``my-song-instrumental``, ``my-song-drums-and-bass-tempo80-key-2``,
    ``my-song-mix-loop-0m12s-0m20s`` (``region == "loop"``: the region's whole seconds,
    start rounded down and end up). ASCII only.
    """
    parts = [filename_slug(project_name), heard_label(settings)]
    if settings.tempo != 1.0:
        parts.append(f"tempo{round(settings.tempo * 100)}")
    if settings.transpose:
        parts.append(f"key{settings.transpose:+d}")
    if region == "loop" and settings.loop is not None:
        end = math.ceil(settings.loop.end_s - 1e-6)
        parts.append(f"loop-{_clock(math.floor(settings.loop.start_s))}-{_clock(end)}")
    return "-".join(parts)
