"""Remix analysis rows: the pitch tracker's speed and accuracy, and the grain library's speed.

The pitch set is generated here, every frame's pitch known: harmonic tones with vibrato, glides
over two octaves, a plucked bass line (E1-A2) and a sung-like melody (C4-C6), at 44.1 kHz with
noise 50 dB under the signal, and a melody in a room (a reverb tail under the next note, noise 25 dB
under it). A reference frame counts when its centre lies inside a note and at
least 20 ms from the note's ends (frames straddling two notes have no single right answer);
accuracy is the share of those frames the tracker calls voiced with a pitch within 50 cents.
Both trackers run on the same audio and are scored on their own frame grids. The baseline is
``librosa.pyin`` with its defaults over C1-C7 (frame 2048, hop 512 at 22 050 Hz, as
``librosa.load`` gives), as the issue asks.

The style sound for the grain library is generated too: a minute of tone bursts, plucks and
noise hits of random pitch and length with silence between them, like a sample pack.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.signal import fftconvolve

from bench.run.table import Row

SR = 44100
PYIN_SR = 22050
FMIN_HZ = 32.7
FMAX_HZ = 2093.0
EDGE_S = 0.02
TOLERANCE_CENTS = 50.0


# ------------------------------------------------------------------ generated signals


@dataclass(frozen=True)
class PitchedSignal:
    """A generated signal and its truth: ``f0_hz`` per sample, NaN outside notes."""

    name: str
    audio: np.ndarray  # float32 (n,)
    f0_hz: np.ndarray  # float64 (n,), NaN where silent
    edge_distance_s: np.ndarray  # float64 (n,), distance to the nearest note end


def _harmonic(f0_hz: np.ndarray, *, sr: int, n_partials: int, tilt: float, phase0: float = 0.0) -> np.ndarray:
    """A band-limited harmonic tone following ``f0_hz`` (per sample), partial k at ``k**-tilt``."""
    phase = phase0 + 2 * np.pi * np.cumsum(f0_hz) / sr
    out = np.zeros_like(phase)
    for k in range(1, n_partials + 1):
        alive = k * f0_hz < 0.45 * sr
        out += np.where(alive, np.sin(k * phase), 0.0) / k**tilt
    return out


def _notes_signal(
    name: str,
    notes: list[tuple[float, float, float]],
    *,
    sr: int,
    rng: np.random.Generator,
    n_partials: int,
    tilt: float,
    vibrato_cents: float,
    pluck: bool,
    tail_s: float = 0.3,
) -> PitchedSignal:
    """Notes given as (start_s, duration_s, midi); vibrato at 5.5 Hz; plucked or sustained."""
    total = int((max(s + d for s, d, _ in notes) + tail_s) * sr)
    audio = np.zeros(total)
    f0 = np.full(total, np.nan)
    edge = np.zeros(total)
    for start_s, duration_s, midi in notes:
        i, n = int(start_s * sr), int(duration_s * sr)
        t = np.arange(n) / sr
        cents = vibrato_cents * np.sin(2 * np.pi * 5.5 * t + rng.uniform(0, 2 * np.pi))
        freq = 440.0 * 2 ** ((midi - 69 + cents / 100) / 12)
        env = np.minimum(1.0, t / 0.01) * np.minimum(1.0, (duration_s - t) / 0.02)
        if pluck:
            env *= np.exp(-t / 0.6)
        audio[i : i + n] += rng.uniform(0.4, 1.0) * env * _harmonic(freq, sr=sr, n_partials=n_partials, tilt=tilt)
        f0[i : i + n] = freq
        edge[i : i + n] = np.minimum(t, duration_s - t)
    return _finish(name, audio, f0, edge, rng=rng)


def _finish(
    name: str, audio: np.ndarray, f0: np.ndarray, edge: np.ndarray, *, rng: np.random.Generator
) -> PitchedSignal:
    audio = 0.5 * audio / np.max(np.abs(audio))
    rms = np.sqrt(np.mean(audio[~np.isnan(f0)] ** 2))
    audio = audio + rms * 10 ** (-50 / 20) * rng.standard_normal(audio.size)
    return PitchedSignal(name, audio.astype(np.float32), f0, edge)


def pitch_set(*, sr: int = SR, seed: int = 0) -> list[PitchedSignal]:
    """The generated pitch set: six signals, about 95 s of audio."""
    rng = np.random.default_rng(seed)
    signals = []
    # Sustained harmonic tones with vibrato, one per octave C1..C6 and a few in between.
    notes, t = [], 0.2
    for midi in (24, 31, 36, 43, 48, 55, 60, 67, 72, 79, 84, 91):
        notes.append((t, 1.2, midi))
        t += 1.5
    signals.append(
        _notes_signal("vibrato tones", notes, sr=sr, rng=rng, n_partials=12, tilt=1.0, vibrato_cents=40, pluck=False)
    )
    # Glides over two octaves, up and down, each 3 s.
    parts_audio, parts_f0, parts_edge = [], [], []
    for lo, hi in ((36, 60), (84, 60), (48, 72), (96, 72)):
        n = 3 * sr
        tt = np.arange(n) / sr
        midi = lo + (hi - lo) * tt / 3.0
        freq = 440.0 * 2 ** ((midi - 69) / 12)
        env = np.minimum(1.0, tt / 0.01) * np.minimum(1.0, (3.0 - tt) / 0.02)
        gap = int(0.3 * sr)
        parts_audio += [env * _harmonic(freq, sr=sr, n_partials=10, tilt=1.2), np.zeros(gap)]
        parts_f0 += [freq, np.full(gap, np.nan)]
        parts_edge += [np.minimum(tt, 3.0 - tt), np.zeros(gap)]
    signals.append(
        _finish("glides", np.concatenate(parts_audio), np.concatenate(parts_f0), np.concatenate(parts_edge), rng=rng)
    )
    # A plucked bass line, E1..A2, eighths and quarters at 110 BPM, small gaps.
    notes, t = [], 0.1
    for _ in range(48):
        d = rng.choice([0.273, 0.545])
        notes.append((t, d - 0.03, int(rng.integers(28, 46))))
        t += d
    signals.append(
        _notes_signal("bass line", notes, sr=sr, rng=rng, n_partials=16, tilt=1.3, vibrato_cents=0, pluck=True)
    )
    # A sung-like melody, C4..C6, legato (no gaps) and with vibrato, brighter partials.
    notes, t = [], 0.1
    for _ in range(40):
        d = float(rng.choice([0.25, 0.5, 0.75]))
        notes.append((t, d, int(rng.integers(60, 85))))
        t += d
    signals.append(
        _notes_signal("legato melody", notes, sr=sr, rng=rng, n_partials=8, tilt=0.8, vibrato_cents=25, pluck=False)
    )
    # A staccato melody over the pitch range's top (C5..C7).
    notes, t = [], 0.1
    for _ in range(40):
        d = float(rng.choice([0.15, 0.3]))
        notes.append((t, d - 0.05, int(rng.integers(72, 96))))
        t += d
    signals.append(
        _notes_signal("high staccato", notes, sr=sr, rng=rng, n_partials=6, tilt=1.0, vibrato_cents=10, pluck=True)
    )
    # A melody (G3..G5) in a room: a 0.4-s exponential reverb tail and noise 25 dB under it,
    # so the previous note rings under the next one.
    notes, t = [], 0.1
    for _ in range(30):
        d = float(rng.choice([0.3, 0.45, 0.6]))
        notes.append((t, d - 0.02, int(rng.integers(55, 80))))
        t += d
    dry = _notes_signal(
        "melody in a room", notes, sr=sr, rng=rng, n_partials=8, tilt=1.0, vibrato_cents=20, pluck=False
    )
    ir_t = np.arange(int(0.4 * sr)) / sr
    ir = rng.standard_normal(ir_t.size) * np.exp(-ir_t / 0.08) * 0.02
    ir[0] = 1.0
    wet = fftconvolve(dry.audio.astype(np.float64), ir)[: dry.audio.size]
    wet = 0.5 * wet / np.max(np.abs(wet))
    rms = np.sqrt(np.mean(wet[~np.isnan(dry.f0_hz)] ** 2))
    wet += rms * 10 ** (-25 / 20) * rng.standard_normal(wet.size)
    signals.append(PitchedSignal(dry.name, wet.astype(np.float32), dry.f0_hz, dry.edge_distance_s))
    return signals


def accuracy_counts(signal: PitchedSignal, *, times_s: np.ndarray, f0_hz: np.ndarray, sr: int) -> tuple[int, int]:
    """(hits, reference frames) of a pitch track on ``signal``: reference frames have their
    centre inside a note and at least ``EDGE_S`` from its ends; hits have an estimate within
    ``TOLERANCE_CENTS`` of the truth (an unvoiced frame, NaN, is a miss)."""
    at = np.round(np.asarray(times_s) * sr).astype(np.int64)
    inside = at < signal.f0_hz.size
    at = np.minimum(at, signal.f0_hz.size - 1)
    truth = signal.f0_hz[at]
    ref = inside & ~np.isnan(truth) & (signal.edge_distance_s[at] >= EDGE_S)
    estimate = np.asarray(f0_hz, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        cents = np.abs(1200 * np.log2(estimate / truth))
    hits = ref & (cents <= TOLERANCE_CENTS)  # NaN compares False
    return int(hits.sum()), int(ref.sum())


def stem(*, duration_s: float, sr: int = SR) -> np.ndarray:
    """A ``duration_s`` "stem" of the pitch set's signals, one after another, repeated."""
    audio = np.concatenate([signal.audio for signal in pitch_set(sr=sr)])
    return np.resize(audio, int(duration_s * sr))


def style_sound(*, duration_s: float = 60.0, sr: int = SR, seed: int = 0) -> np.ndarray:
    """A generated one-minute "sample pack": tone bursts, plucks and noise hits, silence between."""
    rng = np.random.default_rng(seed)
    out = np.zeros(int(duration_s * sr))
    t = 0.05
    while t < duration_s - 1.0:
        n = int(rng.uniform(0.08, 0.8) * sr)
        tt = np.arange(n) / sr
        kind = rng.integers(3)
        if kind == 2:
            sound = rng.standard_normal(n) * np.exp(-tt / rng.uniform(0.02, 0.2))
        else:
            f0 = np.full(n, 440.0 * 2 ** ((rng.integers(28, 84) - 69) / 12))
            sound = _harmonic(f0, sr=sr, n_partials=8, tilt=1.0) * np.minimum(1.0, tt / rng.uniform(0.002, 0.05))
            sound *= np.exp(-tt / 0.3) if kind == 1 else np.minimum(1.0, (tt[-1] - tt) / 0.02)
        i = int(t * sr)
        out[i : i + n] += rng.uniform(0.2, 0.9) * sound / max(1e-9, np.max(np.abs(sound)))
        t += n / sr + rng.uniform(0.1, 0.4)
    return out.astype(np.float32)


# ------------------------------------------------------------------ rows


def bench_remix_analysis(rows: list[Row]) -> None:
    """Pitch analysis speed (3-min stem) and accuracy against pyin; grain library speed (60 s)."""
    bench_pitch_speed(rows)
    bench_pitch_accuracy(rows)
    bench_grain_library(rows)


def _median_time(run: Callable[[], object], *, repeats: int = 3) -> float:
    """Median wall time of ``repeats`` calls, after one call that warms the caches."""
    run()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return float(np.median(times))


def bench_pitch_speed(rows: list[Row], *, duration_s: float = 180.0, pyin_s: float = 30.0) -> None:
    """Our tracker on a 3-min stem (median of 3, warm) against pyin on its first ``pyin_s``
    seconds, scaled to the whole (pyin's time is linear in the length: it frames the signal
    and runs one Viterbi pass; 3 min of it would take over a minute of the run)."""
    import librosa

    from model.pipelines.remix.pitch import pitch_track

    audio = stem(duration_s=duration_s)
    ours_s = _median_time(lambda: pitch_track(audio=audio, sr=SR, fmin_hz=FMIN_HZ, fmax_hz=FMAX_HZ))
    head = librosa.resample(audio[: int(pyin_s * SR)], orig_sr=SR, target_sr=PYIN_SR)
    librosa.pyin(head[:PYIN_SR], fmin=FMIN_HZ, fmax=FMAX_HZ, sr=PYIN_SR)  # its numba code compiled first
    started = time.perf_counter()
    librosa.pyin(head, fmin=FMIN_HZ, fmax=FMAX_HZ, sr=PYIN_SR)
    pyin_full_s = (time.perf_counter() - started) * duration_s / pyin_s
    print(f"  pitch: ours {ours_s:.2f} s, pyin {pyin_full_s:.1f} s for {duration_s:.0f} s", flush=True)
    rows.append(
        Row(
            f"Pitch analysis, {duration_s / 60:.0f}-min stem (generated, 44.1 kHz), C1-C7, warm (median of 3)",
            f"{ours_s:.2f} s",
            "≤ 3 s",
            f"librosa.pyin defaults {pyin_full_s:.0f} s (timed on {pyin_s:.0f} s, ×{duration_s / pyin_s:.0f})"
            f" · {pyin_full_s / ours_s:.0f}× slower",
            ours_s <= 3.0,
        )
    )


def bench_pitch_accuracy(rows: list[Row]) -> None:
    """Share of reference frames within 50 cents, ours and pyin's, over the generated set."""
    import librosa

    from model.pipelines.remix.pitch import pitch_track

    signals = pitch_set()
    ours = [0, 0]
    base = [0, 0]
    for signal in signals:
        track = pitch_track(audio=signal.audio, sr=SR, fmin_hz=FMIN_HZ, fmax_hz=FMAX_HZ)
        hits, ref = accuracy_counts(signal, times_s=track.times_s, f0_hz=track.f0_hz, sr=SR)
        y = librosa.resample(signal.audio, orig_sr=SR, target_sr=PYIN_SR)
        f0, _voiced, _probability = librosa.pyin(y, fmin=FMIN_HZ, fmax=FMAX_HZ, sr=PYIN_SR)
        b_hits, b_ref = accuracy_counts(signal, times_s=librosa.times_like(f0, sr=PYIN_SR), f0_hz=f0, sr=SR)
        print(f"  {signal.name}: ours {100 * hits / ref:.1f} %, pyin {100 * b_hits / b_ref:.1f} %", flush=True)
        ours = [ours[0] + hits, ours[1] + ref]
        base = [base[0] + b_hits, base[1] + b_ref]
    ours_pct, base_pct = 100 * ours[0] / ours[1], 100 * base[0] / base[1]
    duration_s = sum(signal.audio.size for signal in signals) / SR
    rows.append(
        Row(
            f"Pitch accuracy: voiced frames within 50 cents ({len(signals)} generated signals, {duration_s:.0f} s)",
            f"{ours_pct:.1f} %",
            "within 2 points of pyin",
            f"librosa.pyin defaults C1-C7 {base_pct:.1f} %",
            ours_pct >= base_pct - 2.0,
        )
    )


def _naive_library(audio: np.ndarray, *, sr: int) -> int:
    """The plain way: split, then librosa's feature calls once per grain (yin for the pitch,
    rms, spectral_centroid, mfcc); returns the grain count."""
    import librosa

    count = 0
    for start, end in librosa.effects.split(audio, top_db=20):
        grain = audio[start:end]
        if grain.size < 512:
            continue
        n_fft = min(4096, 1 << int(np.log2(grain.size)))  # two periods of C1 need 2699 samples
        librosa.yin(grain, fmin=max(FMIN_HZ, 2.01 * sr / n_fft), fmax=FMAX_HZ, sr=sr, frame_length=n_fft)
        librosa.feature.rms(y=grain, frame_length=n_fft)
        librosa.feature.spectral_centroid(y=grain, sr=sr, n_fft=n_fft)
        librosa.feature.mfcc(y=grain, sr=sr, n_mfcc=13, n_fft=n_fft)
        count += 1
    return count


def bench_grain_library(rows: list[Row], *, duration_s: float = 60.0) -> None:
    """grain_library_build on a generated 60-s style sound (median of 3, warm), against the
    naive per-grain librosa calls and an ffmpeg decode of the same sound as an MP3."""
    import tempfile
    from pathlib import Path

    import soundfile as sf

    from model.pipelines.media import decode_audio
    from model.pipelines.remix.grains import LIBRARY_SR, grain_library_build

    audio = style_sound(duration_s=duration_s, sr=LIBRARY_SR)
    library = grain_library_build(audio=audio, sr=LIBRARY_SR)
    ours_s = _median_time(lambda: grain_library_build(audio=audio, sr=LIBRARY_SR))
    started = time.perf_counter()
    naive_grains = _naive_library(audio, sr=LIBRARY_SR)
    naive_s = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as tmp:
        wav, mp3 = Path(tmp) / "style.wav", Path(tmp) / "style.mp3"
        sf.write(wav, audio, LIBRARY_SR)
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(wav), "-b:a", "192k", str(mp3)], check=True)
        started = time.perf_counter()
        decode_audio(path=mp3, sr=LIBRARY_SR, max_duration_s=duration_s + 1)
        decode_s = time.perf_counter() - started
    print(f"  grains: {library.n_grains} in {ours_s:.2f} s; naive {naive_grains} in {naive_s:.2f} s", flush=True)
    rows.append(
        Row(
            f"Grain library, {duration_s:.0f}-s style sound ({library.n_grains} grains), warm (median of 3)",
            f"{ours_s:.2f} s",
            "≤ 2 s",
            f"per-grain librosa calls (yin, rms, centroid, mfcc) {naive_s:.2f} s · ffmpeg decode {decode_s:.2f} s",
            ours_s <= 2.0,
        )
    )
