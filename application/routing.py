from django.urls import path

from application.consumers import LibraryProgressConsumer, ProjectProgressConsumer

websocket_urlpatterns = [
    path("ws/projects/<uuid:project_id>/", ProjectProgressConsumer.as_asgi()),
    path("ws/library/", LibraryProgressConsumer.as_asgi()),
]
