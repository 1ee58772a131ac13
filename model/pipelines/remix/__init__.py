"""Granular remix: re-voice a song's stems with grains cut from the user's own sounds.

A style sound becomes a :class:`GrainLibrary` (:func:`grain_library_build`: split by silence,
one descriptor pass over the whole sound); a stem is re-played note for note with grains of a
library (:func:`remix_stem`), and the re-voiced stems are summed and loudness-normalised
(:func:`remix_mixdown`). Pure functions over arrays: no Django, no models to load.

- :mod:`~model.pipelines.remix.pitch`: :func:`pitch_track`, a vectorised YIN tracker with its
  own smoothing (the stems' pitch contours and the grains' f0);
- :mod:`~model.pipelines.remix.grains`: :class:`GrainParams`, :class:`GrainLibrary` (stored as
  an ``.npz``, never pickled), :func:`grain_library_build`, :class:`NoGrains`;
- :mod:`~model.pipelines.remix.settings`: :class:`RemixSettings`, the request's settings block,
  strictly parsed;
- :mod:`~model.pipelines.remix.synth`: :func:`remix_stem`, the granular synthesis;
- :mod:`~model.pipelines.remix.mixdown`: :func:`remix_mixdown`.
"""

from __future__ import annotations

from model.pipelines.remix.grains import (
    LIBRARY_SR,
    MAX_GRAINS,
    GrainLibrary,
    GrainParams,
    NoGrains,
    grain_library_build,
)
from model.pipelines.remix.mixdown import remix_mixdown
from model.pipelines.remix.pitch import PitchParams, PitchTrack, pitch_track
from model.pipelines.remix.settings import RANGES, RemixSettings, SettingsError
from model.pipelines.remix.synth import remix_stem

__all__ = [
    "LIBRARY_SR",
    "MAX_GRAINS",
    "RANGES",
    "GrainLibrary",
    "GrainParams",
    "NoGrains",
    "PitchParams",
    "PitchTrack",
    "RemixSettings",
    "SettingsError",
    "grain_library_build",
    "pitch_track",
    "remix_mixdown",
    "remix_stem",
]
