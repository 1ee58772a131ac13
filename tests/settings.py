"""Test settings: the embedded default, with every file under a throw-away folder."""

import os
import tempfile

os.environ["ISOMIX_VAR_DIR"] = tempfile.mkdtemp(prefix="isomix-tests-")
os.environ.setdefault("ISOMIX_SEPARATION_ENGINE", "offline")

from isomix.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
