"""Run in a fresh process by ``bench.run`` (its memory row): prints the peak resident memory in KiB.

``separate``: the whole separation job on the given song (upload → stems).
``decode``: only what every job pays: Django, the engine loaded, the song decoded.
"""

from __future__ import annotations

import os
import resource
import sys
from pathlib import Path


def main() -> None:
    mode, song = sys.argv[1], Path(sys.argv[2])
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "isomix.settings")
    os.environ.setdefault("ISOMIX_SEPARATION_ENGINE", "offline")
    import django

    django.setup()
    from bench.run.studio import bench_user, project_from_file, separate_timed
    from domain.audio import audio_probe
    from model.engines import get_engine
    from model.pipelines.media import decode_audio

    if mode == "separate":
        project = project_from_file(song, bench_user("bench-memory"))
        separate_timed(project)
    else:
        get_engine("offline")
        info = audio_probe(path=song, max_duration_s=1200)
        decode_audio(path=song, sr=info.sample_rate, max_duration_s=1200)
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


if __name__ == "__main__":
    main()
