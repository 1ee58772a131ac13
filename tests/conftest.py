from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def media(settings, tmp_path: Path) -> Path:
    """Every test gets an empty storage folder, so 'nothing left behind' can be checked."""
    folder = tmp_path / "media"
    folder.mkdir()
    settings.MEDIA_ROOT = str(folder)
    # Changing STORAGES resets Django's default storage (the setting_changed signal).
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(folder)}},
    }
    return folder


def stored_files(media: Path) -> list[str]:
    """Every file in the storage folder, as keys."""
    return sorted(str(p.relative_to(media)) for p in media.rglob("*") if p.is_file())


@pytest.fixture
def empty_broker():
    """The broker's queues, empty before and after the test."""
    import dramatiq

    broker = dramatiq.get_broker()
    broker.flush_all()
    yield broker
    broker.flush_all()
