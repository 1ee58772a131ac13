"""The streaming cap stops an upload as soon as it passes the limit."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from application.api.uploads import LimitedUploadHandler
from domain.exceptions import FileTooLarge


def test_handler_stops_past_the_limit_and_drops_its_temporary_file():
    handler = LimitedUploadHandler(RequestFactory().post("/"), max_bytes=100)
    handler.new_file("file", "song.mp3", "audio/mpeg", 1000)
    handler.receive_data_chunk(b"x" * 60, 0)
    temp_path = handler.file.temporary_file_path()

    with pytest.raises(FileTooLarge) as excinfo:
        handler.receive_data_chunk(b"x" * 60, 60)

    assert excinfo.value.status_code == 413
    assert excinfo.value.extra == {"max_bytes": 100}
    import os

    assert not os.path.exists(temp_path)
