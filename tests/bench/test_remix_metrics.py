"""The remix rows' scores (bench.remix.metrics) on generated signals whose answers are known."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bench.remix.metrics import (
    PITCH_RANGES_HZ,
    envelope_correlation,
    onset_f1,
    onsets_s,
    pitch_errors,
    share_within,
)
from model.pipelines.remix.pitch import pitch_track

ONSET_SR = 22050  # librosa's default rate, at which its onset defaults are tuned
PITCH_SR = 16000
ENVELOPE_SR = 8000


def _hits(times_s: np.ndarray, *, duration_s: float = 4.5) -> np.ndarray:
    """A 1 kHz ping (10 ms decay, 50 ms long) at each of ``times_s``, at :data:`ONSET_SR`."""
    n = int(0.05 * ONSET_SR)
    ping = np.sin(2 * np.pi * 1000 * np.arange(n) / ONSET_SR) * np.exp(-np.arange(n) / (0.01 * ONSET_SR))
    out = np.zeros(int(duration_s * ONSET_SR), dtype=np.float32)
    for t in times_s:
        i = round(t * ONSET_SR)
        out[i : i + n] += 0.5 * ping
    return out


def _tone(f0_hz: float, *, start_s: float = 0.2, stop_s: float = 0.8, duration_s: float = 1.0) -> np.ndarray:
    """A sine at ``f0_hz`` sounding from ``start_s`` to ``stop_s``, silence around it, at :data:`PITCH_SR`."""
    t = np.arange(int(duration_s * PITCH_SR)) / PITCH_SR
    return np.where((t >= start_s) & (t < stop_s), 0.5 * np.sin(2 * np.pi * f0_hz * t), 0.0).astype(np.float32)


def _blocks(amplitudes: list[float]) -> np.ndarray:
    """50 ms blocks of a 100 Hz sine (five whole periods each) at the given amplitudes, so that
    block ``i``'s RMS is exactly ``amplitudes[i] / sqrt(2)``."""
    block = round(0.05 * ENVELOPE_SR)
    t = np.arange(block * len(amplitudes)) / ENVELOPE_SR
    return (np.repeat(amplitudes, block) * np.sin(2 * np.pi * 100 * t)).astype(np.float32)


# ------------------------------------------------------------------ onsets


# Eight hits every 0.5 s from 0.5 s.
HITS_S = np.arange(1, 9) * 0.5


def test_onsets_are_librosas_one_per_hit_just_after_it():
    # given eight well separated pings
    # when
    found = onsets_s(_hits(HITS_S), sr=ONSET_SR)

    # then one onset per ping, within a frame (23 ms) after it
    assert found.shape == (8,)
    assert np.all((found >= HITS_S) & (found - HITS_S < 0.03))


def test_onset_f1_counts_the_hits_within_50_ms_and_nothing_else():
    # given a re-voicing with six hits 10 ms late, the seventh missing, the eighth 200 ms late
    # and one hit where the original has none (2.25 s)
    revoiced = _hits(np.concatenate([HITS_S[:6] + 0.01, [HITS_S[7] + 0.2, 2.25]]))

    # when
    score = onset_f1(original=_hits(HITS_S), revoiced=revoiced, sr=ONSET_SR)

    # then six matches of eight onsets each side: precision 6/8, recall 6/8
    assert score == pytest.approx(0.75, abs=1e-12)


def test_onset_f1_is_one_for_the_original_itself_and_zero_for_silence():
    original = _hits(HITS_S)

    assert onset_f1(original=original, revoiced=original.copy(), sr=ONSET_SR) == 1.0
    assert onset_f1(original=original, revoiced=np.zeros_like(original), sr=ONSET_SR) == 0.0


def test_onset_f1_downmixes_a_stereo_stem():
    # given the original as two equal channels
    mono = _hits(HITS_S)

    # when / then it scores as its mono self
    assert onset_f1(original=np.stack([mono, mono]), revoiced=mono, sr=ONSET_SR) == 1.0


# ------------------------------------------------------------------ pitch


def test_a_re_voicing_50_cents_sharp_is_50_cents_off_on_every_frame():
    # given a 220 Hz tone and its re-voicing a quarter tone higher
    original = _tone(220.0)
    revoiced = _tone(220.0 * 2 ** (50 / 1200))

    # when
    errors = pitch_errors(original=original, revoiced=revoiced, sr=PITCH_SR, kind="bass")

    # then every scored frame is about 50 cents off (frames near the tone's edges a few more,
    # their windows half in the silence)
    assert np.median(errors) == pytest.approx(50.0, abs=0.2)
    assert share_within(errors, 60.0) == 1.0
    assert share_within(errors, 45.0) == 0.0


def test_the_original_itself_is_zero_cents_off():
    original = _tone(220.0)

    errors = pitch_errors(original=original, revoiced=original.copy(), sr=PITCH_SR, kind="bass")

    assert errors.size > 0
    assert np.all(errors == 0.0)


def test_every_voiced_frame_is_scored_but_two_each_side_of_a_voicing_change():
    # given a tone in silence: one voiced run, so two changes of voicing
    original = _tone(220.0)
    voiced = int(pitch_track(audio=original, sr=PITCH_SR, fmin_hz=30.0, fmax_hz=500.0, hop_length=160).voiced.sum())

    # when
    every = pitch_errors(original=original, revoiced=original, sr=PITCH_SR, kind="bass", edge_s=0.0)
    inner = pitch_errors(original=original, revoiced=original, sr=PITCH_SR, kind="bass")

    # then edge_s=0 scores every voiced frame; 20 ms (2 hops) leaves out the first two and last two
    assert every.size == voiced
    assert inner.size == voiced - 4


def test_frames_where_the_re_voicing_is_unvoiced_are_infinitely_off():
    # given a re-voicing that falls silent at 0.5 s, while the original sounds to 0.8 s
    original = _tone(220.0)
    revoiced = _tone(220.0, stop_s=0.5)

    # when
    errors = pitch_errors(original=original, revoiced=revoiced, sr=PITCH_SR, kind="bass")

    # then the last ~0.3 s of the original's frames (10 ms each) are +inf, the others finite
    lost = np.isinf(errors)
    assert 26 <= lost.sum() <= 32
    assert np.all(lost[-lost.sum() :])
    assert np.all(errors[~lost] < 70.0)
    assert share_within(errors, 70.0) == pytest.approx(1 - lost.sum() / errors.size)


def test_the_stems_pitch_range_decides_what_is_scored():
    # given a 40 Hz tone: inside the bass range, under the other stem's
    original = _tone(40.0)
    assert PITCH_RANGES_HZ["bass"][0] < 40.0 < PITCH_RANGES_HZ["other"][0]

    # when / then
    assert pitch_errors(original=original, revoiced=original, sr=PITCH_SR, kind="bass").size > 0
    assert pitch_errors(original=original, revoiced=original, sr=PITCH_SR, kind="other").size == 0


def test_share_within_counts_the_errors_at_or_below_the_tolerance():
    errors = np.array([0.0, 10.0, 20.0, np.inf])

    assert share_within(errors, 10.0) == 0.5
    assert share_within(errors, 1e9) == 0.75
    assert math.isnan(share_within(np.zeros(0), 10.0))


# ------------------------------------------------------------------ envelope


def test_envelope_correlation_is_pearsons_r_of_the_block_rms():
    # given block amplitudes 1, 2, 3, 4 and 1, 3, 2, 4
    # when
    r = envelope_correlation(original=_blocks([1, 2, 3, 4]), revoiced=_blocks([1, 3, 2, 4]), sr=ENVELOPE_SR)

    # then r = sum(da * db) / sum(da^2) = (2.25 - 0.25 - 0.25 + 2.25) / 5
    assert r == pytest.approx(0.8, abs=1e-6)


def test_envelope_correlation_ignores_the_level_and_sees_a_reversal():
    original = _blocks([1, 2, 3, 4])

    quieter = envelope_correlation(original=original, revoiced=0.25 * original, sr=ENVELOPE_SR)
    reversed_ = envelope_correlation(original=original, revoiced=_blocks([4, 3, 2, 1]), sr=ENVELOPE_SR)

    assert quieter == pytest.approx(1.0)
    assert reversed_ == pytest.approx(-1.0)


def test_envelope_correlation_of_a_constant_envelope_is_nan():
    revoiced = _blocks([1, 3, 2, 4])

    assert math.isnan(envelope_correlation(original=_blocks([1, 1, 1, 1]), revoiced=revoiced, sr=ENVELOPE_SR))
    assert math.isnan(envelope_correlation(original=np.zeros_like(revoiced), revoiced=revoiced, sr=ENVELOPE_SR))


def test_envelope_correlation_downmixes_and_scores_the_common_whole_blocks():
    # given a stereo original of four blocks, a mono re-voicing with a block and a half more
    mono = _blocks([1, 2, 3, 4])
    revoiced = np.concatenate([_blocks([1, 3, 2, 4]), _blocks([9, 0])[:600]])

    # when
    r = envelope_correlation(original=np.stack([mono, mono]), revoiced=revoiced, sr=ENVELOPE_SR)

    # then only the four blocks both have count
    assert r == pytest.approx(0.8, abs=1e-6)
