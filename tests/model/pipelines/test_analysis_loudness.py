"""Integrated loudness (ITU-R BS.1770-4) and sample peak, against values the standard fixes."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import sosfilt, sosfreqz

from model.pipelines.analysis import analyse
from model.pipelines.analysis.loudness import integrated_loudness, k_weighting, sample_peak_dbfs


def _sine(freq_hz: float, *, dbfs: float, duration_s: float, sr: int, channels: int = 2) -> np.ndarray:
    t = np.arange(int(duration_s * sr)) / sr
    y = 10 ** (dbfs / 20) * np.sin(2 * np.pi * freq_hz * t)
    return np.tile(y, (channels, 1)).astype(np.float32)


def _expected_lufs(freq_hz: float, *, dbfs: float, sr: int, channels: int) -> float:
    """BS.1770 for a steady sine: -0.691 + 10 log10(sum over channels of the K-weighted mean
    square), the mean square of a sine being half its peak squared."""
    _, response = sosfreqz(k_weighting(sr), worN=[2 * np.pi * freq_hz / sr])
    mean_square = 0.5 * 10 ** (dbfs / 10) * abs(response[0]) ** 2
    return -0.691 + 10 * np.log10(channels * mean_square)


def test_the_k_weighting_at_48_khz_is_the_standards_table():
    # when
    sos = k_weighting(48000)

    # then: BS.1770-4 Tables 1 and 2
    np.testing.assert_allclose(
        sos,
        [
            [1.53512485958697, -2.69169618940638, 1.19839281085285, 1.0, -1.69065929318241, 0.73248077421585],
            [1.0, -2.0, 1.0, 1.0, -1.99004745483398, 0.99007225036621],
        ],
        atol=1e-10,
    )


def test_a_full_scale_997_hz_sine_in_one_channel_reads_minus_3_01_lufs():
    # given: 0 dBFS, one channel (the standard's calibration signal)
    mono = _sine(997, dbfs=0.0, duration_s=10, sr=48000, channels=1)

    # when
    loudness = integrated_loudness(mono, sr=48000)

    # then
    assert loudness == pytest.approx(-3.01, abs=0.1)
    assert loudness == pytest.approx(_expected_lufs(997, dbfs=0.0, sr=48000, channels=1), abs=0.01)


@pytest.mark.parametrize("sr", [22050, 44100, 48000, 96000])
def test_a_minus_23_dbfs_stereo_sine_reads_minus_23_lufs_at_any_rate(sr):
    # given: EBU Tech 3341 case 1, 1 kHz at -23 dBFS in both channels
    stereo = _sine(1000, dbfs=-23.0, duration_s=20, sr=sr)

    # when
    loudness = integrated_loudness(stereo, sr=sr)

    # then
    assert loudness == pytest.approx(-23.0, abs=0.1)
    assert loudness == pytest.approx(_expected_lufs(1000, dbfs=-23.0, sr=sr, channels=2), abs=0.01)


def test_a_minus_20_dbfs_stereo_sine_reads_minus_20_lufs():
    # given: -20 dBFS in both channels (the two channels' powers add: +3 dB over one)
    stereo = _sine(1000, dbfs=-20.0, duration_s=10, sr=44100)

    # when / then
    assert integrated_loudness(stereo, sr=44100) == pytest.approx(-20.0, abs=0.1)


def test_silence_inside_a_tone_is_gated_out():
    # given: a tone, and the same tone with 20 s of silence in the middle
    tone = _sine(1000, dbfs=-18.0, duration_s=20, sr=44100)
    gap = np.zeros((2, 20 * 44100), dtype=np.float32)
    with_gap = np.concatenate([tone[:, : 10 * 44100], gap, tone[:, 10 * 44100 :]], axis=1)

    # when
    alone, gapped = integrated_loudness(tone, sr=44100), integrated_loudness(with_gap, sr=44100)

    # then: the absolute gate drops the silent blocks (within the two blocks that straddle
    # each edge)
    assert gapped == pytest.approx(alone, abs=0.1)


def test_a_quiet_passage_20_lu_down_is_gated_out_by_the_relative_gate():
    # given: 20 s at -20 dBFS, then 20 s at -40 dBFS
    loud = _sine(1000, dbfs=-20.0, duration_s=20, sr=44100)
    quiet = _sine(1000, dbfs=-40.0, duration_s=20, sr=44100)

    # when
    loudness = integrated_loudness(np.concatenate([loud, quiet], axis=1), sr=44100)

    # then: the quiet blocks are more than 10 LU under the loud ones, so only those count
    assert loudness == pytest.approx(-20.0, abs=0.1)


def test_the_compiled_filter_matches_scipys_sosfilt():
    # given: two channels of noise, filtered here and by scipy
    sr = 44100
    noise = np.random.default_rng(3).standard_normal((2, 12 * sr)).astype(np.float32) * 0.1
    filtered = sosfilt(k_weighting(sr), noise.astype(np.float64), axis=-1)
    step = sr // 10
    blocks = (filtered[:, : (filtered.shape[1] // step) * step] ** 2).reshape(2, -1, step).mean(axis=-1).sum(axis=0)
    block_power = np.convolve(blocks, np.ones(4) / 4, mode="valid")
    expected = -0.691 + 10 * np.log10(block_power.mean())  # steady noise: every block passes

    # when
    loudness = integrated_loudness(noise, sr=sr)

    # then
    assert loudness == pytest.approx(expected, abs=1e-6)


def test_surround_channels_weigh_1_41():
    # given: the same tone in channels 1-5 (L, R, C, Ls, Rs)
    five = _sine(1000, dbfs=-30.0, duration_s=5, sr=48000, channels=5)

    # when
    loudness = integrated_loudness(five, sr=48000)

    # then: three channels at weight 1, two at 1.41
    one = _expected_lufs(1000, dbfs=-30.0, sr=48000, channels=1)
    assert loudness == pytest.approx(one + 10 * np.log10(3 + 2 * 1.41), abs=0.01)


def test_digital_silence_reads_the_floors():
    # given
    silence = np.zeros((2, 48000), dtype=np.float32)

    # when / then
    assert integrated_loudness(silence, sr=48000) == -70.0
    assert sample_peak_dbfs(silence) == -120.0


def test_the_peak_is_the_largest_sample_of_either_sign():
    # given: a -6.02 dBFS sine and one negative sample at -0.9
    audio = _sine(440, dbfs=-6.0206, duration_s=1, sr=48000)
    audio[1, 1000] = -0.9

    # when / then
    assert sample_peak_dbfs(audio) == pytest.approx(20 * np.log10(0.9), abs=1e-6)
    assert sample_peak_dbfs(audio[:1]) == pytest.approx(-6.0206, abs=0.01)


def test_the_analysis_reports_the_mixs_loudness_and_peak():
    # given: a 1 kHz stereo sine at -23 dBFS, 10 s
    stereo = _sine(1000, dbfs=-23.0, duration_s=10, sr=44100)

    # when
    result = analyse(mix=stereo, sr=44100)

    # then
    assert result.loudness_lufs == pytest.approx(-23.0, abs=0.1)
    assert result.peak_dbfs == pytest.approx(-23.0, abs=0.01)
