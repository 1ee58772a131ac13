"""Real music: how much of a real band's guitar the offline engine keeps in "other".

The songs are Debian's Frets on Fire packages (:mod:`bench.realmusic`, fetched once into
``var/bench/fretsonfire/``): each is an isolated guitar part and the rest of the band, whose sum
is separated. The figure is the share of the guitar's energy that lands outside "other"
(:func:`bench.realmusic.guitar_shares`), on the four songs the separator is tuned on and,
informative only, on the packages' four others. Two baselines run in the same pass: today's
engine (``OfflineEngine(legacy=True)``, the first release's accompaniment split) and "other =
everything but vocals" (the mixture minus the new engine's vocals: it keeps the guitar but has no
drums or bass, so it is the floor that the vocals' leakage alone sets). Each song also prints the
shares per stem and, for a listen beside it, each stem's RMS and share of the mix's energy.
"""

from __future__ import annotations

import subprocess

import numpy as np

from bench.run.studio import CACHE
from bench.run.table import Row

SR = 44100
STEMS = ("vocals", "drums", "bass", "other")
#: Guitar outside "other": the goal on the mean of the songs, and on each song.
GOAL_MEAN = 0.15
GOAL_EACH = 0.25
GOAL = "≤ 15 % mean, ≤ 25 % each"
#: Who is scored on each song: the new engine and the two baselines.
WHO = ("ours", "today", "all-but-vocals")


def bench_real_music(rows: list[Row]) -> None:
    from bench.realmusic import HELD_OUT_SONGS, TUNING_SONGS, fetch, song_folder
    from model.engines import get_engine
    from model.engines.offline import OfflineEngine

    try:
        songs = fetch(CACHE)
    except (RuntimeError, subprocess.CalledProcessError) as exc:
        # No songs is a missed measurement, not a crash that takes the other rows with it.
        for which, chosen in (("tuning", TUNING_SONGS), ("held out", HELD_OUT_SONGS)):
            met = False if which == "tuning" else None
            rows.append(Row(_what(which, len(chosen)), f"not run: {exc}", GOAL, "not run", met))
        return
    engines = {"ours": get_engine("offline"), "today": OfflineEngine(legacy=True)}
    guitar_rows, level_rows = [], []
    for which, chosen in (("tuning", TUNING_SONGS), ("held out", HELD_OUT_SONGS)):
        print(f"  {which}:", flush=True)
        outside: dict[str, list[float]] = {who: [] for who in WHO}
        levels: list[dict[str, tuple[float, float]]] = []
        for package, prefix in chosen:
            song_outside, song_levels = _score_song(song_folder(songs, package, prefix), engines=engines)
            for who in WHO:
                outside[who].append(song_outside[who])
            levels.append(song_levels)
        mean = {who: float(np.mean(v)) for who, v in outside.items()}
        worst = max(outside["ours"])
        guitar_rows.append(
            Row(
                _what(which, len(chosen)),
                f"{100 * mean['ours']:.1f} % (worst song {100 * worst:.1f} %)",
                GOAL,
                f"today's engine {100 * mean['today']:.1f} % · "
                f"other=all-but-vocals {100 * mean['all-but-vocals']:.1f} %",
                # The held-out songs say whether the tuning generalises; they are not a bar to clear.
                bool(mean["ours"] <= GOAL_MEAN and worst <= GOAL_EACH) if which == "tuning" else None,
            )
        )
        level_rows.append(
            Row(
                f"Stems of real songs, RMS and share of the mix's energy ({len(chosen)} {which}, mean)",
                " · ".join(
                    f"{stem} {np.mean([lv[stem][0] for lv in levels]):.1f} dBFS "
                    f"{100 * np.mean([lv[stem][1] for lv in levels]):.0f} %"
                    for stem in STEMS
                ),
                "info",
                f"mix {np.mean([lv['mix'][0] for lv in levels]):.1f} dBFS",
                None,
            )
        )
    # The tuning and held-out figures side by side, then the levels.
    rows.extend(guitar_rows + level_rows)


def _what(which: str, n_songs: int) -> str:
    return f'Guitar outside "other", real songs ({n_songs} {which})'


def _score_song(folder, *, engines: dict) -> tuple[dict[str, float], dict[str, tuple[float, float]]]:
    """The guitar's share outside "other" per :data:`WHO`, and the new engine's stems' levels (and the mix's)."""
    from bench.realmusic import guitar_shares, listen_proxy, load_song

    song = load_song(folder)
    mixture = song["mixture"]
    separated = {who: engine.separate(mixture, sr=SR) for who, engine in engines.items()}
    vocals = separated["ours"]["vocals"]
    separated["all-but-vocals"] = {"vocals": vocals, "other": mixture - vocals}
    shares = {
        who: guitar_shares(guitar=song["guitar"], rest=song["rest"], stems=stems) for who, stems in separated.items()
    }
    levels = listen_proxy({**separated["ours"], "mix": mixture}, mixture=mixture)
    outside = {who: 1.0 - shares[who]["other"] for who in WHO}
    ours, pct = shares["ours"], {who: f"{100 * v:.1f} %" for who, v in outside.items()}
    print(
        f"    {folder.name}: guitar outside other {pct['ours']} ("
        + ", ".join(f"{stem} {100 * ours[stem]:.1f}" for stem in STEMS if stem != "other")
        + f" %) · today's engine {pct['today']} · all-but-vocals {pct['all-but-vocals']}",
        flush=True,
    )
    print(
        "      listen: "
        + ", ".join(f"{stem} {levels[stem][0]:.1f} dBFS {100 * levels[stem][1]:.0f} %" for stem in STEMS)
        + f" (mix {levels['mix'][0]:.1f} dBFS)",
        flush=True,
    )
    return outside, levels
