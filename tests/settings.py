"""Test settings: the embedded default, with every file under a throw-away folder."""

import atexit
import os
import shutil
import tempfile

os.environ["ISOMIX_VAR_DIR"] = tempfile.mkdtemp(prefix="isomix-tests-")
atexit.register(shutil.rmtree, os.environ["ISOMIX_VAR_DIR"], ignore_errors=True)
os.environ.setdefault("ISOMIX_SEPARATION_ENGINE", "offline")
os.environ.setdefault("ISOMIX_SEPARATION_TEST_MODEL", "1")

from isomix.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    # A file, not shared-cache memory: worker threads in the end-to-end tests then wait on
    # locks (WAL, busy timeout) as the embedded default does, instead of failing at once.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-db.sqlite3")}  # noqa: F405

# The suite separates many songs: lyrics and warm-up only where a test asks for them.
ISOMIX_LYRICS_AUTO = False
ISOMIX_ANALYSIS_WARM_UP = False
