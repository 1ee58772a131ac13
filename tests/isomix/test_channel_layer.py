"""Progress published from a worker thread reaches a consumer on the server's loop."""

from __future__ import annotations

import asyncio
import threading

import pytest
from asgiref.sync import async_to_sync

from isomix.channel_layer import ThreadSafeInMemoryChannelLayer

pytestmark = pytest.mark.asyncio


async def test_group_send_from_another_thread_wakes_the_receiver():
    layer = ThreadSafeInMemoryChannelLayer()
    channel = await layer.new_channel()
    await layer.group_add("project.x", channel)
    receiver = asyncio.ensure_future(layer.receive(channel))
    await asyncio.sleep(0.05)  # the receiver is now waiting on this loop

    thread = threading.Thread(
        target=lambda: async_to_sync(layer.group_send)("project.x", {"type": "job.progress", "progress": 7})
    )
    thread.start()
    message = await asyncio.wait_for(receiver, timeout=2)
    thread.join(timeout=2)

    assert message == {"type": "job.progress", "progress": 7}
