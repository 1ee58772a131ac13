"""Separation quality: SDR of the offline engine's stems on the rendered multitrack set, with two baselines."""

from __future__ import annotations

from bench.run.studio import CACHE
from bench.run.table import Row


def bench_quality(rows: list[Row], *, n_songs: int) -> None:
    import numpy as np

    from bench.baselines import hpss_baseline
    from bench.metrics import median_sdr
    from bench.multitrack import STEMS, load_song, render_set
    from model.engines import get_engine

    folders = render_set(n_songs=n_songs, out_dir=CACHE / "songs")
    engine = get_engine("offline")
    scores: dict[str, dict[str, list[float]]] = {name: {s: [] for s in STEMS} for name in ("ours", "mix", "hpss")}
    for folder in folders:
        song = load_song(folder)
        mixture = song["mixture"]
        ours = engine.separate(mixture, sr=44100)
        hpss = hpss_baseline(mixture, sr=44100)
        for stem in STEMS:
            ref = song[stem]
            scores["ours"][stem].append(median_sdr(reference=ref, estimate=ours[stem], sr=44100))
            scores["mix"][stem].append(median_sdr(reference=ref, estimate=mixture, sr=44100))
            scores["hpss"][stem].append(median_sdr(reference=ref, estimate=hpss[stem], sr=44100))
        print(f"  {folder.name}: " + ", ".join(f"{s} {scores['ours'][s][-1]:.1f}" for s in STEMS), flush=True)
    # MUSDB convention: median over 1 s frames per song, then median over songs.
    summary = {name: {s: float(np.nanmedian(v)) for s, v in per.items()} for name, per in scores.items()}
    for stem in STEMS:
        rows.append(
            Row(
                f"SDR {stem}, offline engine ({len(folders)} songs)",
                f"{summary['ours'][stem]:.2f} dB",
                "≥ 5 dB",
                f"mixture {summary['mix'][stem]:.2f} dB · HPSS {summary['hpss'][stem]:.2f} dB",
                summary["ours"][stem] >= 5,
            )
        )
    mean = {name: float(np.mean(list(per.values()))) for name, per in summary.items()}
    rows.append(
        Row(
            "SDR mean of 4 stems, offline engine",
            f"{mean['ours']:.2f} dB",
            "≥ 7 dB",
            f"mixture {mean['mix']:.2f} dB · HPSS {mean['hpss']:.2f} dB",
            mean["ours"] >= 7,
        )
    )
