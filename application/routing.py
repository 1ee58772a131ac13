from django.urls import path

from application.consumers import ProjectProgressConsumer

websocket_urlpatterns = [
    path("ws/projects/<uuid:project_id>/", ProjectProgressConsumer.as_asgi()),
]
