"""The remix mixdown: stems summed with their gains, loudness-normalised (BS.1770), peak-limited."""

from __future__ import annotations

import numpy as np
import pytest

from model.pipelines.analysis.loudness import integrated_loudness, sample_peak_dbfs
from model.pipelines.remix.mixdown import remix_mixdown

SR = 44100


def _stems(duration_s: float = 6.0) -> dict[str, np.ndarray]:
    """A tone pad, a bass, and a click train whose clicks peak far above the rest."""
    t = np.arange(int(duration_s * SR)) / SR
    pad = 0.05 * np.sin(2 * np.pi * 440 * t) * (1 + 0.3 * np.sin(2 * np.pi * 0.5 * t))
    bass = 0.1 * np.sin(2 * np.pi * 55 * t)
    clicks = np.zeros_like(t)
    clicks[:: SR // 4] = 0.9
    clicks = np.convolve(clicks, np.exp(-np.arange(200) / 20), mode="same")
    return {
        "other": np.stack([pad, 0.8 * pad]).astype(np.float32),
        "bass": np.stack([bass, bass]).astype(np.float32),
        "drums": np.stack([clicks, clicks]).astype(np.float32),
    }


@pytest.mark.parametrize("target_lufs", [-23.0, -14.0, -10.0])
def test_the_mix_is_at_the_target_loudness_and_never_passes_the_peak(target_lufs):
    # when
    mix = remix_mixdown(stems=_stems(), gains_db={"drums": 6.0}, sr=SR, target_lufs=target_lufs, peak_dbfs=-1.0)

    # then
    assert mix.shape == (2, 6 * SR) and mix.dtype == np.float32
    assert abs(integrated_loudness(mix, sr=SR) - target_lufs) <= 0.5
    assert sample_peak_dbfs(mix) <= -1.0
    assert np.isfinite(mix).all()


def test_a_quiet_mix_with_no_peak_to_limit_is_only_scaled():
    # given: a mix that reaches -23 LUFS far under the ceiling
    stems = {"bass": _stems()["bass"]}

    # when
    mix = remix_mixdown(stems=stems, gains_db={}, sr=SR, target_lufs=-23.0)

    # then: one gain for every sample
    ratio = mix[:, 1000:-1000] / stems["bass"][:, 1000:-1000]
    assert np.allclose(ratio, ratio[0, 0], rtol=1e-5)


def test_gains_are_applied_before_the_mix():
    # given: the same stem twice, one 60 dB down, against it once
    stem = _stems()["other"]

    # when
    both = remix_mixdown(stems={"a": stem, "b": stem}, gains_db={"b": -60.0}, sr=SR, target_lufs=-20.0)
    alone = remix_mixdown(stems={"a": stem}, gains_db={}, sr=SR, target_lufs=-20.0)

    # then
    assert np.allclose(both, alone, atol=1e-4)


def test_the_limiter_keeps_the_signal_between_the_peaks():
    # given: the click train makes the peaks; far from a click the mix must be left as it is
    mix = remix_mixdown(stems=_stems(), gains_db={"drums": 12.0}, sr=SR, target_lufs=-14.0, peak_dbfs=-1.0)
    loose = remix_mixdown(stems=_stems(), gains_db={"drums": 12.0}, sr=SR, target_lufs=-14.0, peak_dbfs=0.0)

    # then: both limited, and mid-way between two clicks the two mixes differ by one gain only
    assert sample_peak_dbfs(mix) <= -1.0 and sample_peak_dbfs(loose) <= 0.0
    between = slice(SR // 8 - 500, SR // 8 + 500)
    ratio = mix[:, between] / loose[:, between]
    assert np.allclose(ratio, ratio[0, 0], rtol=1e-3)


def test_silent_stems_give_silence():
    stems = {"drums": np.zeros((2, SR), dtype=np.float32), "bass": np.zeros((2, SR), dtype=np.float32)}

    mix = remix_mixdown(stems=stems, gains_db={"bass": 3.0}, sr=SR)

    assert mix.shape == (2, SR)
    assert np.isfinite(mix).all()
    assert not mix.any()


def test_the_stems_given_are_not_changed():
    stems = _stems()
    copies = {name: stem.copy() for name, stem in stems.items()}

    remix_mixdown(stems=stems, gains_db={"drums": 6.0}, sr=SR)

    assert all(np.array_equal(stems[name], copies[name]) for name in stems)


@pytest.mark.parametrize(
    ("stems", "gains_db", "message"),
    [
        ({}, {}, "no stems"),
        ({"a": np.zeros((2, 10), np.float32), "b": np.zeros((2, 11), np.float32)}, {}, "shape"),
        ({"a": np.zeros((1, 10), np.float32)}, {}, "shape"),
        ({"a": np.full((2, 10), np.nan, np.float32)}, {}, "NaN"),
        ({"a": np.zeros((2, 10), np.float32)}, {"b": 0.0}, "not given"),
        ({"a": np.zeros((2, 10), np.float32)}, {"a": float("inf")}, "finite"),
    ],
)
def test_bad_stems_or_gains_are_refused(stems, gains_db, message):
    with pytest.raises(ValueError, match=message):
        remix_mixdown(stems=stems, gains_db=gains_db, sr=SR)
