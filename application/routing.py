from django.urls import path, re_path

from application.consumers import LibraryProgressConsumer, NoSuchSocketConsumer, ProjectProgressConsumer

websocket_urlpatterns = [
    path("ws/projects/<uuid:project_id>/", ProjectProgressConsumer.as_asgi()),
    path("ws/library/", LibraryProgressConsumer.as_asgi()),
    re_path(r"", NoSuchSocketConsumer.as_asgi()),  # last: every other path
]
