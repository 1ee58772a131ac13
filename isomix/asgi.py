"""ASGI entry point: HTTP through Django, WebSockets through Channels (served by uvicorn: ``runstudio``).

HTTP passes two pure ASGI wrappers before Django: :mod:`isomix.body_limit` refuses a body
over its limit before it is read, and :mod:`isomix.status_cache` answers a repeated
status poll again while nothing it shows has changed.
"""

import os

import django
from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIHandler

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "isomix.settings")
django.setup(set_prefix=False)


class OneThreadASGIHandler(ASGIHandler):
    """Django's ASGI handler, with the middleware chain and the view run in one thread per request.

    Our middleware and views are all synchronous. Built for async, Django runs each
    middleware that can also be async on the event loop and hops to a thread and back for
    every ``process_request``/``process_response`` and for the view: about sixteen hops a
    request, which cost more CPU than the rest of a small request. Built as WSGI builds it
    and entered once through ``sync_to_async`` (thread-sensitive, as Django's own request
    signals are), a request makes one hop.
    """

    def load_middleware(self, is_async: bool = False) -> None:
        super().load_middleware(is_async=False)
        self._middleware_chain = sync_to_async(self._middleware_chain, thread_sensitive=True)


django_asgi_app = OneThreadASGIHandler()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from application.routing import websocket_urlpatterns  # noqa: E402
from application.ws_auth import TokenAuthMiddleware  # noqa: E402
from isomix.body_limit import BodyLimitMiddleware, body_limits_from_settings  # noqa: E402
from isomix.status_cache import StatusCacheMiddleware  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": BodyLimitMiddleware(StatusCacheMiddleware.wrap(django_asgi_app), limits=body_limits_from_settings()),
        # The Origin check first (a program sends its Origin too); the token, inside the session, wins over it.
        "websocket": AllowedHostsOriginValidator(
            AuthMiddlewareStack(TokenAuthMiddleware(URLRouter(websocket_urlpatterns)))
        ),
    }
)
