"""Stem split: accompaniment -> drums, bass, other.

The bundled offline separator gets vocals and accompaniment from the Spleeter
network (:mod:`model.pipelines.spleeter_net`); this package splits the
accompaniment further (DSP masks corrected by a small mask network, or the DSP
alone), and holds the chunker the engines share:

- :mod:`~model.pipelines.separation.stft`: the STFT primitives (a centred Hann
  STFT and its overlap-add inverse) and the input guard;
- :mod:`~model.pipelines.separation.chunks`: :func:`process_in_chunks`, the
  crossfading chunker the engines share;
- :mod:`~model.pipelines.separation.accompaniment`: :func:`split_accompaniment`
  and its tuning, :class:`SplitParams` (the method is described there);
- :mod:`~model.pipelines.separation.net`: the mask network (bands, features,
  forward pass, checksummed weights in ``weights/``; trained by
  ``bench/accompaniment_net.py``);
- :mod:`~model.pipelines.separation.wiener`: the multichannel Wiener refinement
  the split ends with.

The benchmarks' plain HPSS baseline is :func:`bench.baselines.hpss_baseline`.
"""

from __future__ import annotations

from model.pipelines.separation.accompaniment import SplitParams, split_accompaniment
from model.pipelines.separation.chunks import process_in_chunks

__all__ = [
    "SplitParams",
    "process_in_chunks",
    "split_accompaniment",
]
