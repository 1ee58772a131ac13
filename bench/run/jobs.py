"""The separation and export jobs end to end on the embedded default: speed, dedup, memory, export, recovery."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench.run.studio import bench_user, engine_env, project_from_file, separate_timed, song_file
from bench.run.table import Row
from bench.stack import ROOT, Stack, multipart_post


def bench_speed(rows: list[Row], *, demucs: bool) -> object:
    from unittest import mock

    song = song_file(180.0)
    owner = bench_user("bench")
    project = project_from_file(song, owner)
    ours = separate_timed(project)
    baseline = "htdemucs not run (--no-demucs)"
    if demucs:
        from bench.baselines import RandomWeightsDemucsEngine

        random_htdemucs = RandomWeightsDemucsEngine("htdemucs")
        other = project_from_file(song, owner)
        with mock.patch("model.engines.get_engine", return_value=random_htdemucs):
            theirs = separate_timed(other)
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

    song = song_file(180.0)
    start = time.perf_counter()
    again = project_from_file(song, project.owner)
    upload = time.perf_counter() - start
    separate = separate_timed(again)
    shared = {s.file_key for s in again.stems.all()} == {s.file_key for s in project.stems.all()}
    assert shared, "the second upload was separated again"
    first = Job.objects.get(project=project, kind=Job.Kind.SEPARATE).duration_s
    rows.append(
        Row(
            "Dedup: the same 3-min song uploaded again by its owner, ready",
            f"{upload + separate:.2f} s (upload {upload:.2f} s + stems shared {separate:.2f} s)",
            "≤ 2 s",
            f"first separation of it: {first:.1f} s",
            upload + separate <= 2.0,
        )
    )


def bench_recovery(rows: list[Row], var_dir: Path) -> None:
    """SIGKILL the embedded studio mid-separation, start it again, time until the job is done."""
    song = song_file(180.0)

    def wait(stack: Stack, project_id: str, pred, timeout_s: float) -> dict:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            body = stack.project(project_id)
            if pred(body):
                return body
            time.sleep(0.05)
        raise RuntimeError(f"timed out on project {project_id}")

    stack = Stack(var_dir / "recovery", embedded=True, **engine_env())
    try:
        payload = song.read_bytes()
        results = {}
        for mode in ("clean", "killed"):
            if stack.web.poll() is not None:  # stopped at the end of the previous mode
                stack.web = stack.start_web()
            fresh = payload[:-2] + bytes([mode == "killed", 1])  # a new sha each time: no dedup
            status, _ = multipart_post(f"{stack.url}/api/v1/projects/", token=stack.token, filename="song.wav",
                                       payload=fresh)  # fmt: skip
            assert status == 202, status
            project_id = stack.api("GET", "/api/v1/projects/?limit=1")["results"][0]["id"]
            wait(stack, project_id, lambda b: b["jobs"][0]["state"] == "running" and b["jobs"][0]["progress"] >= 20,
                 120)  # fmt: skip
            started = time.perf_counter()
            if mode == "killed":
                stack.kill(stack.web)
                stack.web = stack.start_web()
            wait(stack, project_id, lambda b: b["status"] == "ready", 600)
            results[mode] = time.perf_counter() - started
            stack.stop(stack.web, timeout_s=15)
    finally:
        stack.close()
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
    song = song_file(600.0, fmt="flac")

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
    from domain.mix import MixSettings
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
            mix=MixSettings.from_json(
                {"master_gain_db": -1, "stems": {"vocals": {"gain_db": -3, "pan": -0.3}, "drums": {"mute": True}}}
            ),
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
