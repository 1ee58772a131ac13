"""The benchmarks' baselines: the HPSS split and the random-weights htdemucs engine."""

from __future__ import annotations

import numpy as np
import pytest

from bench.baselines import RandomWeightsDemucsEngine, hpss_baseline
from tests.model.signals import SR, band_energy, chord, click_train, projection, sine, stereo


def test_hpss_baseline_gives_four_stems_that_sum_to_the_mixture() -> None:
    n = 6 * SR
    parts = {
        "drums": click_train(sr=SR, n=n),
        "bass": sine(55.0, sr=SR, n=n, amp=0.3),
        "other": chord(sr=SR, n=n),
    }
    mix = stereo(parts["drums"] + parts["bass"] + parts["other"])

    stems = hpss_baseline(mix, sr=SR)

    assert set(stems) == {"vocals", "drums", "bass", "other"}
    np.testing.assert_allclose(sum(stems.values()), mix, atol=1e-5)
    assert projection(stems["drums"], stereo(parts["drums"])) > 0.8
    total = band_energy(mix, sr=SR, lo_hz=53, hi_hz=57)
    assert band_energy(stems["bass"], sr=SR, lo_hz=53, hi_hz=57) / total > 0.9


def test_random_weights_engine_builds_the_htdemucs_architecture() -> None:
    pytest.importorskip("demucs")
    engine = RandomWeightsDemucsEngine("htdemucs")

    model = engine.load()
    assert engine.model_name == "htdemucs (random weights)"
    assert list(model.sources) == ["drums", "bass", "other", "vocals"]
    assert 41e6 < sum(p.numel() for p in model.parameters()) < 43e6
