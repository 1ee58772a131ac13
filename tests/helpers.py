"""Helpers the tests share, in one place: ports, stored files, signed-in API clients."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from bench.stack import free_port as free_port  # one for the tests and the bench's stack

if TYPE_CHECKING:  # importable before Django is set up (the browser and S3 conftests use it)
    from django.contrib.auth.models import AbstractBaseUser
    from rest_framework.test import APIClient


def stored_files(media: Path) -> list[str]:
    """Every file in the storage folder, as keys."""
    return sorted(str(p.relative_to(media)) for p in media.rglob("*") if p.is_file())


def signed_in(user: AbstractBaseUser) -> APIClient:
    """An API client authenticated as ``user``."""
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(user)
    return client
