"""The song analysis' tempo, beats, downbeats and meter, on rendered grooves with known answers;
and the pipeline's contract (input checks, silence, short input, progress, JSON)."""

from __future__ import annotations

import numpy as np
import pytest

from model.pipelines.analysis import AnalysisParams, AnalysisResult, analyse, warm_up
from model.pipelines.analysis.tracking import track_beats

SR = 22050
# I-V-vi-IV in C, one chord a bar: semitones above C4.
_CHORDS = ((0, 4, 7), (7, 11, 14), (9, 12, 16), (5, 9, 12))
# Beats per bar and hi-hat strokes per beat.
_METERS = {"2/4": (2, 2), "3/4": (3, 2), "4/4": (4, 2), "6/8": (2, 3)}


def _place(out: np.ndarray, sound: np.ndarray, start_s: float) -> None:
    i = int(round(start_s * SR))
    n = min(sound.size, out.size - i)
    if n > 0:
        out[i : i + n] += sound[:n]


def _kick() -> np.ndarray:
    t = np.arange(int(0.25 * SR)) / SR
    pitch = 50 + 70 * np.exp(-t / 0.03)  # the usual downward sweep
    return 0.9 * np.sin(2 * np.pi * np.cumsum(pitch) / SR) * np.exp(-t / 0.08)


def _snare(rng: np.random.Generator) -> np.ndarray:
    t = np.arange(int(0.2 * SR)) / SR
    return 0.5 * rng.standard_normal(t.size) * np.exp(-t / 0.05) + 0.3 * np.sin(2 * np.pi * 190 * t) * np.exp(-t / 0.04)


def _hat(rng: np.random.Generator) -> np.ndarray:
    t = np.arange(int(0.05 * SR)) / SR
    return 0.15 * np.diff(rng.standard_normal(t.size + 1)) * np.exp(-t / 0.012)


def _tone(freqs: list[float], duration_s: float, amp: float) -> np.ndarray:
    t = np.arange(int(duration_s * SR)) / SR
    envelope = np.minimum(1.0, t / 0.01) * np.exp(-t / (0.6 * duration_s))
    return amp * envelope * sum(np.sin(2 * np.pi * f * k * t) / k for f in freqs for k in (1, 2, 3))


def _groove(
    *, bpm: float, meter: str = "4/4", bars: int = 24, swing: float = 0.5, lead_s: float = 0.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A drums + bass + chords song with known beats.

    Kick on the first beat (and on the third in 4/4), snare on the others, hi-hats on the
    subdivisions (eighths, or the three eighths of a 6/8 beat; the off-beat eighth at
    ``swing`` of the beat), a bass note and a triad each bar.

    Returns
    -------
    mix, drums : np.ndarray, shape (2, n), float32
    beats, downbeats : np.ndarray
        Seconds.
    """
    rng = np.random.default_rng(0)
    per_bar, strokes = _METERS[meter]
    beat_s = 60.0 / bpm
    n = int((lead_s + bars * per_bar * beat_s + 1.0) * SR)
    drums, tonal = np.zeros(n), np.zeros(n)
    kick, snare, hat = _kick(), _snare(rng), _hat(rng)
    beats = []
    for bar in range(bars):
        start = lead_s + bar * per_bar * beat_s
        chord = _CHORDS[bar % 4]
        _place(tonal, _tone([261.63 * 2 ** (s / 12) for s in chord], per_bar * beat_s, 0.05), start)
        _place(tonal, _tone([65.41 * 2 ** (chord[0] / 12)], per_bar * beat_s, 0.12), start)
        for k in range(per_bar):
            t = start + k * beat_s
            beats.append(t)
            if meter == "4/4":
                _place(drums, kick if k % 2 == 0 else snare, t)
            else:
                _place(drums, kick if k == 0 else 0.6 * snare, t)
            for stroke in range(strokes):
                fraction = stroke / strokes if strokes == 3 else (0.0, swing)[stroke]
                _place(drums, hat * (1.0 if stroke == 0 else 0.7), t + fraction * beat_s)
    scale = 0.89 / np.abs(drums + tonal).max()  # the mix peaks at -1 dBFS
    drum_stem = np.stack([drums, drums]).astype(np.float32) * np.float32(scale)
    mix = drum_stem + np.stack([tonal, tonal]).astype(np.float32) * np.float32(scale)
    beats_s = np.array(beats)
    return mix, drum_stem, beats_s, beats_s[::per_bar]


def _f_measure(reference: np.ndarray, estimate: list[float], window_s: float = 0.07) -> float:
    """Beat F-measure: each reference beat matched to at most one estimate within the window."""
    est = np.asarray(estimate)
    used = np.zeros(est.size, dtype=bool)
    hits = 0
    for t in reference:
        distance = np.where(used, np.inf, np.abs(est - t))
        j = int(np.argmin(distance)) if est.size else -1
        if j >= 0 and distance[j] <= window_s:
            used[j] = True
            hits += 1
    if hits == 0:
        return 0.0
    precision, recall = hits / est.size, hits / reference.size
    return 2 * precision * recall / (precision + recall)


def test_a_4_4_groove_at_120_bpm_gives_its_tempo_beats_and_kick_downbeats():
    # given: 24 bars of 4/4 at 120 BPM, the drums stem as separated
    mix, drums, beats, downbeats = _groove(bpm=120)

    # when
    result = analyse(mix=mix, sr=SR, drums=drums)

    # then: tempo within 1 %, every beat, and the bars start on the kick of beat one
    assert abs(result.tempo_bpm - 120) < 1.2
    assert _f_measure(beats, result.beats) >= 0.97
    assert _f_measure(downbeats, result.downbeats) >= 0.97
    assert result.time_signature == "4/4"
    assert set(result.downbeats) <= set(result.beats)
    assert result.beats == sorted(result.beats)


def test_without_a_drums_stem_the_beats_come_from_the_mix():
    # given: the same groove, the mix alone
    mix, _, beats, downbeats = _groove(bpm=120)

    # when
    result = analyse(mix=mix, sr=SR)

    # then
    assert abs(result.tempo_bpm - 120) < 1.2
    assert _f_measure(beats, result.beats) >= 0.97
    assert _f_measure(downbeats, result.downbeats) >= 0.97


def test_a_waltz_at_90_bpm_is_in_3_4():
    # given: kick on one, snare on two and three, a chord a bar
    mix, drums, beats, downbeats = _groove(bpm=90, meter="3/4")

    # when
    result = analyse(mix=mix, sr=SR, drums=drums)

    # then
    assert result.time_signature == "3/4"
    assert abs(result.tempo_bpm - 90) < 0.9
    assert _f_measure(beats, result.beats) >= 0.97
    assert _f_measure(downbeats, result.downbeats) >= 0.97


@pytest.mark.parametrize(("bpm", "meter"), [(170, "4/4"), (70, "4/4"), (150, "3/4"), (75, "3/4")])
def test_tempi_at_the_ends_of_the_range_are_neither_halved_nor_doubled(bpm, meter):
    # given: hi-hats on the eighths, which a tracker can take for the beat at 70 BPM
    mix, drums, beats, _ = _groove(bpm=bpm, meter=meter)

    # when
    result = analyse(mix=mix, sr=SR, drums=drums)

    # then
    assert abs(result.tempo_bpm / bpm - 1) < 0.01
    assert result.time_signature == meter
    assert _f_measure(beats, result.beats) >= 0.97


def test_a_swung_groove_keeps_its_tempo_and_meter():
    # given: the off-beat eighth two thirds into the beat (a shuffle)
    mix, drums, beats, downbeats = _groove(bpm=100, swing=0.66)

    # when
    result = analyse(mix=mix, sr=SR, drums=drums)

    # then: a shuffle is still 4/4, not compound time
    assert abs(result.tempo_bpm - 100) < 1.0
    assert result.time_signature == "4/4"
    assert _f_measure(beats, result.beats) >= 0.97
    assert _f_measure(downbeats, result.downbeats) >= 0.97


def test_compound_time_is_6_8_with_the_dotted_quarter_as_the_beat():
    # given: two beats a bar, each of three hi-hat eighths, at 70 dotted quarters a minute
    mix, drums, beats, downbeats = _groove(bpm=70, meter="6/8")

    # when
    result = analyse(mix=mix, sr=SR, drums=drums)

    # then
    assert result.time_signature == "6/8"
    assert abs(result.tempo_bpm - 70) < 0.7
    assert _f_measure(beats, result.beats) >= 0.97
    assert _f_measure(downbeats, result.downbeats) >= 0.97


def test_two_beats_a_bar_with_a_chord_a_bar_is_2_4():
    # given
    mix, drums, beats, downbeats = _groove(bpm=110, meter="2/4")

    # when
    result = analyse(mix=mix, sr=SR, drums=drums)

    # then
    assert result.time_signature == "2/4"
    assert abs(result.tempo_bpm - 110) < 1.1
    assert _f_measure(downbeats, result.downbeats) >= 0.97


def test_a_song_that_starts_after_silence_has_no_beats_in_the_silence():
    # given: four seconds of silence, then the groove
    mix, drums, beats, downbeats = _groove(bpm=120, lead_s=4.0)

    # when
    result = analyse(mix=mix, sr=SR, drums=drums)

    # then: the first beat is the groove's first, within 70 ms
    assert abs(result.beats[0] - 4.0) < 0.07
    assert _f_measure(beats, result.beats) >= 0.97
    assert _f_measure(downbeats, result.downbeats) >= 0.97


def test_the_tracker_follows_a_fractional_period_without_slipping():
    # given: an onset every 21.5 frames (120 BPM at 43 frames per second), which a period
    # rounded to whole frames would slip against
    env = np.zeros(2150)
    env[np.rint(np.arange(0, 2140, 21.5)).astype(int)] = 1.0

    # when
    beats = track_beats(env, period=21.5, tightness=300.0)

    # then: every onset is a beat, to the frame
    np.testing.assert_array_equal(np.rint(beats), np.rint(np.arange(0, 2140, 21.5)))


def test_silence_gives_a_result_with_no_beats_and_no_key():
    # given: ten seconds of digital silence
    silence = np.zeros((2, 10 * SR), dtype=np.float32)

    # when
    result = analyse(mix=silence, sr=SR, drums=silence)

    # then
    assert result == AnalysisResult(
        tempo_bpm=0.0,
        beats=[],
        downbeats=[],
        time_signature="4/4",
        key="",
        key_confidence=0.0,
        loudness_lufs=-70.0,
        peak_dbfs=-120.0,
    )


def test_input_shorter_than_two_seconds_gets_its_loudness_and_no_beats():
    # given: 1.5 s of the groove
    mix, drums, _, _ = _groove(bpm=120, bars=1)
    mix, drums = mix[:, : int(1.5 * SR)], drums[:, : int(1.5 * SR)]

    # when
    result = analyse(mix=mix, sr=SR, drums=drums)

    # then
    assert (result.tempo_bpm, result.beats, result.downbeats, result.time_signature) == (0.0, [], [], "4/4")
    assert (result.key, result.key_confidence) == ("", 0.0)
    assert -70.0 < result.loudness_lufs < 0.0
    assert result.peak_dbfs == pytest.approx(20 * np.log10(np.abs(mix).max()), abs=1e-6)


@pytest.mark.parametrize(
    ("mix", "sr", "drums", "message"),
    [
        (np.zeros(SR * 3, dtype=np.float32), SR, None, "mix must have shape"),
        (np.zeros((2, 0), dtype=np.float32), SR, None, "mix must have shape"),
        (np.full((2, SR * 3), np.nan, dtype=np.float32), SR, None, "mix contains NaN"),
        (np.zeros((2, SR * 3), dtype=np.int16), SR, None, "floating-point"),
        (np.zeros((2, SR * 3), dtype=np.float32), 0, None, "sr must be a positive integer"),
        (np.zeros((2, SR * 3), dtype=np.float32), 22050.5, None, "sr must be a positive integer"),
        (np.zeros((2, SR * 3), dtype=np.float32), SR, np.zeros((2, SR * 2), dtype=np.float32), "same length"),
        (np.zeros((2, SR * 3), dtype=np.float32), SR, np.full((1, SR * 3), np.inf, dtype=np.float32), "drums contains"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message(mix, sr, drums, message):
    # when / then
    with pytest.raises(ValueError, match=message):
        analyse(mix=mix, sr=sr, drums=drums)


def test_progress_rises_from_zero_to_one():
    # given
    mix, drums, _, _ = _groove(bpm=120, bars=4)
    seen: list[float] = []

    # when
    analyse(mix=mix, sr=SR, drums=drums, progress=seen.append)

    # then
    assert seen[0] == 0.0 and seen[-1] == 1.0
    assert seen == sorted(seen)


def test_the_json_form_rounds_times_to_milliseconds():
    # given
    result = AnalysisResult(
        tempo_bpm=120.00432,
        beats=[0.51234, 1.01299],
        downbeats=[0.51234],
        time_signature="4/4",
        key="A minor",
        key_confidence=0.83349,
        loudness_lufs=-9.1234,
        peak_dbfs=float("-inf"),
    )

    # when
    payload = result.to_json()

    # then
    assert payload == {
        "tempo_bpm": 120.0,
        "beats": [0.512, 1.013],
        "downbeats": [0.512],
        "time_signature": "4/4",
        "key": "A minor",
        "key_confidence": 0.833,
        "loudness_lufs": -9.12,
        "peak_dbfs": -120.0,
    }


def test_the_onset_delay_knob_moves_every_beat_by_its_value():
    # given: a groove analysed with the default delay and with 50 ms more
    mix, drums, _, _ = _groove(bpm=120, bars=8)
    default = AnalysisParams()
    later = AnalysisParams(onset_delay_s=default.onset_delay_s + 0.05)

    # when
    first = analyse(mix=mix, sr=SR, drums=drums, params=default)
    second = analyse(mix=mix, sr=SR, drums=drums, params=later)

    # then
    np.testing.assert_allclose(np.subtract(second.beats, first.beats), 0.05, atol=1e-9)
    assert second.tempo_bpm == pytest.approx(first.tempo_bpm)


def test_warm_up_runs_and_can_run_again():
    # when / then: no error, twice
    warm_up()
    warm_up()
