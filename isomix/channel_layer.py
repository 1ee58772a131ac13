"""The in-memory channel layer, safe to publish to from worker threads.

In the embedded default the worker runs as threads of the web process. Channels'
in-memory layer keeps asyncio queues bound to the server's event loop, and putting into
them from another thread's loop does not wake the waiting consumer. This layer
remembers the loop its consumers receive on and hands sends from other loops over to it.
"""

from __future__ import annotations

import asyncio
from typing import Any

from channels.layers import InMemoryChannelLayer


class ThreadSafeInMemoryChannelLayer(InMemoryChannelLayer):
    _home_loop: asyncio.AbstractEventLoop | None = None

    async def receive(self, channel: str) -> dict[str, Any]:
        self._home_loop = asyncio.get_running_loop()
        return await super().receive(channel)

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        await self._on_home_loop(super().group_send(group, message))

    async def send(self, channel: str, message: dict[str, Any]) -> None:
        await self._on_home_loop(super().send(channel, message))

    async def _on_home_loop(self, coro) -> None:
        home = self._home_loop
        if home is None or home is asyncio.get_running_loop() or not home.is_running():
            await coro
            return
        await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, home))
