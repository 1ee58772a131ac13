"""Train the accompaniment mask network (:mod:`model.pipelines.separation.net`).

``python -m bench.accompaniment_net prepare`` renders the training songs and runs
Spleeter on them (cached under ``var/bench/accompaniment_net/``);
``python -m bench.accompaniment_net train`` trains and writes
``model/pipelines/separation/weights/accompaniment_net.npz`` and prints its SHA-256.

Data: rendered songs (:func:`bench.multitrack.render_song`, seeds :data:`SEEDS`,
30 s each; never the benchmark's seeds 0-7 or the tuning seeds 100-115) with
exact stems, and the Frets on Fire *tuning* songs (never the held-out ones) whose
guitar is "other" and whose rest of the band is labelled by the DSP split.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

CACHE = Path("var/bench/accompaniment_net")
OUT = Path("model/pipelines/separation/weights/accompaniment_net.npz")
SEEDS = (*range(200, 248), *range(255, 312, 8))
"""48 consecutive seeds (six per style) and eight more punk songs (overdrive / distortion guitar)."""
SR = 44100
N_FFT, HOP = 4096, 1024
CHANNELS = 160
LAYERS = 4
PATCH_FRAMES = 128
BATCH = 16
STEPS = 1400
REAL_SHARE = 0.4
"""Share of the training patches drawn from the Frets on Fire songs."""


def _accompaniment(mix: np.ndarray) -> np.ndarray:
    """Spleeter's accompaniment of ``mix``, as the offline engine computes it."""
    import model.pipelines.separation as sep
    from model.engines.offline import OfflineEngine

    def no_split(acc: np.ndarray, *, sr: int, **_: object) -> dict[str, np.ndarray]:
        zero = np.zeros_like(acc)
        return {"drums": zero, "bass": zero, "other": acc}

    keep = sep.split_accompaniment
    sep.split_accompaniment = no_split
    try:
        vocals = OfflineEngine(legacy=True).separate(mix, sr=SR)["vocals"]
    finally:
        sep.split_accompaniment = keep
    return (mix - vocals).astype(np.float32)


def prepare() -> None:
    import bench.realmusic as rm
    from bench.multitrack import render_song
    from model.pipelines.separation.accompaniment import split_accompaniment

    CACHE.mkdir(parents=True, exist_ok=True)
    songs = rm.fetch(Path("var/bench"))
    for package, name in rm.TUNING_SONGS:
        path = CACHE / f"fof_{name}.npz"
        if path.exists():
            continue
        song = rm.load_song(rm.song_folder(songs, package, name))
        split = split_accompaniment(_accompaniment(song["rest"]), sr=SR, method="dsp")
        stems = {"drums": split["drums"], "bass": split["bass"], "other": split["other"] + song["guitar"]}
        _save(path, acc=_accompaniment(song["mixture"]), **stems)
    for seed in SEEDS:
        path = CACHE / f"r_{seed}.npz"
        if not path.exists():
            song = render_song(seed=seed, duration_s=30.0, sr=SR, workdir=CACHE / "work")
            _save(
                path, acc=_accompaniment(song["mixture"]), drums=song["drums"], bass=song["bass"], other=song["other"]
            )


def _save(path: Path, **audio: np.ndarray) -> None:
    np.savez(path, **{k: v.astype(np.float16) for k, v in audio.items()})


def song_arrays(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Features (C, T, bands), target masks (2, 3, T, bands) and loss weights (2, T, bands) of one song."""
    from model.pipelines.separation.accompaniment import DEFAULT_PARAMS, _accompaniment_masks
    from model.pipelines.separation.net import _pool, band_weights, features
    from model.pipelines.separation.stft import stft

    data = np.load(path)
    bands = band_weights(n_bins=N_FFT // 2 + 1, bin_hz=SR / N_FFT)

    def mid_side_mag(x: np.ndarray) -> np.ndarray:
        spec = stft(x.astype(np.float32), n_fft=N_FFT, hop=HOP)
        return np.abs(np.stack([spec[0] + spec[1], spec[0] - spec[1]]) * np.float32(0.5))

    acc = data["acc"].astype(np.float32)
    spec = stft(acc, n_fft=N_FFT, hop=HOP)
    drums, bass = _accompaniment_masks(np.abs(spec).mean(axis=0), sr=SR, n_fft=N_FFT, hop=HOP, params=DEFAULT_PARAMS)
    ms = mid_side_mag(acc)
    x = features(ms, dsp_drums=drums, dsp_bass=bass, weights=bands)
    stems = np.stack([_pool(mid_side_mag(data[k]), bands) for k in ("drums", "bass", "other")], axis=1)
    total = stems.sum(axis=1, keepdims=True)
    target = np.where(total > 0, stems / np.maximum(total, 1e-12), 1 / 3).astype(np.float32)
    pooled = _pool(ms, bands)
    weight = (pooled / (pooled[0].mean() + 1e-8)).astype(np.float32)
    return x.transpose(0, 2, 1).copy(), target.transpose(0, 1, 3, 2).copy(), weight.transpose(0, 2, 1).copy()


def _cached_arrays(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    feat = CACHE / "features" / path.name
    if not feat.exists():
        feat.parent.mkdir(exist_ok=True)
        x, t, w = song_arrays(path)
        np.savez(feat, x=x, t=t, w=w)
    with np.load(feat) as data:
        return data["x"], data["t"], data["w"]


def train() -> None:
    import torch

    from model.pipelines.separation.net import N_BANDS, N_FEATURES, forward

    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    t0 = time.time()
    real = [_cached_arrays(p) for p in sorted(CACHE.glob("fof_*.npz"))]
    rendered = [_cached_arrays(p) for p in sorted(CACHE.glob("r_*.npz"))]
    print(f"features: {len(real)} real, {len(rendered)} rendered songs, {time.time() - t0:.0f} s", flush=True)

    def conv(c_out: int, c_in: int, k: int, scale: float = 1.0) -> torch.nn.Parameter:
        return torch.nn.Parameter(torch.randn(c_out, c_in, k) * (scale * (2.0 / (c_in * k)) ** 0.5))

    def zeros(n: int) -> torch.nn.Parameter:
        return torch.nn.Parameter(torch.zeros(n))

    n_in = N_FEATURES * N_BANDS
    params = {"inp.w": conv(CHANNELS, n_in, 1), "inp.b": zeros(CHANNELS)}
    for i in range(LAYERS):
        params[f"res{i}.w"] = conv(CHANNELS, CHANNELS, 3, 0.3)
        params[f"res{i}.b"] = zeros(CHANNELS)
    params["out.w"] = conv(6 * N_BANDS, CHANNELS, 1, 0.05)
    params["out.b"] = zeros(6 * N_BANDS)
    opt = torch.optim.Adam(params.values(), lr=2e-3)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=STEPS, pct_start=0.1)

    def batch() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        xs, ts, ws = [], [], []
        for _ in range(BATCH):
            pool = real if rng.random() < REAL_SHARE else rendered
            x, t, w = pool[rng.integers(len(pool))]
            start = rng.integers(0, x.shape[-1] - PATCH_FRAMES)
            sl = slice(start, start + PATCH_FRAMES)
            x = x[..., sl].copy()
            x[:2] += rng.uniform(-0.5, 0.5)  # loudness the chunk normalisation did not remove
            xs.append(x)
            ts.append(t[..., sl])
            ws.append(w[..., sl])
        return (torch.from_numpy(np.stack(xs)), torch.from_numpy(np.stack(ts)), torch.from_numpy(np.stack(ws)))

    running = None
    for step in range(STEPS):
        x, target, weight = batch()
        probs = torch.softmax(forward(params, x), dim=2)
        loss = (weight[:, :, None] * (probs - target) ** 2).sum() / weight.sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        running = loss.item() if running is None else 0.98 * running + 0.02 * loss.item()
        if step % 50 == 0 or step == STEPS - 1:
            print(f"step {step} loss {running:.4f} {time.time() - t0:.0f} s", flush=True)
        if step % 200 == 199 or step == STEPS - 1:
            OUT.parent.mkdir(parents=True, exist_ok=True)
            np.savez(OUT, **{k: v.detach().numpy().astype(np.float32) for k, v in params.items()})
    import hashlib

    print("sha256", hashlib.sha256(OUT.read_bytes()).hexdigest(), f"{OUT.stat().st_size} bytes", flush=True)
    print(f"trained {STEPS} steps in {time.time() - t0:.0f} s, final loss {running:.4f}")


if __name__ == "__main__":
    {"prepare": prepare, "train": train}[sys.argv[1]]()
