"""Log lines carry the request and the job they belong to."""

from __future__ import annotations

import json
import logging

import pytest
from django.test import Client

from domain.log_context import job_id_var, request_id_var
from isomix.logs import ContextFilter, JsonFormatter


def _format(message: str) -> dict:
    record = logging.LogRecord("isomix.test", logging.WARNING, __file__, 1, message, (), None)
    ContextFilter().filter(record)
    return json.loads(JsonFormatter().format(record))


def test_json_line_has_the_request_and_job_ids():
    request_token = request_id_var.set("req-12345678")
    job_token = job_id_var.set("job-abc")
    try:
        entry = _format("stems written")
    finally:
        request_id_var.reset(request_token)
        job_id_var.reset(job_token)

    assert entry["message"] == "stems written"
    assert entry["level"] == "WARNING"
    assert entry["logger"] == "isomix.test"
    assert entry["request_id"] == "req-12345678"
    assert entry["job_id"] == "job-abc"


def test_json_line_outside_a_request_has_no_ids():
    entry = _format("idle")

    assert "request_id" not in entry and "job_id" not in entry


@pytest.mark.django_db
def test_each_response_names_its_request_id():
    client = Client()

    given = client.get("/health", HTTP_X_REQUEST_ID="proxy-req-0001")
    made = client.get("/health")
    hostile = client.get("/health", HTTP_X_REQUEST_ID="bad id\nwith newline")

    assert given["X-Request-ID"] == "proxy-req-0001"
    assert len(made["X-Request-ID"]) == 32
    assert hostile["X-Request-ID"] != "bad id\nwith newline"
