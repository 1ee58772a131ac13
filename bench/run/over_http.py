"""Over HTTP and in the browser, against ``runstudio`` on this process's own database: upload, mixer.

Named so as not to shadow the standard library's ``http`` when a module here is run as a script.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

from bench.run.studio import bench_user, same_settings_env, song_file
from bench.run.table import Row
from bench.stack import Stack, multipart_post


def studio_server(var_dir: Path) -> Stack:
    """``runstudio`` without a worker on this process's settings and var folder (the rows' users and projects)."""
    return Stack(var_dir, embedded=True, worker=False, var_dir=var_dir, **same_settings_env())


def bench_upload(rows: list[Row], server: Stack) -> None:
    import numpy as np
    from rest_framework.authtoken.models import Token

    song = song_file(420.0, fmt="mp3", bitrate="192k")
    payload = song.read_bytes()
    token = Token.objects.get_or_create(user=bench_user("bench-upload"))[0].key
    junk = np.random.default_rng(0).integers(0, 256, len(payload), dtype=np.uint8).tobytes()
    ok, refused = [], []
    for _ in range(3):
        status, elapsed = multipart_post(server.url + "/api/v1/projects/", token=token, filename="song.mp3",
                                         payload=payload)  # fmt: skip
        assert status == 202, status
        ok.append(elapsed)
        status, elapsed = multipart_post(server.url + "/api/v1/projects/", token=token, filename="junk.mp3",
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


#: Seconds from the navigation's start to the mixer's "isomix:ready" mark (main.js sets it as
#: Play becomes usable), read from the page's performance timeline: Playwright's own wait adds
#: its polling of a busy page (0.1–0.3 s here) to a wall-clock figure.
_READY_S = "() => performance.getEntriesByName('isomix:ready')[0].startTime / 1000"
#: The same timeline's end of the load event, for the library page.
_LOADED_S = "() => performance.getEntriesByType('navigation')[0].loadEventEnd / 1000"
#: Each load in a fresh browser context: nothing cached.
MIXER_LOADS = 5


def bench_mixer(rows: list[Row], server: Stack, project) -> None:
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
    ready_times, library_times, wall_times = [], [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path="/usr/bin/chromium",
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--autoplay-policy=no-user-gesture-required"],
        )  # fmt: skip
        for _ in range(MIXER_LOADS):
            context = browser.new_context()
            context.add_cookies(
                [{"name": settings.SESSION_COOKIE_NAME, "value": session.session_key, "url": server.url}]
            )
            page = context.new_page()
            start = time.perf_counter()
            page.goto(f"{server.url}/projects/{project.id}/", wait_until="commit")
            page.wait_for_selector('[data-mixer][data-state="ready"]', timeout=60_000, state="attached")
            wall_times.append(time.perf_counter() - start)
            ready_times.append(page.evaluate(_READY_S))
            page.goto(f"{server.url}/projects/", wait_until="load")
            library_times.append(page.evaluate(_LOADED_S))
            context.close()
        cpu_plain, cpu_practice = _practice_cpu(browser, server, project, session.session_key)
        browser.close()
    median = statistics.median(ready_times)
    rows.append(
        Row(
            "Mixer ready (navigation start → 4 stems decoded, playable, the page's own timeline), "
            f"3-min song, headless Chromium (median of {MIXER_LOADS})",
            f"{median:.2f} s",
            "≤ 2 s",
            f"library page load: {statistics.median(library_times):.2f} s "
            f"(wall clock through Playwright, its polling included: mixer {statistics.median(wall_times):.2f} s)",
            median <= 2.0,
        )
    )
    extra = cpu_practice - cpu_plain
    rows.append(
        Row(
            "Page CPU playing 4 stems at tempo 0.8× and transpose −2, more than at 1× "
            f"(median of {PRACTICE_WINDOWS} × {PRACTICE_WINDOW_S:.0f} s)",
            f"+{extra * 100:.1f} % of a core ({cpu_practice * 100:.1f} %)",
            "≤ +15 % of a core",
            f"1× playback: {cpu_plain * 100:.1f} % of a core",
            extra <= 0.15,
        )
    )


PRACTICE_WINDOWS = 3
PRACTICE_WINDOW_S = 8.0


def _practice_cpu(browser, server: Stack, project, session_key: str) -> tuple[float, float]:
    """Renderer CPU share while the mixer plays at 1×, then at 0.8× / −2 st (windows interleaved)."""
    from django.conf import settings

    from bench.run.page_cpu import cpu_share

    context = browser.new_context()
    context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": session_key, "url": server.url}])
    page = context.new_page()
    page.goto(f"{server.url}/projects/{project.id}/", wait_until="commit")
    page.wait_for_selector('[data-mixer][data-state="ready"]', timeout=60_000, state="attached")
    page.evaluate("() => window.isomixMixer.play()")
    page.wait_for_selector('[data-mixer][data-state="playing"]', timeout=10_000, state="attached")
    plain, practice = [], []
    for _ in range(PRACTICE_WINDOWS):
        page.evaluate("() => { window.isomixMixer.setTempo(1); window.isomixMixer.setTranspose(0); }")
        page.wait_for_timeout(1000)
        plain.append(cpu_share(page, PRACTICE_WINDOW_S))
        page.evaluate("() => { window.isomixMixer.setTempo(0.8); window.isomixMixer.setTranspose(-2); }")
        page.wait_for_timeout(1000)
        practice.append(cpu_share(page, PRACTICE_WINDOW_S))
    state = page.evaluate("() => window.isomixMixer.state")
    context.close()
    if state != "playing":
        raise RuntimeError(f"the mixer stopped playing during the CPU windows (state {state!r})")
    return statistics.median(plain), statistics.median(practice)
