"""Remix rows: rhythm, pitch and loudness kept by the granular re-voicing, its speed and its memory.

The songs are the separation set (:mod:`bench.multitrack`, eight styles, cached in
``var/bench/songs/``); their *true* drums, bass and other stems are the originals, re-voiced with
the generated style sounds of :mod:`bench.remix.styles` (a drum kit, a plucked bass, a sung-like
tone; every pitch known) at the default settings. Scores are :mod:`bench.remix.metrics`; the
baselines run in the same pass: the seed's algorithm (:mod:`bench.remix.seed`: one untransposed
grain per onset, linear decay) for rhythm, loudness and speed, the same synthesis with pitch
mapping off for pitch. The seed places its grains on librosa's default onsets, the very
detector the rhythm score reads, so it re-finds them almost by construction: its rhythm figure is
a ceiling to compare with, not a bar to clear (it loses on pitch, sustained notes and loudness).
Speed is timed on a 3-min song (one of the set looped), in this process after the libraries are
built (a worker that has done a job), median of three; memory is the peak resident size of a
fresh process that re-voices a 10-min song and mixes it with every stem held at once
(:mod:`bench.remix.probe`). The rhythm, pitch and loudness rows are repeated on eight songs of
other seeds (100-107), which the synthesis was not tuned on.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time

import numpy as np

from bench.run.studio import CACHE
from bench.run.table import Row
from bench.stack import ROOT

N_SONGS = 8
#: The held-out songs' seeds start here (the tuned set is seeds 0-7).
HELD_OUT_FIRST_SEED = 100
SR = 44100


def bench_remix(rows: list[Row]) -> None:
    from bench.multitrack import render_set
    from bench.remix import libraries

    folders = render_set(n_songs=N_SONGS, out_dir=CACHE / "songs")
    libs = libraries()
    _quality_rows(rows, folders=folders, libs=libs, which="")
    # The same rows on songs the synthesis was never tuned on (other seeds of the same generator).
    held_out = render_set(n_songs=N_SONGS, out_dir=CACHE / "songs-held-out", first_seed=HELD_OUT_FIRST_SEED)
    _quality_rows(rows, folders=held_out, libs=libs, which="held out, ")
    _bench_speed(rows, folder=folders[0], libs=libs)
    _bench_memory(rows, folder=folders[0])


def _quality_rows(rows: list[Row], *, folders, libs, which: str) -> None:
    from bench.multitrack import load_song
    from bench.remix import REVOICED, seed_remix
    from bench.remix.metrics import envelope_correlation, onset_f1, pitch_errors, share_within
    from model.pipelines.remix.settings import RemixSettings
    from model.pipelines.remix.synth import remix_stem

    settings = RemixSettings()
    f1 = {(who, stem): [] for who in ("ours", "seed") for stem in REVOICED}
    corr = {(who, stem): [] for who in ("ours", "seed") for stem in REVOICED}
    cents = {(who, stem): [] for who in ("ours", "unmapped") for stem in ("bass", "other")}
    for folder in folders:
        song = load_song(folder)
        for stem in REVOICED:
            original = song[stem]
            ours = remix_stem(audio=original, sr=SR, library=libs[stem], settings=settings, kind=stem)
            seed = seed_remix(audio=original, sr=SR, library=libs[stem], grain_ms=settings.grain_ms)
            for who, revoiced in (("ours", ours), ("seed", seed)):
                f1[who, stem].append(onset_f1(original=original, revoiced=revoiced, sr=SR))
                corr[who, stem].append(envelope_correlation(original=original, revoiced=revoiced, sr=SR))
            if stem != "drums":
                unmapped = remix_stem(audio=original, sr=SR, library=libs[stem],
                                      settings=RemixSettings(pitch_mapping=False), kind=stem)  # fmt: skip
                for who, revoiced in (("ours", ours), ("unmapped", unmapped)):
                    cents[who, stem].append(pitch_errors(original=original, revoiced=revoiced, sr=SR, kind=stem))
        print(f"  {folder.name}: onset F1 " + ", ".join(f"{s} {f1['ours', s][-1]:.2f}" for s in REVOICED)
              + " · r " + ", ".join(f"{s} {corr['ours', s][-1]:.2f}" for s in REVOICED), flush=True)  # fmt: skip

    for stem in REVOICED:
        ours, seed = np.mean(f1["ours", stem]), np.mean(f1["seed", stem])
        rows.append(
            Row(
                f"Remix rhythm: onset F1 (±50 ms) original vs re-voiced {stem} ({which}{len(folders)} songs, mean)",
                f"{ours:.3f} (worst song {np.min(f1['ours', stem]):.2f})",
                "≥ 0.9" if stem != "other" else "info",
                f"seed algorithm {seed:.3f}",
                bool(ours >= 0.9) if stem != "other" else None,
            )
        )
    for stem in ("bass", "other"):
        ours, off = np.concatenate(cents["ours", stem]), np.concatenate(cents["unmapped", stem])
        median, within = float(np.median(ours)), share_within(ours, 50)
        rows.append(
            Row(
                f"Remix pitch: {stem} re-voiced, cents from the original's pitch ({which}{ours.size} voiced frames)",
                f"median {median:.1f} c, {100 * within:.1f} % within 50 c",
                "median ≤ 50 c, ≥ 85 % within 50 c",
                f"pitch mapping off: median {np.median(off):.0f} c, {100 * share_within(off, 50):.1f} % within 50 c",
                median <= 50 and within >= 0.85,
            )
        )
    means = {who: {stem: float(np.nanmean(corr[who, stem])) for stem in REVOICED} for who in ("ours", "seed")}
    rows.append(
        Row(
            f"Remix loudness: correlation of 50 ms RMS envelopes, original vs re-voiced ({which}mean of songs)",
            " · ".join(f"{stem} {means['ours'][stem]:.3f}" for stem in REVOICED),
            "≥ 0.8 each",
            "seed algorithm " + " · ".join(f"{stem} {means['seed'][stem]:.3f}" for stem in REVOICED),
            min(means["ours"].values()) >= 0.8,
        )
    )


def _bench_speed(rows: list[Row], *, folder, libs) -> None:
    from bench.remix import REVOICED, long_stems, seed_remix
    from model.pipelines.remix.settings import RemixSettings
    from model.pipelines.remix.synth import remix_stem

    stems = long_stems(folder, duration_s=180.0, stems=REVOICED)

    def timed(remix) -> float:
        start = time.perf_counter()
        for stem in REVOICED:
            remix(stem)
        return time.perf_counter() - start

    def ours(stem: str) -> None:
        remix_stem(audio=stems[stem], sr=SR, library=libs[stem], settings=RemixSettings(), kind=stem)

    def seed(stem: str) -> None:
        seed_remix(audio=stems[stem], sr=SR, library=libs[stem])

    # Median of three: one run caught by another process's burst says little on two cores.
    figure = statistics.median(timed(ours) for _ in range(3))
    baseline = statistics.median(timed(seed) for _ in range(3))
    rows.append(
        Row(
            "Remix speed: a 3-min song's drums, bass and other re-voiced (analysis + synthesis, median of 3)",
            f"{figure:.1f} s",
            "≤ 10 s",
            f"seed algorithm on the same stems: {baseline:.1f} s",
            figure <= 10,
        )
    )


def _bench_memory(rows: list[Row], *, folder) -> None:
    def peak(mode: str) -> float:
        out = subprocess.run(
            [sys.executable, "-m", "bench.remix.probe", mode, str(folder), "600"],
            cwd=ROOT,
            env=dict(os.environ),
            capture_output=True,
            text=True,
            check=True,
        )
        return float(out.stdout.strip().splitlines()[-1]) * 1024  # bytes

    base, job = peak("load"), peak("remix")
    rows.append(
        Row(
            "Remix peak memory: a 10-min song, three stems re-voiced and mixed (fresh process)",
            f"{job / 1e9:.2f} GB",
            "≤ 2 GB",
            f"process that only builds the libraries and reads the stems: {base / 1e9:.2f} GB",
            job <= 2e9,
        )
    )
