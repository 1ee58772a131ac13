"""Run in a fresh process by the remix memory row: prints the peak resident memory in KiB.

``python -m bench.remix.probe MODE SONG_FOLDER DURATION_S``

``remix``: what a remix job holds, one stem at a time as the job works: the three grain libraries,
then each of drums, bass and other looped to ``DURATION_S`` and re-voiced (its re-voicing kept,
the original let go), then the vocals and the mixdown of all four.
``load``: only what every remix pays: the libraries built and the stems read, one at a time.
"""

from __future__ import annotations

import gc
import resource
import sys
from pathlib import Path


def main() -> None:
    mode, folder, duration_s = sys.argv[1], Path(sys.argv[2]), float(sys.argv[3])
    from bench.remix import REVOICED, libraries, long_stems
    from model.pipelines.remix.mixdown import remix_mixdown
    from model.pipelines.remix.settings import RemixSettings
    from model.pipelines.remix.synth import remix_stem

    libs = libraries()
    done = {}
    for stem in REVOICED:
        audio = long_stems(folder, duration_s=duration_s, stems=(stem,))[stem]
        if mode == "remix":
            done[stem] = remix_stem(audio=audio, sr=44100, library=libs[stem], settings=RemixSettings(), kind=stem)
        del audio
        gc.collect()
    vocals = long_stems(folder, duration_s=duration_s, stems=("vocals",))["vocals"]
    if mode == "remix":
        remix_mixdown(stems={"vocals": vocals, **done}, gains_db={}, sr=44100)
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


if __name__ == "__main__":
    main()
