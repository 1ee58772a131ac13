"""``make bench`` (``python -m bench.run``): each benchmark as a row of one table.

- ``__main__``: the command line, which rows run in which order.
- ``table``: :class:`~bench.run.table.Row` and the printed table.
- ``studio``: Django in this process on a throw-away var folder, the cached test songs,
  users, uploads and a timed separation (``bench/memory_probe.py`` uses them too).
- ``quality``: separation quality (SDR) on the rendered multitrack set.
- ``realmusic``: the guitar of real band recordings (Debian's Frets on Fire songs) kept in "other".
- ``jobs``: the job end to end on the embedded default: speed, dedup, memory, export, recovery.
- ``gpu``: the same job with htdemucs on a CUDA GPU, where one is present.
- ``over_http``: an upload over HTTP and the mixer in headless Chromium.
- ``production``: PostgreSQL + Redis + the web processes as compose runs them: polling,
  WebSocket fan-out, recovery from a killed worker.
- ``web``: the web tier's request bodies, and the raw-socket clients the server tests share.

The processes and their clients are ``bench.stack``'s, the same the end-to-end tests use.
"""
