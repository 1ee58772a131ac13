"""The remix pitch tracker on generated signals whose pitch is known."""

from __future__ import annotations

import numpy as np
import pytest

from model.pipelines.remix.pitch import PitchTrack, _repair_octaves, pitch_track

SR = 44100


def _tone(f0_hz: float | np.ndarray, *, duration_s: float = 1.0, n_partials: int = 1) -> np.ndarray:
    """A harmonic tone (partial k at 1/k) following ``f0_hz`` (a constant or one per sample)."""
    n = int(duration_s * SR)
    freq = np.broadcast_to(np.asarray(f0_hz, dtype=np.float64), (n,))
    phase = 2 * np.pi * np.cumsum(freq) / SR
    tone = sum(np.sin(k * phase) / k for k in range(1, n_partials + 1))
    return (0.5 * tone / np.max(np.abs(tone))).astype(np.float32)


def _cents(estimate: np.ndarray, truth: float | np.ndarray) -> np.ndarray:
    return 1200 * np.abs(np.log2(estimate / truth))


def _steady(track: PitchTrack, *, margin_s: float = 0.05) -> np.ndarray:
    """Frames at least ``margin_s`` away from the signal's ends."""
    times = track.times_s
    return (times >= margin_s) & (times <= times[-1] - margin_s)


@pytest.mark.parametrize("f0_hz", [32.7, 55.0, 110.0, 261.63, 440.0, 1046.5, 2000.0])
def test_a_sine_is_voiced_at_its_frequency_within_10_cents(f0_hz):
    # given
    audio = _tone(f0_hz)

    # when
    track = pitch_track(audio=audio, sr=SR)

    # then
    steady = _steady(track)
    assert track.voiced[steady].all()
    assert _cents(track.f0_hz[steady], f0_hz).max() < 10


@pytest.mark.parametrize("f0_hz", [41.2, 98.0, 196.0, 622.25])
def test_a_harmonic_tone_is_read_at_its_fundamental_not_an_octave_off(f0_hz):
    # given: ten partials, the second and third nearly as loud as the first
    audio = _tone(f0_hz, n_partials=10)

    # when
    track = pitch_track(audio=audio, sr=SR)

    # then
    steady = _steady(track)
    assert track.voiced[steady].all()
    assert _cents(track.f0_hz[steady], f0_hz).max() < 10


def test_a_missing_fundamental_is_still_heard_as_the_fundamental():
    # given: partials 2..6 of 110 Hz, no 110 Hz component at all
    t = np.arange(SR) / SR
    audio = (0.1 * sum(np.sin(2 * np.pi * 110 * k * t) for k in range(2, 7))).astype(np.float32)

    # when
    track = pitch_track(audio=audio, sr=SR)

    # then
    steady = _steady(track)
    assert np.median(_cents(track.f0_hz[steady], 110.0)) < 10


def test_silence_is_unvoiced_with_no_confidence():
    # given
    audio = np.zeros(SR, dtype=np.float32)

    # when
    track = pitch_track(audio=audio, sr=SR)

    # then
    assert not track.voiced.any()
    assert np.isnan(track.f0_hz).all()
    assert (track.confidence == 0).all()


def test_white_noise_is_mostly_unvoiced():
    # given
    audio = (0.3 * np.random.default_rng(0).standard_normal(2 * SR)).astype(np.float32)

    # when
    track = pitch_track(audio=audio, sr=SR)

    # then
    assert track.voiced.mean() < 0.05


def test_a_two_octave_glide_is_followed_frame_by_frame():
    # given: an exponential glide from 110 to 440 Hz over 2 s
    n = 2 * SR
    truth = 110.0 * 4 ** (np.arange(n) / n)
    audio = _tone(truth, duration_s=2.0, n_partials=5)

    # when
    track = pitch_track(audio=audio, sr=SR)

    # then
    steady = _steady(track)
    at_frames = truth[np.minimum(np.arange(track.n_frames) * track.hop_length, n - 1)]
    assert track.voiced[steady].all()
    assert np.percentile(_cents(track.f0_hz[steady], at_frames[steady]), 95) < 15


def test_a_note_then_silence_then_a_note_an_octave_up():
    # given: 0.5 s at 220 Hz, 0.3 s of silence, 0.5 s at 440 Hz
    gap = np.zeros(int(0.3 * SR), dtype=np.float32)
    audio = np.concatenate(
        (_tone(220.0, duration_s=0.5, n_partials=4), gap, _tone(440.0, duration_s=0.5, n_partials=4))
    )

    # when
    track = pitch_track(audio=audio, sr=SR)

    # then
    times = track.times_s
    first, silent, second = (times > 0.1) & (times < 0.4), (times > 0.6) & (times < 0.7), (times > 0.9) & (times < 1.2)
    assert _cents(track.f0_hz[first], 220.0).max() < 10
    assert not track.voiced[silent].any()
    assert _cents(track.f0_hz[second], 440.0).max() < 10


def test_the_frames_are_centred_on_multiples_of_the_hop():
    # given
    audio = _tone(330.0, duration_s=1.0)

    # when
    track = pitch_track(audio=audio, sr=SR, hop_length=512)

    # then
    assert track.n_frames == 1 + audio.size // 512
    assert track.times_s[1] == pytest.approx(512 / SR)
    assert track.f0_hz.dtype == np.float32 and track.confidence.dtype == np.float32
    assert track.voiced.dtype == np.bool_
    assert np.isnan(track.f0_hz[~track.voiced]).all()


def test_any_hop_and_rate_give_the_same_pitch():
    # given: 22.05 kHz in (the analysis rate itself) and a hop that is no whole number there
    sr = 22050
    n = sr
    audio = (0.3 * np.sin(2 * np.pi * 185.0 * np.arange(n) / sr)).astype(np.float32)

    # when
    plain = pitch_track(audio=audio, sr=sr, hop_length=256)
    odd = pitch_track(audio=audio, sr=sr, hop_length=301)

    # then
    for track in (plain, odd):
        steady = _steady(track)
        assert _cents(track.f0_hz[steady], 185.0).max() < 10


def test_stereo_input_is_averaged():
    # given
    mono = _tone(150.0, n_partials=3)

    # when
    track = pitch_track(audio=np.stack([mono, mono]), sr=SR)

    # then
    assert _cents(track.f0_hz[_steady(track)], 150.0).max() < 10


def test_octave_repair_moves_an_isolated_jump_and_keeps_a_real_leap():
    # given: log2-f0 frames of a note at 100 Hz with a 2-frame jump to 200 Hz, then a real leap
    # to 400 Hz held for 20 frames, with an unvoiced gap (NaN) between them
    log_f0 = np.log2(np.array([100.0] * 10 + [200.0] * 2 + [100.0] * 10 + [np.nan] * 3 + [400.0] * 20))

    # when
    repaired = _repair_octaves(log_f0, window=9, tolerance=0.25)

    # then
    expected = np.log2(np.array([100.0] * 22 + [np.nan] * 3 + [400.0] * 20))
    np.testing.assert_array_equal(repaired, expected)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"audio": np.zeros(0, dtype=np.float32)}, "shape"),
        ({"audio": np.zeros((2, 2, 10), dtype=np.float32)}, "shape"),
        ({"audio": np.zeros(100, dtype=np.int16)}, "floating"),
        ({"audio": np.array([0.0, np.nan] * 100, dtype=np.float32)}, "NaN"),
        ({"fmin_hz": 500.0, "fmax_hz": 100.0}, "fmin_hz"),
        ({"fmax_hz": 30000.0}, "fmax_hz"),
        ({"hop_length": 0}, "positive"),
    ],
)
def test_bad_input_is_refused(kwargs, message):
    # given
    args = {"audio": np.zeros(SR, dtype=np.float32), "sr": SR, **kwargs}

    # when / then
    with pytest.raises(ValueError, match=message):
        pitch_track(**args)
