"""``make bench``: each benchmark as a row — what, figure, goal, and a same-run baseline.

Everything runs against a throw-away var folder (database, broker, media), on the
embedded default, on this machine. Rendered test songs are cached in ``var/bench/``.
Ratios to a baseline measured in the same run hold on a noisy machine; absolute
times are what a user waits.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from bench.run.billing import bench_quota_burst, bench_quota_overhead, bench_webhooks
from bench.run.gpu import bench_demucs_gpu
from bench.run.jobs import bench_dedup, bench_export, bench_memory, bench_recovery, bench_speed
from bench.run.karaoke import bench_beats, bench_karaoke_speed, bench_lyrics_alignment, bench_transcription
from bench.run.over_http import bench_mixer, bench_upload, studio_server
from bench.run.production import Production, bench_polling, bench_websockets
from bench.run.production import bench_recovery as bench_recovery_production
from bench.run.quality import bench_quality
from bench.run.realmusic import bench_real_music
from bench.run.studio import CACHE, django_setup, song_file
from bench.run.table import Row, table
from bench.run.web import bench_bodies

ALL = ["quality", "real-music", "speed", "dedup", "memory", "export", "quota", "webhooks", "upload", "mixer",
       "quota-burst", "recovery", "polling", "websockets", "recovery-production", "beats", "alignment", "transcription",
       "karaoke-speed", "remix-analysis", "remix"]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument("--songs", type=int, default=8, help="songs in the quality set")
    parser.add_argument("--no-demucs", action="store_true", help="skip the htdemucs speed rows (CPU baseline, GPU row)")
    parser.add_argument("--only", nargs="*", default=None, choices=ALL)
    args = parser.parse_args()
    only = set(args.only or ALL)
    CACHE.mkdir(parents=True, exist_ok=True)
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="isomix-bench-") as tmp:
        var_dir = Path(tmp)
        django_setup(var_dir)
        if "quality" in only:
            print("quality: separating the rendered multitrack set…", flush=True)
            bench_quality(rows, n_songs=args.songs)
        if "real-music" in only:
            print("real-music: separating the Frets on Fire songs (real guitar, real band)…", flush=True)
            bench_real_music(rows)
        if "beats" in only:
            print("beats: analysing the karaoke set (mix + separated drums)…", flush=True)
            bench_beats(rows)
        if "alignment" in only:
            print("alignment: pasted lyrics on the karaoke set's separated vocals…", flush=True)
            bench_lyrics_alignment(rows)
        if "transcription" in only:
            print("transcription: the karaoke set's separated vocals, and faster-whisper's defaults…", flush=True)
            bench_transcription(rows)
        if "karaoke-speed" in only:
            print("karaoke-speed: analysis, transcription and alignment of a 3-min song…", flush=True)
            bench_karaoke_speed(rows)
        if "remix-analysis" in only:
            from bench.run.remix_analysis import bench_remix_analysis

            print("remix-analysis: pitch tracking and grain libraries against librosa's pyin…", flush=True)
            bench_remix_analysis(rows)
        if "remix" in only:
            from bench.run.remix import bench_remix

            print("remix: re-voicing rendered songs' stems with generated style sounds…", flush=True)
            bench_remix(rows)
        project = None
        if only & {"speed", "export", "mixer", "dedup"}:
            print("speed: separating a 3-min song through the job…", flush=True)
            project = bench_speed(rows, demucs=not args.no_demucs and "speed" in only)
        if "speed" in only and not args.no_demucs:
            print("speed on the GPU: htdemucs through the job, where CUDA is present…", flush=True)
            bench_demucs_gpu(rows)
        if "dedup" in only:
            print("dedup: uploading the same song again…", flush=True)
            bench_dedup(rows, project)
        if "memory" in only:
            print("memory: separating a 10-min song in a fresh process…", flush=True)
            bench_memory(rows, var_dir)
        if "export" in only:
            print("export: rendering the 3-min mix…", flush=True)
            bench_export(rows, project)
        if "quota" in only:
            print("quota: timing quota_reserve and the upload with and without it…", flush=True)
            bench_quota_overhead(rows)
        if "webhooks" in only:
            print("webhooks: 500 signed Stripe events…", flush=True)
            bench_webhooks(rows)
        if only & {"upload", "mixer", "quota-burst"}:
            server = studio_server(var_dir)
            try:
                if "upload" in only:
                    print("upload: posting a 10 MB MP3 over HTTP…", flush=True)
                    bench_upload(rows, server)
                if "mixer" in only:
                    print("mixer: loading the mixer in headless Chromium…", flush=True)
                    bench_mixer(rows, server, project)
                if "quota-burst" in only:
                    print("quota-burst: 50 uploads at once against a limit of 10…", flush=True)
                    bench_quota_burst(rows, server)
            finally:
                server.close()
        if "recovery" in only:
            print("recovery: killing the studio mid-job…", flush=True)
            bench_recovery(rows, var_dir)
        if only & {"polling", "websockets", "recovery-production"}:
            print("production: PostgreSQL + Redis + the web processes as compose runs them…", flush=True)
            prod = Production(var_dir / "production")
            try:
                if "polling" in only:
                    print("polling: 50 clients for 30 s…", flush=True)
                    bench_polling(rows, prod)
                    print("web tier: a 95 MB upload, 150 MB bodies refused…", flush=True)
                    bench_bodies(rows, prod, song_dir=CACHE)
                if "websockets" in only:
                    print("websockets: 200 subscribers…", flush=True)
                    bench_websockets(rows, prod)
                if "recovery-production" in only:
                    print("recovery on the production stack: killing the gpu worker mid-job…", flush=True)
                    bench_recovery_production(rows, prod, song_file(180.0))
            finally:
                prod.close()
    print()
    print(table(rows))


if __name__ == "__main__":
    main()
