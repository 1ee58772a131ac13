from __future__ import annotations

import numpy as np
import pytest

from bench.metrics import median_sdr, sdr_framewise, sdr_global

SR = 8000


def _noise_at_snr(reference: np.ndarray, snr_db: float, rng: np.random.Generator) -> np.ndarray:
    """Noise scaled so that its energy is the reference's divided by 10^(snr/10)."""
    noise = rng.standard_normal(reference.shape)
    return noise * np.sqrt(np.sum(reference**2) / np.sum(noise**2) / 10 ** (snr_db / 10))


def test_noise_at_a_known_snr_gives_that_sdr_in_every_frame():
    # given a stationary stereo reference and an estimate with noise at 12 dB SNR
    sr = 44100  # a full-rate second keeps each frame's noise energy within 0.1 dB of its mean
    rng = np.random.default_rng(0)
    reference = rng.standard_normal((2, 10 * sr))
    estimate = reference + _noise_at_snr(reference, 12.0, rng)

    # when
    frames = sdr_framewise(reference=reference, estimate=estimate, sr=sr)

    # then
    assert frames.shape == (10,)
    assert np.all(np.abs(frames - 12.0) < 0.1)
    assert abs(median_sdr(reference=reference, estimate=estimate, sr=sr) - 12.0) < 0.1
    assert abs(sdr_global(reference=reference, estimate=estimate) - 12.0) < 0.1


def test_each_frame_is_scored_on_its_own_samples():
    # given noise scaled frame by frame to SNRs of 0, 5, 10, 15 and 20 dB
    rng = np.random.default_rng(1)
    reference = rng.standard_normal((2, 5 * SR)) * np.repeat([0.1, 1.0, 3.0, 0.5, 2.0], SR)
    snrs = [0.0, 5.0, 10.0, 15.0, 20.0]
    estimate = reference.copy()
    for t, snr in enumerate(snrs):
        frame = slice(t * SR, (t + 1) * SR)
        estimate[:, frame] += _noise_at_snr(reference[:, frame], snr, rng)

    # when
    frames = sdr_framewise(reference=reference, estimate=estimate, sr=SR)

    # then
    np.testing.assert_allclose(frames, snrs, atol=1e-9)
    assert median_sdr(reference=reference, estimate=estimate, sr=SR) == pytest.approx(10.0)


def test_silent_reference_frames_are_skipped():
    # given a reference that is digitally silent in frames 1 and 3
    rng = np.random.default_rng(2)
    reference = rng.standard_normal((2, 5 * SR))
    reference[:, SR : 2 * SR] = 0
    reference[:, 3 * SR : 4 * SR] = 0
    estimate = reference + _noise_at_snr(reference, 6.0, rng)
    estimate[:, SR : 2 * SR] = 0.01 * rng.standard_normal((2, SR))  # bleed in a silent frame
    estimate[:, 3 * SR : 4 * SR] = 0.01 * rng.standard_normal((2, SR))

    # when
    frames = sdr_framewise(reference=reference, estimate=estimate, sr=SR)

    # then the silent frames are NaN and left out of the median
    assert np.isnan(frames[[1, 3]]).all()
    assert np.isfinite(frames[[0, 2, 4]]).all()
    assert median_sdr(reference=reference, estimate=estimate, sr=SR) == pytest.approx(
        float(np.median(frames[[0, 2, 4]]))
    )


def test_silent_estimate_frames_are_skipped_as_museval_does():
    rng = np.random.default_rng(3)
    reference = rng.standard_normal((2, 3 * SR))
    estimate = reference.copy() * 0.5
    estimate[:, SR : 2 * SR] = 0

    frames = sdr_framewise(reference=reference, estimate=estimate, sr=SR)

    assert np.isnan(frames[1])
    np.testing.assert_allclose(frames[[0, 2]], 10 * np.log10(4.0))


def test_all_silent_reference_has_nan_median():
    reference = np.zeros((2, 3 * SR))
    estimate = np.ones((2, 3 * SR))

    assert np.isnan(sdr_framewise(reference=reference, estimate=estimate, sr=SR)).all()
    assert np.isnan(median_sdr(reference=reference, estimate=estimate, sr=SR))


def test_exact_estimate_scores_infinity():
    reference = np.random.default_rng(4).standard_normal((2, 2 * SR))

    frames = sdr_framewise(reference=reference, estimate=reference.copy(), sr=SR)

    assert np.isposinf(frames).all()


def test_trailing_partial_frame_is_dropped_and_frame_length_is_respected():
    reference = np.random.default_rng(5).standard_normal((2, int(3.5 * SR)))
    estimate = reference * 0.9

    assert sdr_framewise(reference=reference, estimate=estimate, sr=SR).shape == (3,)
    assert sdr_framewise(reference=reference, estimate=estimate, sr=SR, frame_s=0.5).shape == (7,)
    # a signal shorter than a frame is one frame
    assert sdr_framewise(reference=reference[:, :100], estimate=estimate[:, :100], sr=SR).shape == (1,)


def test_estimate_is_padded_or_cut_to_the_reference_length():
    rng = np.random.default_rng(6)
    reference = rng.standard_normal((2, 2 * SR))
    estimate = reference * 0.5

    longer = np.concatenate([estimate, rng.standard_normal((2, 500))], axis=1)
    shorter = estimate[:, : SR + SR // 2]

    np.testing.assert_allclose(
        sdr_framewise(reference=reference, estimate=longer, sr=SR),
        sdr_framewise(reference=reference, estimate=estimate, sr=SR),
    )
    # the missing half of frame 1 counts as error: the error energy there is
    # 0.25 E/2 + E/2 against a signal energy E
    frame_1 = sdr_framewise(reference=reference, estimate=shorter, sr=SR)[1]
    first_half = np.sum(reference[:, SR : SR + SR // 2] ** 2)
    second_half = np.sum(reference[:, SR + SR // 2 :] ** 2)
    expected = 10 * np.log10((first_half + second_half) / (0.25 * first_half + second_half))
    assert frame_1 == pytest.approx(expected)


def test_mono_and_float32_inputs_are_accepted():
    rng = np.random.default_rng(7)
    reference = rng.standard_normal(10 * SR).astype(np.float32)
    estimate = (reference + _noise_at_snr(reference, 3.0, rng)).astype(np.float32)

    frames = sdr_framewise(reference=reference, estimate=estimate, sr=SR)

    assert frames.dtype == np.float64
    assert abs(median_sdr(reference=reference, estimate=estimate, sr=SR) - 3.0) < 0.1


@pytest.mark.parametrize(
    ("reference", "estimate"),
    [
        (np.ones((2, 100)), np.ones((1, 100))),
        (np.ones((2, 100)), np.ones(100)),
        (np.ones((2, 2, 100)), np.ones((2, 2, 100))),
        (np.ones((2, 0)), np.ones((2, 0))),
    ],
)
def test_mismatched_or_empty_inputs_are_refused(reference, estimate):
    with pytest.raises(ValueError):
        sdr_framewise(reference=reference, estimate=estimate, sr=SR)


def test_non_positive_rate_or_frame_is_refused():
    signal = np.ones((2, 100))
    with pytest.raises(ValueError):
        sdr_framewise(reference=signal, estimate=signal, sr=0)
    with pytest.raises(ValueError):
        sdr_framewise(reference=signal, estimate=signal, sr=SR, frame_s=0.0)
