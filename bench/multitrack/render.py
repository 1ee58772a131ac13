"""The public entry points: one song, a cached benchmark set, a long mixture.

:func:`render_song` renders a song and its stems; :func:`render_set` renders (or
reuses) a set of them as WAV folders that :func:`load_song` reads back;
:func:`render_long_song` loops one song into a long mixture for speed and memory
benchmarks.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import asdict
from pathlib import Path

import numpy as np
import soundfile as sf

from bench.multitrack.midi import MIX_PEAK, balance, render_raw
from bench.multitrack.plan import STEMS, plan_song

# Bump when anything that changes the rendered audio changes: it invalidates caches.
GENERATOR_VERSION = 1

_FADE_OUT_S = 1.0


def render_song(*, seed: int, duration_s: float = 30.0, sr: int = 44100, workdir: Path) -> dict[str, np.ndarray]:
    """Render one song and its stems.

    Parameters
    ----------
    seed : int
        Song seed (see :func:`plan_song`); the audio is a pure function of the
        arguments other than ``workdir``.
    duration_s : float
        Length in seconds; the last second fades out (all stems alike).
    sr : int
        Sample rate in Hz.
    workdir : Path
        Folder for the intermediate MIDI and WAV files (created if missing).

    Returns
    -------
    dict of str -> np.ndarray, shape (2, n), float32
        ``vocals``, ``drums``, ``bass``, ``other`` and ``mixture``, with
        ``n = round(duration_s * sr)``. The mixture is the sum of the four stems
        (to float32 rounding) and peaks at -1 dBFS.
    """
    n = int(round(duration_s * sr))
    plan = plan_song(seed=seed, duration_s=duration_s)
    stems = balance(render_raw(plan, n=n, sr=sr, workdir=Path(workdir)), rng=np.random.default_rng([seed, 5]))
    fade = np.ones(n)
    fade_n = min(int(_FADE_OUT_S * sr), n)
    fade[n - fade_n :] = np.linspace(1, 0, fade_n) ** 2
    out = {stem: (audio * fade).astype(np.float32) for stem, audio in stems.items()}
    out["mixture"] = np.sum([out[stem] for stem in STEMS], axis=0, dtype=np.float32)
    return out


def _meta(*, seed: int, duration_s: float, sr: int) -> dict:
    plan = plan_song(seed=seed, duration_s=duration_s)
    return {
        "generator_version": GENERATOR_VERSION,
        "seed": seed,
        "duration_s": duration_s,
        "sr": sr,
        "plan": asdict(plan),
    }


def render_set(
    *,
    n_songs: int = 8,
    out_dir: Path,
    duration_s: float = 30.0,
    sr: int = 44100,
    first_seed: int = 0,
) -> list[Path]:
    """Render (or reuse) a benchmark set: one folder of WAV files per song.

    Song ``i`` has seed ``first_seed + i``; eight consecutive seeds cover the eight
    styles. Each folder ``out_dir/song{i:02d}`` holds ``vocals.wav``, ``drums.wav``,
    ``bass.wav``, ``other.wav`` and ``mixture.wav`` (stereo, 32-bit float, so that the
    stems still sum to the mixture) and ``song.json`` (seed, plan, levels). A folder
    whose ``song.json`` matches the arguments and :data:`GENERATOR_VERSION` is reused;
    a new one is written whole in a temporary folder and then renamed into place.

    Parameters
    ----------
    n_songs : int
        Number of songs.
    out_dir : Path
        Cache folder (the benchmark uses ``var/bench/``).
    duration_s : float
        Length of each song in seconds.
    sr : int
        Sample rate in Hz.
    first_seed : int
        Seed of the first song.

    Returns
    -------
    list of Path
        The song folders, in seed order; read one with :func:`load_song`.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    folders = []
    for i in range(n_songs):
        seed = first_seed + i
        folder = out_dir / f"song{i:02d}"
        meta = _meta(seed=seed, duration_s=duration_s, sr=sr)
        folders.append(folder)
        try:
            cached = json.loads((folder / "song.json").read_text())
            if {k: cached.get(k) for k in meta} == json.loads(json.dumps(meta)) and all(
                (folder / f"{name}.wav").exists() for name in (*STEMS, "mixture")
            ):
                continue
        except (OSError, ValueError):
            pass
        with tempfile.TemporaryDirectory(dir=out_dir, prefix=".render-") as tmp:
            staging = Path(tmp) / "song"
            staging.mkdir()
            audio = render_song(seed=seed, duration_s=duration_s, sr=sr, workdir=Path(tmp) / "work")
            for name, stem in audio.items():
                sf.write(staging / f"{name}.wav", stem.T, sr, subtype="FLOAT")
            meta["rms_dbfs"] = {
                name: round(float(20 * np.log10(np.sqrt(np.mean(stem.astype(np.float64) ** 2)) + 1e-12)), 2)
                for name, stem in audio.items()
            }
            (staging / "song.json").write_text(json.dumps(meta, indent=2))
            if folder.exists():
                shutil.rmtree(folder)
            staging.rename(folder)
    return folders


def load_song(folder: Path) -> dict[str, np.ndarray]:
    """Read a folder written by :func:`render_set`: name -> float32 array (2, n)."""
    return {
        name: sf.read(Path(folder) / f"{name}.wav", dtype="float32", always_2d=True)[0].T.copy()
        for name in (*STEMS, "mixture")
    }


def render_long_song(*, duration_s: float, sr: int = 44100, seed: int = 0, workdir: Path | None = None) -> np.ndarray:
    """Render a long mixture cheaply, for speed and memory benchmarks.

    One 30 s song is rendered, and a whole number of its bars is looped with
    variation: each pass changes every stem's gain by up to +-2 dB and, one pass in
    four, drops the drums or the vocal; passes join with 20 ms cross-fades on bar
    lines. The last second fades out.

    Parameters
    ----------
    duration_s : float
        Length in seconds (e.g. 180 or 600).
    sr : int
        Sample rate in Hz.
    seed : int
        Song seed.
    workdir : Path, optional
        Folder for intermediate files; a temporary one by default.

    Returns
    -------
    np.ndarray, shape (2, round(duration_s * sr)), float32
        The mixture, peak at most -1 dBFS.
    """
    if duration_s <= 0:
        raise ValueError("duration_s must be positive")
    plan = plan_song(seed=seed, duration_s=30.0)
    with tempfile.TemporaryDirectory() as tmp:
        stems = balance(
            render_raw(plan, n=30 * sr, sr=sr, workdir=Path(workdir or tmp)), rng=np.random.default_rng([seed, 5])
        )
    bar_n = int(round(4 * plan.beat_s * sr))
    xfade = int(0.02 * sr)
    loop_n = bar_n * ((30 * sr - xfade) // bar_n)
    n = int(round(duration_s * sr))
    out = np.zeros((2, n), dtype=np.float32)
    rng = np.random.default_rng([seed, 6])
    ramp = np.linspace(0, 1, xfade, dtype=np.float32)
    for k, offset in enumerate(range(0, n, loop_n)):
        gains = {stem: 10 ** (rng.uniform(-2, 2) / 20) for stem in STEMS}
        if k > 0 and k % 4 == 2:
            gains[str(rng.choice(("drums", "vocals")))] = 0.0
        length = min(loop_n + xfade, n - offset)
        segment = np.zeros((2, length), dtype=np.float32)
        for stem in STEMS:
            segment += (gains[stem] * stems[stem][:, :length]).astype(np.float32)
        if k > 0:
            segment[:, :xfade] *= ramp[: min(xfade, length)]
        if length == loop_n + xfade:
            segment[:, loop_n:] *= ramp[::-1]
        out[:, offset : offset + length] += segment
    fade_n = min(int(_FADE_OUT_S * sr), n)
    out[:, n - fade_n :] *= np.linspace(1, 0, fade_n, dtype=np.float32) ** 2
    peak = float(np.max(np.abs(out)))
    if peak > MIX_PEAK:
        out *= np.float32(MIX_PEAK / peak)
    return out
