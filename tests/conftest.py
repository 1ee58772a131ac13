from __future__ import annotations

from pathlib import Path

import pytest

# The running product (runstudio in a subprocess), for the browser and API contract tests.
from tests.live_server import studio_server  # noqa: F401 (a fixture)


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


@pytest.fixture
def empty_broker():
    """The broker's queues, empty before and after the test."""
    import dramatiq

    broker = dramatiq.get_broker()
    broker.flush_all()
    yield broker
    broker.flush_all()


@pytest.fixture
def user():
    """A user of the studio (a fresh account per test)."""
    from tests.factories import user_create

    return user_create()


@pytest.fixture
def client(user):
    """An API client signed in as ``user``."""
    from tests.helpers import signed_in

    return signed_in(user)


@pytest.fixture
def tmpdir_root(tmp_path, monkeypatch) -> Path:
    """``tempfile.gettempdir()`` is an empty folder of this test's own (for the work-folder sweeps)."""
    import tempfile

    root = tmp_path / "tmp"
    root.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(root))
    monkeypatch.setenv("TMPDIR", str(root))
    return root


@pytest.fixture(autouse=True)
def _plans(request):
    """Free and Pro as the data migration made them, in every test that uses the database: a
    transactional test empties every table when it ends, the migration's rows included."""
    marker = request.node.get_closest_marker("django_db")
    if marker is None:
        return
    request.getfixturevalue("_django_db_helper")
    import importlib

    from business.models import Plan

    migration = importlib.import_module("business.migrations.0003_free_and_pro_plans")
    for fields in (migration.FREE, migration.PRO):
        Plan.objects.get_or_create(slug=fields["slug"], defaults=fields)
