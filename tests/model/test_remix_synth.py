"""Granular re-synthesis (remix_stem) on generated stems and style sounds whose notes are known."""

from __future__ import annotations

import librosa
import numpy as np
import pytest

from model.pipelines.remix.grains import GrainLibrary, grain_library_build
from model.pipelines.remix.pitch import pitch_track
from model.pipelines.remix.settings import RemixSettings
from model.pipelines.remix.synth import grains_choose, remix_plan, remix_stem

SR = 44100


def _hz(midi: float) -> float:
    return 440.0 * 2 ** ((midi - 69) / 12)


def _tone(f0_hz: float, duration_s: float, *, decay: float = 1.0, level: float = 0.3) -> np.ndarray:
    """A plucked harmonic tone (partial k at 1/k), 3 ms attack, 10 ms release."""
    t = np.arange(int(duration_s * SR)) / SR
    x = sum(np.sin(2 * np.pi * k * f0_hz * t) / k for k in range(1, 9) if k * f0_hz < SR / 3)
    env = np.exp(-decay * t) * np.minimum(1.0, t / 0.003) * np.minimum(1.0, (t[-1] - t) / 0.01)
    return (level * x * env).astype(np.float32)


def _burst(duration_s: float, *, seed: int, level: float = 0.3) -> np.ndarray:
    """A noise burst with a 1 ms attack and an exponential decay (a drum hit)."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(duration_s * SR)) / SR
    return (level * rng.standard_normal(t.size) * np.exp(-t * 25) * np.minimum(1.0, t / 0.001)).astype(np.float32)


def _place(events: list[tuple[float, np.ndarray]], *, duration_s: float) -> np.ndarray:
    out = np.zeros(int(duration_s * SR), dtype=np.float32)
    for start_s, sound in events:
        i = int(round(start_s * SR))
        out[i : i + sound.size] += sound[: out.size - i]
    return out


def _style(sounds: list[np.ndarray]) -> np.ndarray:
    """A style sound: the sounds one after another with 0.3 s of silence between them."""
    gap = np.zeros(int(0.3 * SR), dtype=np.float32)
    return np.concatenate([piece for sound in sounds for piece in (sound, gap)])


@pytest.fixture(scope="module")
def tone_library() -> GrainLibrary:
    """Nine 1.2 s tones at every third semitone from G1 (49 Hz) to G3: none at the test notes' pitches."""
    return grain_library_build(audio=_style([_tone(_hz(m), 1.2, decay=0.5) for m in range(31, 56, 3)]), sr=SR)


@pytest.fixture(scope="module")
def twin_library() -> GrainLibrary:
    """Six nearly identical tones (the seed decides between them)."""
    sounds = [_tone(110.0 * (1 + 0.001 * i), 0.6, level=0.3 * (1 + 0.01 * i)) for i in range(6)]
    return grain_library_build(audio=_style(sounds), sr=SR)


def _f1(reference: np.ndarray, estimate: np.ndarray, *, window_s: float = 0.05) -> float:
    """Onset F-measure, each event matched at most once within ``window_s``."""
    used = np.zeros(estimate.size, dtype=bool)
    hits = 0
    for t in reference:
        free = np.flatnonzero(~used & (np.abs(estimate - t) <= window_s))
        if free.size:
            used[free[np.argmin(np.abs(estimate[free] - t))]] = True
            hits += 1
    if hits == 0:
        return 0.0
    precision, recall = hits / estimate.size, hits / reference.size
    return 2 * precision * recall / (precision + recall)


# A bass line of known notes (MIDI, start s, length s), between the library's pitches.
BASS_LINE = [(33, 0.25, 0.45), (41, 0.75, 0.45), (36, 1.25, 0.2), (45, 1.5, 0.9), (38, 2.5, 0.45), (42, 3.0, 0.7)]


def _bass_stem() -> np.ndarray:
    return _place([(s, _tone(_hz(m), d, decay=1.5)) for m, s, d in BASS_LINE], duration_s=4.0)


def _note_frames_cents(audio: np.ndarray) -> np.ndarray:
    """Cents between ``audio``'s pitch and the bass line's notes, on frames 40 ms inside a note
    (+inf where ``audio`` is unvoiced)."""
    track = pitch_track(audio=audio, sr=SR, fmin_hz=30.0, fmax_hz=500.0, hop_length=441)
    times = track.times_s
    cents = []
    for midi, start, length in BASS_LINE:
        inside = (times >= start + 0.04) & (times <= start + length - 0.04)
        f0 = np.where(track.voiced[inside], track.f0_hz[inside], np.nan)
        cents.append(np.where(np.isfinite(f0), np.abs(1200 * np.log2(f0 / _hz(midi))), np.inf))
    return np.concatenate(cents)


# ------------------------------------------------------------------ what is kept


@pytest.mark.parametrize("kind", ["drums", "bass", "other"])
def test_the_onsets_of_a_burst_stem_are_kept_within_50_ms(kind, tone_library):
    # given: drum-like bursts and plucks at known, irregular times
    rng = np.random.default_rng(3)
    starts = np.cumsum(rng.uniform(0.18, 0.5, size=14)) + 0.2
    events = [(s, _burst(0.15, seed=i) if i % 2 else _tone(_hz(40 + i), 0.15, decay=8)) for i, s in enumerate(starts)]
    stem = _place(events, duration_s=float(starts[-1] + 0.5))

    # when
    out = remix_stem(audio=stem, sr=SR, library=tone_library, settings=RemixSettings(), kind=kind)

    # then
    onsets = librosa.onset.onset_detect(y=out.mean(axis=0), sr=SR, units="time")
    assert _f1(starts, onsets) >= 0.9


def test_a_bass_line_is_re_voiced_at_its_own_pitches(tone_library):
    # given: notes between the library's pitches (1 or 2 semitones from the nearest grain)
    stem = _bass_stem()

    # when
    out = remix_stem(audio=stem, sr=SR, library=tone_library, settings=RemixSettings(), kind="bass")

    # then
    cents = _note_frames_cents(out.mean(axis=0))
    assert np.mean(cents <= 50) >= 0.85
    assert np.median(cents) <= 20


def test_without_pitch_mapping_the_grains_keep_their_own_pitches(tone_library):
    # given
    stem = _bass_stem()

    # when
    mapped = remix_stem(audio=stem, sr=SR, library=tone_library, settings=RemixSettings(), kind="bass")
    unmapped = remix_stem(audio=stem, sr=SR, library=tone_library, settings=RemixSettings(pitch_mapping=False),
                          kind="bass")  # fmt: skip

    # then: every note is 1-2 semitones from the grain it plays
    with_mapping, without = _note_frames_cents(mapped.mean(axis=0)), _note_frames_cents(unmapped.mean(axis=0))
    assert np.mean(without <= 50) <= 0.2
    assert np.median(without) >= 90
    assert np.median(with_mapping) < np.median(without) - 70


def test_a_sustained_note_fills_its_two_seconds_with_grains(tone_library):
    # given: one 2 s note (B1, a semitone from the nearest grain) with a slow decay
    stem = _place([(0.5, _tone(_hz(35), 2.0, decay=0.3))], duration_s=3.0)

    # when: grains of 120 ms, the library's tones 1.2 s long
    out = remix_stem(audio=stem, sr=SR, library=tone_library, settings=RemixSettings(grain_ms=120), kind="bass")

    # then: every 200 ms of the note holds about the original's energy, not one 120 ms blip
    mono = out.mean(axis=0)
    for start in np.arange(0.5, 2.4, 0.2):
        a, b = int(start * SR), int((start + 0.2) * SR)
        ratio = np.sqrt(np.mean(mono[a:b] ** 2) / np.mean(stem[a:b] ** 2))
        assert 0.7 <= ratio <= 1.4, (start, ratio)
    track = pitch_track(audio=mono[int(0.55 * SR) : int(2.45 * SR)], sr=SR, fmin_hz=30.0, fmax_hz=500.0)
    assert np.mean(track.voiced) >= 0.95
    assert np.median(np.abs(1200 * np.log2(track.f0_hz[track.voiced] / _hz(35)))) <= 20


def test_loudness_follows_the_original_envelope(tone_library):
    # given: the bass line with a crescendo over it
    stem = _bass_stem() * np.linspace(0.2, 1.0, int(4.0 * SR), dtype=np.float32)

    # when
    out = remix_stem(audio=stem, sr=SR, library=tone_library, settings=RemixSettings(), kind="bass")

    # then: the 50 ms RMS envelopes correlate
    block = int(0.05 * SR)
    n = stem.size // block * block
    env_in = np.sqrt(np.mean(stem[:n].reshape(-1, block) ** 2, axis=1))
    env_out = np.sqrt(np.mean(out.mean(axis=0)[:n].reshape(-1, block) ** 2, axis=1))
    assert np.corrcoef(env_in, env_out)[0, 1] >= 0.9


# ------------------------------------------------------------------ grain choice, determinism


def test_the_same_seed_gives_the_same_samples_and_another_seed_others(twin_library):
    # given
    stem = _place([(0.1 + 0.25 * i, _tone(110.0, 0.2, decay=4)) for i in range(12)], duration_s=3.3)

    # when
    first = remix_stem(audio=stem, sr=SR, library=twin_library, settings=RemixSettings(seed=7), kind="other")
    again = remix_stem(audio=stem, sr=SR, library=twin_library, settings=RemixSettings(seed=7), kind="other")
    other = remix_stem(audio=stem, sr=SR, library=twin_library, settings=RemixSettings(seed=8), kind="other")

    # then
    assert np.array_equal(first, again)
    assert not np.array_equal(first, other)


def test_no_note_plays_the_grain_of_the_note_before(twin_library):
    # given: twelve identical notes, whose nearest grain is the same each time
    stem = _place([(0.1 + 0.25 * i, _tone(110.0, 0.2, decay=4)) for i in range(12)], duration_s=3.3)

    # when
    plan = remix_plan(audio=stem, sr=SR, library=twin_library, settings=RemixSettings(), kind="other")

    # then
    assert plan.n_notes == 12
    assert np.all(plan.grains[1:] != plan.grains[:-1])
    assert np.all((plan.grains >= 0) & (plan.grains < twin_library.n_grains))


def test_grains_choose_skips_the_previous_grain_and_breaks_ties_with_the_seed():
    # given: every note's nearest grain is 4, then 9 (about as near), then 2 (far)
    candidates = np.tile([4, 9, 2], (6, 1))
    distances = np.tile([0.0, 0.1, 5.0], (6, 1))

    # when
    picks = grains_choose(candidates=candidates, distances=distances, rng=np.random.default_rng(0), tie_margin=0.5)

    # then: 4 and 9 alternate (2 is never within the margin)
    assert set(picks) == {4, 9}
    assert np.all(picks[1:] != picks[:-1])


def test_grains_choose_repeats_only_when_there_is_nothing_else():
    picks = grains_choose(
        candidates=np.zeros((3, 1), dtype=np.int64), distances=np.zeros((3, 1)), rng=np.random.default_rng(0),
        tie_margin=0.5,
    )  # fmt: skip
    assert picks.tolist() == [0, 0, 0]


def test_drums_are_never_transposed_nor_given_a_pitch(tone_library):
    # given
    stem = _place([(0.2 + 0.3 * i, _tone(_hz(36), 0.25, decay=6)) for i in range(6)], duration_s=2.2)

    # when
    plan = remix_plan(audio=stem, sr=SR, library=tone_library, settings=RemixSettings(), kind="drums")

    # then
    assert plan.n_notes == 6
    assert np.isnan(plan.f0_hz).all()


def test_snap_to_beats_moves_near_starts_onto_the_quarter_beat_grid(tone_library):
    # given: a beat every 0.5 s; notes 20 ms after a sixteenth, and one 70 ms after
    beats = np.arange(0.0, 4.01, 0.5)
    starts = [0.52, 1.145, 1.77, 2.57]  # 0.5 + 0.02, 1.125 + 0.02, 1.75 + 0.02, 2.5 + 0.07
    stem = _place([(s, _tone(_hz(40), 0.3, decay=4)) for s in starts], duration_s=4.0)
    settings = RemixSettings(snap_to_beats=True)

    # when
    plan = remix_plan(audio=stem, sr=SR, library=tone_library, settings=settings, kind="bass", beats_s=beats)
    loose = remix_plan(audio=stem, sr=SR, library=tone_library, settings=RemixSettings(), kind="bass")

    # then
    assert plan.n_notes == 4
    assert np.allclose(plan.starts[:3] / SR, [0.5, 1.125, 1.75], atol=1e-4)
    assert plan.starts[3] == loose.starts[3]
    assert abs(plan.starts[3] / SR - 2.57) < 0.03


@pytest.mark.parametrize(
    "remix_settings",
    [RemixSettings(envelope=False), RemixSettings(grain_ms=20), RemixSettings(grain_ms=1000),
     RemixSettings(onset_delta=0.5)],
    ids=["envelope-off", "grain-20ms", "grain-1000ms", "few-onsets"],
)  # fmt: skip
def test_other_settings_keep_the_notes_and_their_length(remix_settings, tone_library):
    # given
    stem = _bass_stem()

    # when
    out = remix_stem(audio=stem, sr=SR, library=tone_library, settings=remix_settings, kind="bass")

    # then: the same length, finite, sounding where the original sounds and not where it is silent
    assert out.shape == (2, stem.size) and np.isfinite(out).all()
    for _midi, start, length in BASS_LINE:
        inside = slice(int((start + 0.02) * SR), int((start + length - 0.02) * SR))
        assert np.sqrt(np.mean(out[0, inside] ** 2)) > 0.2 * np.sqrt(np.mean(stem[inside] ** 2))
    assert not out[:, : int(0.2 * SR)].any()


def test_a_library_without_pitched_grains_still_re_voices_a_bass_line():
    # given: a "kit" of noise bursts, no grain with a pitch
    kit = grain_library_build(audio=_style([_burst(0.2, seed=i, level=0.1 * (i + 1)) for i in range(4)]), sr=SR)
    stem = _bass_stem()

    # when
    out = remix_stem(audio=stem, sr=SR, library=kit, settings=RemixSettings(), kind="bass")
    plan = remix_plan(audio=stem, sr=SR, library=kit, settings=RemixSettings(), kind="bass")

    # then: every note plays a burst (chosen by timbre and loudness), never the same twice running
    assert np.isnan(kit.f0_hz).all()
    assert out.shape == (2, stem.size) and np.isfinite(out).all() and out.any()
    assert np.all(plan.grains[1:] != plan.grains[:-1])


# ------------------------------------------------------------------ shape, dry/wet, edge cases


def test_wet_zero_gives_the_original_in_stereo(tone_library):
    mono = _bass_stem()
    stereo = np.stack([mono, 0.5 * mono])

    out_mono = remix_stem(audio=mono, sr=SR, library=tone_library, settings=RemixSettings(), kind="bass", wet=0.0)
    out_stereo = remix_stem(audio=stereo, sr=SR, library=tone_library, settings=RemixSettings(), kind="bass", wet=0.0)

    assert out_mono.shape == (2, mono.size) and out_mono.dtype == np.float32
    assert np.array_equal(out_mono, np.stack([mono, mono]))
    assert np.array_equal(out_stereo, stereo)


def test_half_wet_is_half_original_half_re_voiced(tone_library):
    stem = _bass_stem()
    settings = RemixSettings()

    full = remix_stem(audio=stem, sr=SR, library=tone_library, settings=settings, kind="bass")
    half = remix_stem(audio=stem, sr=SR, library=tone_library, settings=settings, kind="bass", wet=0.5)

    assert np.allclose(half, 0.5 * full + 0.5 * stem[None, :], atol=1e-6)


def test_stereo_out_keeps_the_original_channel_balance(tone_library):
    # given: a stem on the left channel only
    mono = _bass_stem()
    stem = np.stack([mono, np.zeros_like(mono)])

    # when
    out = remix_stem(audio=stem, sr=SR, library=tone_library, settings=RemixSettings(), kind="bass")

    # then
    assert out.shape == stem.shape
    assert np.sqrt(np.mean(out[0] ** 2)) > 0.5 * np.sqrt(np.mean(mono**2))
    assert not out[1].any()


def test_a_silent_stem_gives_silence(tone_library):
    out = remix_stem(audio=np.zeros((2, SR), dtype=np.float32), sr=SR, library=tone_library,
                     settings=RemixSettings(), kind="bass")  # fmt: skip

    assert out.shape == (2, SR) and out.dtype == np.float32
    assert np.isfinite(out).all()
    assert not out.any()


@pytest.mark.parametrize("n", [1, 700, 4099])
def test_very_short_stems_keep_their_length(n, tone_library):
    stem = 0.1 * np.sin(np.arange(n) * 0.05).astype(np.float32)

    out = remix_stem(audio=stem, sr=SR, library=tone_library, settings=RemixSettings(), kind="drums")

    assert out.shape == (2, n)
    assert np.isfinite(out).all()


def test_another_sample_rate_keeps_length_and_pitch(tone_library):
    # given: the bass line at 22.05 kHz (the library is at 44.1 kHz)
    stem = librosa.resample(_bass_stem(), orig_sr=SR, target_sr=22050)

    # when
    out = remix_stem(audio=stem, sr=22050, library=tone_library, settings=RemixSettings(), kind="bass")

    # then
    assert out.shape == (2, stem.size)
    cents = _note_frames_cents(librosa.resample(out.mean(axis=0), orig_sr=22050, target_sr=SR))
    assert np.mean(cents <= 50) >= 0.85


def test_progress_rises_to_one(tone_library):
    seen: list[float] = []

    remix_stem(audio=_bass_stem(), sr=SR, library=tone_library, settings=RemixSettings(), kind="bass",
               progress=seen.append)  # fmt: skip

    assert seen == sorted(seen)
    assert seen[-1] == 1.0
    assert all(0.0 <= f <= 1.0 for f in seen)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"kind": "vocals"}, "kind"),
        ({"wet": 1.5}, "wet"),
        ({"audio": np.full(100, np.nan, dtype=np.float32)}, "NaN"),
        ({"audio": np.zeros((3, 100), dtype=np.float32)}, "shape"),
        ({"audio": np.zeros(100, dtype=np.int16)}, "floating"),
        ({"sr": 0}, "sr"),
    ],
)
def test_bad_arguments_are_refused(changes, message, tone_library):
    arguments = {"audio": np.zeros(100, dtype=np.float32), "sr": SR, "library": tone_library,
                 "settings": RemixSettings(), "kind": "bass"} | changes  # fmt: skip

    with pytest.raises(ValueError, match=message):
        remix_stem(**arguments)


def test_unsorted_beats_are_refused(tone_library):
    with pytest.raises(ValueError, match="beats_s"):
        remix_plan(audio=_bass_stem(), sr=SR, library=tone_library, settings=RemixSettings(snap_to_beats=True),
                   kind="bass", beats_s=np.array([1.0, 0.5]))  # fmt: skip
