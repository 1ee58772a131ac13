"""Song analysis: tempo, beats, downbeats, meter, key and loudness.

:func:`analyse` runs after a song's stem separation; the analysis job stores its
:class:`AnalysisResult` (:meth:`AnalysisResult.to_json`) for the karaoke view and the mixer.
:func:`warm_up` compiles its numba kernels at worker start. Pure functions over arrays: no
Django, no models to load.

- :mod:`~model.pipelines.analysis.params`: :class:`AnalysisParams` (every tuning knob, with its
  unit) and :class:`AnalysisResult`;
- :mod:`~model.pipelines.analysis.features`: the features, computed once per song from one STFT
  of the drums stem (or the mix) and one of the mix at half the rate;
- :mod:`~model.pipelines.analysis.beats`: tempo, beats, meter and downbeats (the method is
  described there), with :mod:`~model.pipelines.analysis.tracking` (candidate periods, the
  beat tracker) and :mod:`~model.pipelines.analysis.grids` (judging a beat grid, its bars);
- :mod:`~model.pipelines.analysis.key`: key and confidence from the chroma;
- :mod:`~model.pipelines.analysis.loudness`: BS.1770-4 integrated loudness and sample peak;
- :mod:`~model.pipelines.analysis.pipeline`: :func:`analyse` and :func:`warm_up`.
"""

from __future__ import annotations

from model.pipelines.analysis.params import METERS, AnalysisParams, AnalysisResult
from model.pipelines.analysis.pipeline import MIN_DURATION_S, analyse, warm_up

__all__ = ["METERS", "MIN_DURATION_S", "AnalysisParams", "AnalysisResult", "analyse", "warm_up"]
