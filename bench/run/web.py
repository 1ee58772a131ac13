"""Benchmarks of the web tier's request bodies: memory and time while uploads arrive or are refused.

Run against the production stack (``bench.run.production.Production``: the web processes as
compose runs them, on PostgreSQL and Redis). The server's memory is the resident set of
its whole process tree (the supervisor and every web process), sampled every 10 ms while
the body is sent; the baseline is the same tree idle, just before.

The client helpers (:func:`post_declared`, :func:`post_chunked`, :func:`process_tree_rss`)
are shared with ``tests/isomix/test_body_limit_server.py``.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import threading
import time
import wave
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bench.run.table import Row

if TYPE_CHECKING:
    from bench.run.production import Production

MB = 1_000_000
PIECE_BYTES = 64 * 1024
UPLOAD_PATH = "/api/v1/projects/"
LOGIN_PATH = "/accounts/login/"


# ---------------------------------------------------------------- server memory


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            found += [int(c) for c in task.read_text().split()]
        except OSError:  # the thread ended meanwhile
            continue
    return found


def process_tree_rss(pid: int) -> int:
    """Resident bytes of ``pid`` and all its descendants (0 for what has exited)."""
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        try:
            fields = Path(f"/proc/{current}/statm").read_text().split()
        except OSError:
            continue
        total += int(fields[1]) * os.sysconf("SC_PAGE_SIZE")
        todo += _children(current)
    return total


class RssPeak:
    """The highest :func:`process_tree_rss` seen while the ``with`` block runs."""

    def __init__(self, pid: int, *, every_s: float = 0.01) -> None:
        self.pid = pid
        self.every_s = every_s
        self.peak = 0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._done.is_set():
            self.peak = max(self.peak, process_tree_rss(self.pid))
            self._done.wait(self.every_s)

    def __enter__(self) -> RssPeak:
        self.peak = process_tree_rss(self.pid)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()
        self.peak = max(self.peak, process_tree_rss(self.pid))


# ---------------------------------------------------------------- hostile and honest clients


@dataclass(frozen=True)
class Answer:
    """What the server answered a POST, and when."""

    status: int
    body: dict
    #: From the end of the request headers to the first byte of the answer.
    after_s: float
    #: Body bytes the client got out before the answer (or before the server closed).
    sent_bytes: int


def _head(method: str, path: str, headers: dict[str, str]) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _send_until_refused(sock: socket.socket, pieces: Iterator[bytes], sent: list[int]) -> None:
    try:
        for piece in pieces:
            sock.sendall(piece)
            sent[0] += len(piece)
    except OSError:  # the server answered and closed: the cut-off being measured
        pass


def _post(port: int, path: str, headers: dict[str, str], pieces: Iterator[bytes] | None, timeout_s: float) -> Answer:
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout_s)
    sent = [0]
    sender = None
    try:
        sock.sendall(_head("POST", path, headers))
        start = time.perf_counter()
        if pieces is not None:
            sender = threading.Thread(target=_send_until_refused, args=(sock, pieces, sent), daemon=True)
            sender.start()
        response = http.client.HTTPResponse(sock)
        response.begin()
        after_s = time.perf_counter() - start
        raw = response.read()
        body = json.loads(raw) if raw.startswith(b"{") else {"raw": raw[:200].decode("latin-1")}
        return Answer(status=response.status, body=body, after_s=after_s, sent_bytes=sent[0])
    finally:
        sock.close()
        if sender is not None:
            sender.join(timeout=timeout_s)


def _zeros(total: int, *, chunked: bool) -> Iterator[bytes]:
    piece = b"\0" * PIECE_BYTES
    left = total
    while left > 0:
        data = piece[: min(left, PIECE_BYTES)]
        left -= len(data)
        yield (b"%x\r\n" % len(data) + data + b"\r\n") if chunked else data
    if chunked:
        yield b"0\r\n\r\n"


def post_declared(
    port: int,
    path: str,
    *,
    length: int,
    token: str = "",
    send_body: bool = True,
    expect_continue: bool = False,
    timeout_s: float = 30,
) -> Answer:
    """POST declaring ``length`` bytes: the headers, then (``send_body``) the body as fast as it is taken.

    ``expect_continue`` sends ``Expect: 100-continue``, as curl does for large bodies: the
    client then waits for the server's go-ahead (which a refusal never gives).
    """
    headers = {"Content-Length": str(length), "Content-Type": "multipart/form-data; boundary=isomixbench"}
    if expect_continue:
        headers["Expect"] = "100-continue"
    if token:
        headers["Authorization"] = f"Token {token}"
    return _post(port, path, headers, _zeros(length, chunked=False) if send_body else None, timeout_s)


def post_chunked(port: int, path: str, *, total_bytes: int, token: str = "", timeout_s: float = 60) -> Answer:
    """POST an undeclared (chunked) body of ``total_bytes``, sent as fast as it is taken."""
    headers = {"Transfer-Encoding": "chunked", "Content-Type": "multipart/form-data; boundary=isomixbench"}
    if token:
        headers["Authorization"] = f"Token {token}"
    return _post(port, path, headers, _zeros(total_bytes, chunked=True), timeout_s)


def post_upload(port: int, *, token: str, song: Path, timeout_s: float = 300) -> Answer:
    """A legitimate multipart upload of ``song``, streamed from disk (the client holds 64 KiB at a time)."""
    boundary = "isomixbench7d1f"
    head = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{song.name}"\r\n'
            "Content-Type: audio/wav\r\n\r\n").encode()  # fmt: skip
    tail = f"\r\n--{boundary}--\r\n".encode()

    def pieces() -> Iterator[bytes]:
        yield head
        with song.open("rb") as f:
            while data := f.read(PIECE_BYTES):
                yield data
        yield tail

    headers = {
        "Content-Length": str(len(head) + song.stat().st_size + len(tail)),
        "Content-Type": f"multipart/form-data; boundary={boundary}",
        "Authorization": f"Token {token}",
    }
    return _post(port, UPLOAD_PATH, headers, pieces(), timeout_s)


def wav_of_size(path: Path, *, size_bytes: int) -> Path:
    """A 16-bit stereo 44.1 kHz WAV of about ``size_bytes`` (a chord with a pulse), written in blocks."""
    import numpy as np

    if path.exists() and abs(path.stat().st_size - size_bytes) < 1_000:
        return path
    sr, block_s = 44_100, 10
    frames = (size_bytes - 44) // 4
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(2)
        out.setsampwidth(2)
        out.setframerate(sr)
        for start in range(0, frames, sr * block_s):
            t = (start + np.arange(min(sr * block_s, frames - start))) / sr
            tone = sum(np.sin(2 * np.pi * f * t) for f in (220.0, 277.2, 329.6)) / 4
            tone *= 0.6 + 0.4 * (np.sin(2 * np.pi * 2 * t) > 0)
            pcm = (np.stack([tone, tone], axis=1) * 32_000).astype("<i2")
            out.writeframes(pcm.tobytes())
    return path


# ---------------------------------------------------------------- rows


def bench_bodies(rows: list[Row], prod: Production, *, song_dir: Path) -> None:
    """Memory while a 95 MB upload arrives and while 150 MB bodies are refused; time to the refusal."""
    song = wav_of_size(song_dir / "upload-95mb.wav", size_bytes=95 * MB)
    pid = prod.web.pid
    time.sleep(1.0)  # let start-up settle before the idle figure
    idle = process_tree_rss(pid)

    def grown(run) -> tuple[Answer, float]:
        before = process_tree_rss(pid)
        with RssPeak(pid) as peak:
            answer = run()
        return answer, (peak.peak - before) / MB

    upload, upload_mb = grown(lambda: post_upload(prod.port, token=prod.token, song=song))
    declared, declared_mb = grown(lambda: post_declared(prod.port, UPLOAD_PATH, length=150 * MB, token=prod.token))
    chunked, chunked_mb = grown(lambda: post_chunked(prod.port, UPLOAD_PATH, total_bytes=150 * MB, token=prod.token))
    anonymous = post_declared(prod.port, UPLOAD_PATH, length=150 * MB)
    login = post_declared(prod.port, LOGIN_PATH, length=150 * MB)
    login_chunked, login_chunked_mb = grown(lambda: post_chunked(prod.port, LOGIN_PATH, total_bytes=150 * MB))

    baseline = f"idle server: {idle / MB:.0f} MB RSS ({prod.workers} web processes)"
    rows.append(
        Row(
            "Server memory growth while receiving a 95 MB upload",
            f"+{upload_mb:.0f} MB (answered {upload.status})",
            "≤ 100 MB",
            baseline,
            upload.status == 202 and upload_mb <= 100,
        )
    )
    refusals = {"declared": (declared, declared_mb), "chunked": (chunked, chunked_mb)}
    for how, (answer, mb) in refusals.items():
        rows.append(
            Row(
                f"Server memory growth while refusing a 150 MB upload ({how}, with a token)",
                f"+{mb:.0f} MB; {answer.status} {answer.body.get('code')} after {answer.sent_bytes / MB:.0f} MB sent",
                "≤ 100 MB, 413",
                baseline,
                answer.status == 413 and mb <= 100,
            )
        )
    rows.append(
        Row(
            "Server memory growth while refusing a 150 MB chunked body to /accounts/login/",
            f"+{login_chunked_mb:.0f} MB; {login_chunked.status} after {login_chunked.sent_bytes / MB:.1f} MB sent",
            "≤ 100 MB, 413",
            baseline,
            login_chunked.status == 413 and login_chunked_mb <= 100,
        )
    )
    declared_ones = {"upload with a token": declared, "upload, anonymous": anonymous, "/accounts/login/": login}
    worst = max(a.after_s for a in declared_ones.values())
    rows.append(
        Row(
            "Time from the end of the headers to the refusal of a declared 150 MB body",
            ", ".join(f"{k}: {a.status} in {a.after_s * 1000:.0f} ms" for k, a in declared_ones.items()),
            "≤ 1 s, 413",
            f"the 95 MB upload's answer: {upload.after_s:.1f} s",
            worst <= 1.0 and all(a.status == 413 for a in declared_ones.values()),
        )
    )
