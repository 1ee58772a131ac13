"""WSGI entry point, for tools that want one; the studio is served over ASGI (``asgi.py``, uvicorn)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "isomix.settings")
application = get_wsgi_application()
