"""Demucs on a CUDA GPU (``ISOMIX_TORCH_DEVICE=cuda``), timed as the speed row times it on the CPU.

Run only where ``torch.cuda.is_available()``; elsewhere one info row says it was skipped. The
model is the released htdemucs where its weights are on disk, else the same architecture with
random weights (:class:`bench.baselines.RandomWeightsDemucsEngine`, as the speed row's CPU
baseline): the compute is the same, the stems are not. The figure is the separation job on the
3-min song, through the same path as the speed row (decode → stems → previews, peaks), after one
short warm-up separation (a GPU worker has initialised CUDA and loaded the model before its
first job); the offline engine on the CPU runs the same path as its baseline.
"""

from __future__ import annotations

from bench.run.studio import bench_user, project_from_file, separate_timed, song_file
from bench.run.table import Row

SONG_S = 180.0
WARM_UP_S = 10.0
SR = 44100
WHAT = "Separation job with htdemucs on a CUDA GPU, 3-min song"


def bench_demucs_gpu(rows: list[Row]) -> None:
    try:
        import torch
    except ImportError:
        torch = None
    if torch is None or not torch.cuda.is_available():
        rows.append(Row(WHAT, "skipped: no CUDA GPU", "info", "torch.cuda.is_available() is false", None))
        return
    from unittest import mock

    import numpy as np
    from django.conf import settings

    from bench.baselines import RandomWeightsDemucsEngine
    from model.engines import get_engine
    from model.engines.demucs_engine import demucs_weights_available

    model_dir = settings.ISOMIX_DEMUCS_MODEL_DIR
    if demucs_weights_available("htdemucs", model_dir=model_dir):
        engine = get_engine("htdemucs", model_dir=model_dir, device="cuda")
    else:
        engine = RandomWeightsDemucsEngine("htdemucs", device="cuda")
    warm_up = np.random.default_rng(0).standard_normal((2, int(WARM_UP_S * SR))).astype(np.float32) * 0.1
    engine.separate(warm_up, sr=SR)

    song = song_file(SONG_S)
    # An owner of its own: the speed row's owner already has this song's htdemucs stems, which
    # the job would share instead of separating.
    owner = bench_user("bench-gpu")
    with mock.patch("model.engines.get_engine", return_value=engine):
        gpu = separate_timed(project_from_file(song, owner))
    cpu = separate_timed(project_from_file(song, owner))
    rows.append(
        Row(
            f"{WHAT} ({engine.model_name}, {torch.cuda.get_device_name(0)})",
            f"{gpu:.1f} s = {SONG_S / gpu:.1f}× real time",
            "info",
            f"offline engine (CPU), same path: {cpu:.1f} s = {SONG_S / cpu:.1f}× real time",
            None,
        )
    )
