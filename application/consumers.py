"""WebSocket: a project's page listens here for its jobs' progress."""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from domain.events import project_group
from domain.models import Project


class ProjectProgressConsumer(AsyncJsonWebsocketConsumer):
    """Pushes ``job.progress`` events of one project to its owner; anyone else is refused."""

    async def connect(self) -> None:
        user = self.scope.get("user")
        project_id = self.scope["url_route"]["kwargs"]["project_id"]
        if user is None or not user.is_authenticated or not await self._owns(user, project_id):
            await self.close(code=4404)
            return
        self.group = project_group(project_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def job_progress(self, event: dict[str, Any]) -> None:
        await self.send_json(event)

    @database_sync_to_async
    def _owns(self, user, project_id) -> bool:
        return Project.objects.filter(id=project_id, owner=user).exists()
