"""``python -m bench.multitrack``: render a benchmark set and print what it holds."""

from __future__ import annotations

import json
from pathlib import Path

import bench.multitrack
from bench.multitrack.render import render_set


def main() -> None:
    """Render a set and print each song's plan and stem levels (``python -m``)."""
    import argparse
    import time

    parser = argparse.ArgumentParser(
        prog="python -m bench.multitrack", description=bench.multitrack.__doc__.splitlines()[0]
    )
    parser.add_argument("--out", type=Path, default=Path("var/bench"))
    parser.add_argument("--songs", type=int, default=8)
    parser.add_argument("--duration", type=float, default=30.0)
    args = parser.parse_args()
    began = time.perf_counter()
    folders = render_set(n_songs=args.songs, out_dir=args.out, duration_s=args.duration)
    print(f"{len(folders)} songs in {time.perf_counter() - began:.1f} s")
    for folder in folders:
        meta = json.loads((folder / "song.json").read_text())
        plan = meta["plan"]
        levels = "  ".join(f"{k} {v:6.1f}" for k, v in meta["rms_dbfs"].items())
        print(
            f"{folder.name} {plan['style']:<9} {plan['bpm']:5.0f} BPM {plan['mode']:<10}"
            f" {plan['voice']:<7} RMS dBFS: {levels}"
        )


if __name__ == "__main__":
    main()
