"""The karaoke test set's truth: the sung words are where their times say, and the band is on the grid.

The vocal is spoken by espeak-ng (a test dependency: ``make test`` installs it). The band's
fluidsynth rendering is exercised by the benchmark itself, as for :mod:`bench.multitrack`
(fluidsynth is a benchmark dependency only).
"""

from __future__ import annotations

import numpy as np
import pytest

from bench.karaoke import LYRICS, METERS, SET_LAYOUT, plan_song, set_plans, sing_plan
from bench.karaoke.parts import bass_part, drum_part, offset_beats
from bench.karaoke.plan import LEAD_IN_S, beat_times, downbeat_times, vocal_line
from bench.karaoke.voice import speak_line, voiced_bounds

SR = 16000  # the voice is resampled from espeak-ng's 22 050 Hz; a low rate keeps the test fast


def _tiny_plan():
    # 3/4 at 120 BPM (a 1.5 s bar), about 12 s: a two-bar intro and one sung line.
    return plan_song(seed=7, meter="3/4", language="pt", bpm_range=(120, 120), duration_s=12.0)


def _rms_db(x: np.ndarray) -> float:
    return float(20 * np.log10(np.sqrt(np.mean(x.astype(np.float64) ** 2)) + 1e-12))


def test_a_tiny_song_sings_each_word_exactly_where_its_truth_says():
    # given a tiny song
    plan = _tiny_plan()

    # when its vocal is sung
    audio, lines = sing_plan(plan, sr=SR)

    # then it sings whole lines of its language's lyrics, in order, inside the audio
    assert audio.shape == (int(round(plan.duration_s * SR)),)
    assert len(lines) >= 1
    assert all(line.text in LYRICS["pt"] for line in lines)
    words = [word for line in lines for word in line.words]
    assert [w.word for w in words] == " ".join(line.text for line in lines).split()
    starts = np.array([w.start for w in words])
    ends = np.array([w.end for w in words])
    assert starts[0] >= LEAD_IN_S + plan.intro_bars * plan.bar_s - 1e-9
    assert np.all(starts < ends) and np.all(ends[:-1] <= starts[1:]) and ends[-1] <= plan.duration_s
    # each line starts on a downbeat
    bars = (np.array([line.words[0].start for line in lines]) - LEAD_IN_S) / plan.bar_s
    np.testing.assert_allclose(bars, np.round(bars), atol=SR**-1 / plan.bar_s)
    # the voice's energy is inside the lines and nowhere else: outside them, digital silence
    inside = np.zeros(audio.size, dtype=bool)
    for line in lines:
        inside[int(round(line.words[0].start * SR)) : int(round(line.words[-1].end * SR))] = True
    assert not np.any(audio[~inside])
    assert _rms_db(audio[inside]) > -25.0
    for w in words:
        a, b = int(round(w.start * SR)), int(round(w.end * SR))
        # the word's own bounds are voiced: its first and last 5 ms are within 40 dB of its
        # loudest 5 ms (the trimming's floor is 36 dB)
        frame = SR // 200
        loudest = max(_rms_db(audio[i : i + frame]) for i in range(a, b - frame + 1, frame))
        assert _rms_db(audio[a : a + frame]) > loudest - 40.0
        assert _rms_db(audio[b - frame : b]) > loudest - 40.0


def test_a_word_espeak_speaks_with_the_one_before_gets_its_own_start():
    # given a line in which espeak-ng runs "on the" together, with one word event for both
    text = "I hear your footsteps on the road"

    # when it is spoken
    clip, words = speak_line(text, voice="en-us", pitch=50, speed_wpm=150, sr=SR)

    # then every word has its own voiced span, in order, and "the" is a short word between "on"
    # and "road"
    assert [w.word for w in words] == text.split()
    assert words[0].start == 0.0 and words[-1].end == pytest.approx(clip.size / SR)
    assert all(w.start < w.end for w in words)
    assert all(a.end <= b.start for a, b in zip(words[:-1], words[1:], strict=True))
    the = words[5]
    assert 0.04 < the.end - the.start < 0.4
    for w in words:
        a, b = int(round(w.start * SR)), int(round(w.end * SR))
        assert _rms_db(clip[a:b]) > -40.0


def test_voiced_bounds_trims_silence_and_a_quiet_tail_by_energy():
    # given 100 ms of silence, 200 ms of a tone, 100 ms of it 50 dB down, 100 ms of silence
    sr = 1000
    tone = np.sin(2 * np.pi * 50 * np.arange(300) / sr)
    audio = np.concatenate([np.zeros(100), tone[:200], 10 ** (-50 / 20) * tone[200:], np.zeros(100)])

    # when / then only the loud tone is the word (5 ms frames)
    assert voiced_bounds(audio, sr=sr) == (100, 300)
    assert voiced_bounds(np.zeros(50), sr=sr) == (0, 0)


def test_the_beat_grid_has_a_downbeat_every_bar():
    # given a 6/8 song (two dotted-quarter beats a bar)
    plan = plan_song(seed=3, meter="6/8", language="en", bpm_range=(80, 80), duration_s=20.0)

    # when
    beats, downbeats = beat_times(plan), downbeat_times(plan)

    # then beats are 0.75 s apart from the lead-in, and every second one starts a bar
    assert beats[0] == LEAD_IN_S
    np.testing.assert_allclose(np.diff(beats), 0.75, atol=1e-12)
    np.testing.assert_allclose(downbeats, beats[::2], atol=1e-12)
    assert downbeats.size == plan.n_bars + 1


def test_the_band_marks_every_downbeat_with_a_kick_and_the_bass_root():
    for meter in METERS:
        # given a song in each meter
        plan = plan_song(seed=11, meter=meter, language="en", bpm_range=(100, 100), duration_s=30.0)
        rng = np.random.default_rng(0)
        beats_per_bar = METERS[meter].beats_per_bar

        # when its drum and bass parts are written
        drums, bass = drum_part(plan, rng), bass_part(plan, rng)

        # then each bar's first beat has a kick (MIDI 36) and a bass note, on the exact beat
        kicks = {round(start - offset_beats(plan), 9) for start, _l, pitch, _v, _c in drums if pitch == 36}
        bass_starts = {round(start - offset_beats(plan), 9) for start, *_ in bass}
        for bar in range(plan.n_bars + 1):
            assert float(bar * beats_per_bar) in kicks, (meter, bar)
            assert float(bar * beats_per_bar) in bass_starts, (meter, bar)


def test_the_set_covers_both_meters_languages_and_tempo_ends():
    # given the benchmark set's plans
    plans = set_plans(n_songs=len(SET_LAYOUT))

    # then half the songs are in each language, at least three in 3/4 and in 4/4, one in 6/8,
    # tempi span 70-170 BPM, and each song lasts 60-90 s with sung lines in it
    assert sum(p.language == "en" for p in plans) == sum(p.language == "pt" for p in plans) == 5
    assert sum(p.meter == "3/4" for p in plans) >= 3 and sum(p.meter == "4/4" for p in plans) >= 3
    assert sum(p.meter == "6/8" for p in plans) == 1
    bpms = [p.bpm for p in plans]
    assert min(bpms) <= 80 and max(bpms) >= 160 and all(70 <= b <= 170 for b in bpms)
    assert all(60.0 <= p.duration_s <= 90.0 for p in plans)
    assert all(len(vocal_line(p)) >= 5 for p in plans)
    assert all(len(sing_plan(p, sr=SR)[1]) >= 5 for p in plans)
    # and the seeds are apart from the separation set's (0, 1, 2, ...)
    assert min(p.seed for p in plans) >= 1000


@pytest.mark.parametrize("language", ["en", "pt"])
def test_each_language_has_twelve_lines(language):
    assert len(LYRICS[language]) == 12
    assert all(line.strip() == line and not any(ch.isdigit() for ch in line) for line in LYRICS[language])
