"""``make bench``: each benchmark as a row — what, figure, goal, and a same-run baseline.

Everything runs against a throw-away var folder (database, broker, media), on the
embedded default, on this machine. Rendered test songs are cached in ``var/bench/``.
Ratios to a baseline measured in the same run hold on a noisy machine; absolute
times are what a user waits.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "var" / "bench"


@dataclass
class Row:
    what: str
    figure: str
    goal: str
    baseline: str
    met: bool | None

    @property
    def verdict(self) -> str:
        return {True: "met", False: "MISSED", None: "info"}[self.met]


def _table(rows: list[Row]) -> str:
    headers = ("benchmark", "figure", "goal", "baseline (same run)", "verdict")
    cells = [headers] + [(r.what, r.figure, r.goal, r.baseline, r.verdict) for r in rows]
    widths = [max(len(c[i]) for c in cells) for i in range(len(headers))]
    lines = ["| " + " | ".join(c[i].ljust(widths[i]) for i in range(len(headers))) + " |" for c in cells]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def _django(var_dir: Path) -> None:
    os.environ["ISOMIX_VAR_DIR"] = str(var_dir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "isomix.settings")
    os.environ.setdefault("ISOMIX_SEPARATION_ENGINE", "offline")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)


# ---------------------------------------------------------------- quality


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


# ---------------------------------------------------------------- the job, end to end


def _song_file(duration_s: float, *, fmt: str = "wav", bitrate: str = "192k") -> Path:
    import soundfile as sf

    from bench.multitrack import render_long_song

    path = CACHE / f"long-{int(duration_s)}s.{fmt}"
    if path.exists():
        return path
    audio = render_long_song(duration_s=duration_s, sr=44100, seed=1, workdir=CACHE / "work")
    if fmt in ("wav", "flac"):
        sf.write(str(path), audio.T, 44100, subtype="PCM_16")
        return path
    wav = path.with_suffix(".src.wav")
    sf.write(str(wav), audio.T, 44100, subtype="PCM_16")
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-i", str(wav), "-c:a", "libmp3lame", "-b:a", bitrate, str(path)], check=True
    )
    wav.unlink()
    return path


def _user(username: str):
    from django.contrib.auth import get_user_model

    user, created = get_user_model().objects.get_or_create(username=username)
    if created:
        user.set_password("bench-passphrase-42")
        user.save()
    return user


def _project_from_file(path: Path, owner):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from model.services import project_upload

    return project_upload(owner=owner, upload=SimpleUploadedFile(path.name, path.read_bytes()))


def _separate_timed(project) -> float:
    import dramatiq

    from domain.models import Job, Project
    from model.actors import separate_stems

    job = Job.objects.get(project=project, kind=Job.Kind.SEPARATE)
    start = time.perf_counter()
    separate_stems.fn(str(job.id))
    elapsed = time.perf_counter() - start
    dramatiq.get_broker().flush_all()
    status = Project.objects.get(id=project.id).status
    if status != Project.Status.READY:
        raise RuntimeError(f"separation ended {status}: {Job.objects.get(id=job.id).error}")
    return elapsed


def bench_speed(rows: list[Row], *, demucs: bool) -> object:
    from unittest import mock

    song = _song_file(180.0)
    owner = _user("bench")
    project = _project_from_file(song, owner)
    ours = _separate_timed(project)
    baseline = "htdemucs not run (--no-demucs)"
    if demucs:
        from bench.baselines import RandomWeightsDemucsEngine

        random_htdemucs = RandomWeightsDemucsEngine("htdemucs")
        other = _project_from_file(song, owner)
        with mock.patch("model.engines.get_engine", return_value=random_htdemucs):
            theirs = _separate_timed(other)
        baseline = f"htdemucs (random weights), same path: {theirs:.1f} s = {180 / theirs:.2f}× real time"
    rows.append(
        Row(
            "Separation job, 3-min song (decode → stems → previews, peaks)",
            f"{ours:.1f} s = {180 / ours:.1f}× real time",
            "≥ 10× (≤ 18 s)",
            baseline,
            ours <= 18,
        )
    )
    return project


def bench_dedup(rows: list[Row], project) -> None:
    from domain.models import Job

    song = _song_file(180.0)
    start = time.perf_counter()
    again = _project_from_file(song, project.owner)
    upload = time.perf_counter() - start
    separate = _separate_timed(again)
    assert Job.objects.get(project=again).stage == "reuse", "the second upload was separated again"
    first = Job.objects.get(project=project, kind=Job.Kind.SEPARATE).duration_s
    rows.append(
        Row(
            "Dedup: the same 3-min song uploaded again, ready",
            f"{upload + separate:.2f} s (upload {upload:.2f} s + stems copied {separate:.2f} s)",
            "≤ 2 s",
            f"first separation of it: {first:.1f} s",
            upload + separate <= 2.0,
        )
    )


def bench_recovery(rows: list[Row], var_dir: Path) -> None:
    """SIGKILL the embedded studio mid-separation, start it again, time until the job is done."""
    import signal

    song = _song_file(180.0)
    workdir = var_dir / "recovery"
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "ISOMIX_BROKER_URL")}
    env.update(ISOMIX_VAR_DIR=str(workdir), DJANGO_SETTINGS_MODULE="isomix.settings")

    def manage(*args: str) -> str:
        return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True,
                              text=True, check=True).stdout  # fmt: skip

    def start() -> subprocess.Popen:
        proc = subprocess.Popen(
            [sys.executable, "manage.py", "runstudio", "--port", "8781"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                _get("/health", token="")
                return proc
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("runstudio did not start")

    def _get(path: str, *, token: str) -> dict:
        import http.client
        import json

        conn = http.client.HTTPConnection("127.0.0.1", 8781, timeout=10)
        conn.request("GET", path, headers={"Authorization": f"Token {token}"} if token else {})
        return json.loads(conn.getresponse().read())

    def wait(path: str, token: str, pred, timeout_s: float) -> dict:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            body = _get(path, token=token)
            if pred(body):
                return body
            time.sleep(0.05)
        raise RuntimeError(f"timed out on {path}")

    workdir.mkdir(parents=True, exist_ok=True)
    manage("migrate", "--noinput")
    token = manage("shell", "-c", "from django.contrib.auth.models import User;"
                   "from rest_framework.authtoken.models import Token;"
                   "print(Token.objects.create(user=User.objects.create_user('r', password='x' * 20)).key)",
                   ).strip().splitlines()[-1]  # fmt: skip
    payload = song.read_bytes()
    results = {}
    for mode in ("clean", "killed"):
        proc = start()
        status, _ = _multipart_post("http://127.0.0.1:8781/api/v1/projects/", token=token, filename="song.wav",
                                    payload=payload[:-2] + bytes([mode == "killed", 1]))  # new sha each time
        assert status == 202, status
        project_id = _get("/api/v1/projects/?limit=1", token=token)["results"][0]["id"]
        path = f"/api/v1/projects/{project_id}/"
        wait(path, token, lambda b: b["jobs"][0]["state"] == "running" and b["jobs"][0]["progress"] >= 20, 120)
        started = time.perf_counter()
        if mode == "killed":
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            proc = start()
        wait(path, token, lambda b: b["status"] == "ready", 600)
        results[mode] = time.perf_counter() - started
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=15)
    rows.append(
        Row(
            "Recovery: studio SIGKILLed mid-separation → restarted → job done (embedded)",
            f"{results['killed']:.1f} s from the kill",
            "≤ 2 min + the job's own time",
            f"same job from the same point, not killed: {results['clean']:.1f} s",
            results["killed"] <= 120 + results["clean"] * 2,
        )
    )


def bench_memory(rows: list[Row], var_dir: Path) -> None:
    song = _song_file(600.0, fmt="flac")

    def peak(mode: str) -> float:
        env = {**os.environ, "ISOMIX_VAR_DIR": str(var_dir)}
        out = subprocess.run(
            [sys.executable, "-m", "bench.memory_probe", mode, str(song)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        return float(out.stdout.strip().splitlines()[-1]) / 1024  # MiB

    base = peak("decode")
    job = peak("separate")
    rows.append(
        Row(
            "Peak memory, separating a 10-min song (whole job)",
            f"{job / 1024:.2f} GiB",
            "≤ 3 GB",
            f"process that only loads the engine and decodes: {base / 1024:.2f} GiB",
            job * 1024 * 1024 <= 3e9,
        )
    )


def bench_export(rows: list[Row], project) -> None:
    from domain.selectors import stems_ordered
    from domain.services import storage_local_copy
    from model.actors import export_mix
    from model.services import export_start

    project.refresh_from_db()
    times = []
    for _ in range(3):
        export = export_start(
            project=project,
            fmt="mp3",
            mix={"master_gain_db": -1, "stems": {"vocals": {"gain_db": -3, "pan": -0.3}, "drums": {"mute": True}}},
        )
        start = time.perf_counter()
        export_mix.fn(str(export.job_id))
        times.append(time.perf_counter() - start)
    decode = []
    for _ in range(3):
        start = time.perf_counter()
        for stem in stems_ordered(project):
            with storage_local_copy(stem.file_key) as path:
                subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-f", "null", "-"], check=True)
        decode.append(time.perf_counter() - start)
    median = statistics.median(times)
    rows.append(
        Row(
            "Export render, 3-min 4-stem mix to MP3 (median of 3)",
            f"{median:.2f} s",
            "≤ 5 s",
            f"decoding the 4 stems alone: {statistics.median(decode):.2f} s",
            median <= 5,
        )
    )


# ---------------------------------------------------------------- over HTTP and in the browser


class _Server:
    def __init__(self, var_dir: Path, port: int) -> None:
        self.url = f"http://127.0.0.1:{port}"
        env = {**os.environ, "ISOMIX_VAR_DIR": str(var_dir)}
        self.log = open(var_dir / "server.log", "w")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [sys.executable, "manage.py", "runstudio", "--no-worker", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        import urllib.request

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(self.url + "/health", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        self.stop()
        raise RuntimeError("the server did not start; see server.log")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


def _multipart_post(url: str, *, token: str, filename: str, payload: bytes) -> tuple[int, float]:
    import http.client
    from urllib.parse import urlsplit

    boundary = "isomixbench7d1f"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        "Content-Type: audio/mpeg\r\n\r\n"
    ).encode()
    body = head + payload + f"\r\n--{boundary}--\r\n".encode()
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    start = time.perf_counter()
    conn.request(
        "POST",
        parts.path,
        body=body,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}", "Authorization": f"Token {token}"},
    )
    response = conn.getresponse()
    response.read()
    elapsed = time.perf_counter() - start
    conn.close()
    return response.status, elapsed


def bench_upload(rows: list[Row], server: _Server) -> None:
    import numpy as np
    from rest_framework.authtoken.models import Token

    song = _song_file(420.0, fmt="mp3", bitrate="192k")
    payload = song.read_bytes()
    token = Token.objects.get_or_create(user=_user("bench-upload"))[0].key
    junk = np.random.default_rng(0).integers(0, 256, len(payload), dtype=np.uint8).tobytes()
    ok, refused = [], []
    for _ in range(3):
        status, elapsed = _multipart_post(server.url + "/api/v1/projects/", token=token, filename="song.mp3",
                                          payload=payload)  # fmt: skip
        assert status == 202, status
        ok.append(elapsed)
        status, elapsed = _multipart_post(server.url + "/api/v1/projects/", token=token, filename="junk.mp3",
                                          payload=junk)  # fmt: skip
        assert status == 400, status
        refused.append(elapsed)
    median = statistics.median(ok)
    rows.append(
        Row(
            f"Upload of a {len(payload) / 1e6:.1f} MB MP3 answered 202 (median of 3)",
            f"{median * 1000:.0f} ms",
            "≤ 1 s",
            f"same-size junk refused: {statistics.median(refused) * 1000:.0f} ms",
            median <= 1.0,
        )
    )


def bench_mixer(rows: list[Row], server: _Server, project) -> None:
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from playwright.sync_api import sync_playwright

    owner = project.owner
    session = SessionStore()
    session[SESSION_KEY] = str(owner.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = owner.get_session_auth_hash()
    session.create()
    ready_times, library_times = [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path="/usr/bin/chromium",
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--autoplay-policy=no-user-gesture-required"],
        )  # fmt: skip
        for _ in range(3):
            context = browser.new_context()
            context.add_cookies(
                [{"name": settings.SESSION_COOKIE_NAME, "value": session.session_key, "url": server.url}]
            )
            page = context.new_page()
            start = time.perf_counter()
            page.goto(f"{server.url}/projects/{project.id}/", wait_until="commit")
            page.wait_for_selector('[data-mixer][data-state="ready"]', timeout=60_000, state="attached")
            ready_times.append(time.perf_counter() - start)
            start = time.perf_counter()
            page.goto(f"{server.url}/projects/", wait_until="load")
            library_times.append(time.perf_counter() - start)
            context.close()
        browser.close()
    median = statistics.median(ready_times)
    rows.append(
        Row(
            "Mixer ready (load → 4 stems decoded, playable), 3-min song, headless Chromium (median of 3)",
            f"{median:.2f} s",
            "≤ 3 s",
            f"library page load: {statistics.median(library_times):.2f} s",
            median <= 3.0,
        )
    )


ALL = ["quality", "speed", "dedup", "memory", "export", "upload", "mixer", "recovery", "polling", "websockets",
       "recovery-production"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--songs", type=int, default=8, help="songs in the quality set")
    parser.add_argument("--no-demucs", action="store_true", help="skip the htdemucs speed baseline")
    parser.add_argument(
        "--only", nargs="*", default=None, choices=ALL
    )
    args = parser.parse_args()
    only = set(args.only or ALL)
    CACHE.mkdir(parents=True, exist_ok=True)
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="isomix-bench-") as tmp:
        var_dir = Path(tmp)
        _django(var_dir)
        if "quality" in only:
            print("quality: separating the rendered multitrack set…", flush=True)
            bench_quality(rows, n_songs=args.songs)
        project = None
        if only & {"speed", "export", "mixer", "dedup"}:
            print("speed: separating a 3-min song through the job…", flush=True)
            project = bench_speed(rows, demucs=not args.no_demucs and "speed" in only)
        if "dedup" in only:
            print("dedup: uploading the same song again…", flush=True)
            bench_dedup(rows, project)
        if "memory" in only:
            print("memory: separating a 10-min song in a fresh process…", flush=True)
            bench_memory(rows, var_dir)
        if "export" in only:
            print("export: rendering the 3-min mix…", flush=True)
            bench_export(rows, project)
        if only & {"upload", "mixer"}:
            server = _Server(var_dir, port=8765)
            try:
                if "upload" in only:
                    print("upload: posting a 10 MB MP3 over HTTP…", flush=True)
                    bench_upload(rows, server)
                if "mixer" in only:
                    print("mixer: loading the mixer in headless Chromium…", flush=True)
                    bench_mixer(rows, server, project)
            finally:
                server.stop()
        if "recovery" in only:
            print("recovery: killing the studio mid-job…", flush=True)
            bench_recovery(rows, var_dir)
        if only & {"polling", "websockets", "recovery-production"}:
            from bench.production import Production, bench_polling, bench_websockets
            from bench.production import bench_recovery as bench_recovery_production

            print("production: PostgreSQL + Redis + daphne…", flush=True)
            prod = Production(var_dir / "production")
            try:
                if "polling" in only:
                    print("polling: 100 clients for 30 s…", flush=True)
                    bench_polling(rows, prod, Row)
                if "websockets" in only:
                    print("websockets: 200 subscribers…", flush=True)
                    bench_websockets(rows, prod, Row)
                if "recovery-production" in only:
                    print("recovery on the production stack: killing the gpu worker mid-job…", flush=True)
                    bench_recovery_production(rows, prod, Row, _song_file(180.0))
            finally:
                prod.close()
    print()
    print(_table(rows))


if __name__ == "__main__":
    main()
