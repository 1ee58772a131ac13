"""The remix benchmark's material: generated style sounds, the seed's algorithm, scores, long stems.

- :mod:`bench.remix.styles`: style sounds whose hits and pitches are known (a drum kit, a plucked
  bass, a sung-like tone), like the sample packs users upload;
- :mod:`bench.remix.seed`: the seed's re-synthesis (one untransposed grain per onset, linear
  decay), the baseline;
- :mod:`bench.remix.metrics`: onset F-measure, pitch error, envelope correlation;
- :mod:`bench.remix.probe`: a 10-min remix in a fresh process, for the memory row.

The songs are the separation benchmark's (:mod:`bench.multitrack`), whose true stems are the
"original stems" here; :func:`long_stems` loops one into a stem of any length.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from bench.remix.seed import seed_remix
from bench.remix.styles import style_sounds

if TYPE_CHECKING:
    from model.pipelines.remix.grains import GrainLibrary

__all__ = ["REVOICED", "libraries", "long_stems", "seed_remix", "style_sounds"]

#: The stems a remix re-voices, each with the style sound of the same name.
REVOICED = ("drums", "bass", "other")


def libraries() -> dict[str, GrainLibrary]:
    """The grain library of each generated style sound, by stem."""
    from model.pipelines.remix.grains import LIBRARY_SR, grain_library_build

    return {
        stem: grain_library_build(audio=sound, sr=LIBRARY_SR) for stem, sound in style_sounds(sr=LIBRARY_SR).items()
    }


def long_stems(
    folder: Path, *, duration_s: float, stems: tuple[str, ...] = ("vocals", *REVOICED)
) -> dict[str, np.ndarray]:
    """The stems of a rendered song (:func:`bench.multitrack.load_song`) looped to ``duration_s``,
    (2, n) float32 each: real material, at the length a speed or memory row needs."""
    import soundfile as sf

    out = {}
    for stem in stems:
        audio = sf.read(Path(folder) / f"{stem}.wav", dtype="float32", always_2d=True)[0].T
        n = int(round(duration_s * 44100))
        out[stem] = np.ascontiguousarray(np.tile(audio, (1, -(-n // audio.shape[1])))[:, :n])
        del audio
    return out
