"""CPU used by the renderer process showing a page, read through the Chrome DevTools Protocol.

What is read
------------
``Performance.getMetrics`` on the page's own CDP session (Playwright's
``page.context.new_cdp_session(page)``) reports ``ProcessTime``: the cumulative CPU time,
in seconds, of the renderer process the page lives in, all its threads together. That
includes the real-time audio thread: with an AudioWorklet in the graph, Chromium renders
the whole Web Audio graph (sources, gains, the worklet) on the renderer's "Realtime
AudioWorklet" thread, which is not the main thread.

Checked in headless Chromium 156 (Debian) with 4 looping stereo stems on a real
AudioContext through the page's pitch shifter, 8 s windows: ``ProcessTime`` rose at
2.2 % of a core at ratio 1 and 4.4 % at tempo 0.8 / −2 st, matching the renderer's
threads in ``/proc/<pid>/task`` (the "Realtime AudioW" thread 1.2 % → 3.6 %, the audio
output thread 0.9 % both times), while the main thread's ``ThreadTime`` stayed at 0.
``SystemInfo.getProcessInfo`` gives the same per-process figure, but only on the browser
target, with no way to tell which renderer shows which page.

The counter moves in steps of the kernel's clock tick (10 ms here): measure over
windows of seconds. A page with out-of-process iframes has more renderers; only the main
frame's is counted (the studio's pages have no iframes).
"""

from __future__ import annotations

import time
import weakref
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.sync_api import CDPSession, Page

_SESSIONS: weakref.WeakKeyDictionary[Page, CDPSession] = weakref.WeakKeyDictionary()


def _session(page: Page) -> CDPSession:
    """One CDP session per page, with the Performance domain enabled (metrics are off until then)."""
    session = _SESSIONS.get(page)
    if session is None:
        session = page.context.new_cdp_session(page)
        session.send("Performance.enable")
        _SESSIONS[page] = session
    return session


def renderer_cpu_seconds(page: Page) -> float:
    """CPU seconds used so far by the renderer process showing ``page``, all its threads.

    Raises
    ------
    RuntimeError
        When the browser reports no ``ProcessTime`` (not Chromium, or a protocol without it).
    """
    metrics = _session(page).send("Performance.getMetrics")["metrics"]
    for metric in metrics:
        if metric["name"] == "ProcessTime":
            return float(metric["value"])
    raise RuntimeError("the browser reports no ProcessTime metric (Performance.getMetrics)")


def cpu_share(page: Page, seconds: float) -> float:
    """Fraction of one core the page's renderer uses over the next ``seconds`` of wall-clock time.

    The page keeps running meanwhile (Playwright's ``wait_for_timeout``, so its events are
    still dispatched). 1.0 is one core fully busy; more than 1 is possible on several cores.
    """
    if not seconds > 0:
        raise ValueError(f"seconds must be positive, not {seconds}")
    cpu_start = renderer_cpu_seconds(page)
    wall_start = time.monotonic()
    page.wait_for_timeout(seconds * 1000)
    cpu_end = renderer_cpu_seconds(page)
    return (cpu_end - cpu_start) / (time.monotonic() - wall_start)
