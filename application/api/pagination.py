"""The house pagination: ``?limit=&offset=``, both bounded, anything else a 400.

DRF's ``LimitOffsetPagination`` passes any integer through to the database:
``?limit=99999999999999999999`` overflows SQLite's 64-bit integers (and PostgreSQL's
``bigint``) into a 500, and a limit it cannot read (``abc``, ``-1``) silently becomes the
default. Here a value that is not a plain non-negative integer within bounds is refused
before any query runs, in the house shape (``invalid_input``, ``extra.fields``).
"""

from __future__ import annotations

import re

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from rest_framework import pagination
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.views import APIView

# ASCII digits only (int() would also take "+5", " 5", "٣"). A number of more than ten digits
# is past both bounds, so a longer string is refused without converting it.
_DIGITS = re.compile(r"[0-9]{1,10}")


class BoundedLimitOffsetPagination(pagination.LimitOffsetPagination):
    """``limit`` in ``1..max_limit`` (default ``PAGE_SIZE``), ``offset`` in ``0..max_offset`` (default 0)."""

    #: The most items one page returns.
    max_limit = 100
    #: The furthest a page may start; far beyond any real list, far inside every integer type.
    max_offset = 10**9

    def get_schema_operation_parameters(self, view: APIView) -> list[dict]:
        bounds = {
            self.limit_query_param: {"minimum": 1, "maximum": self.max_limit, "default": self.default_limit},
            self.offset_query_param: {"minimum": 0, "maximum": self.max_offset, "default": 0},
        }
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"].update(bounds.get(parameter["name"], {}))
        return parameters

    def paginate_queryset(self, queryset: QuerySet, request: Request, view: APIView | None = None) -> list:
        self.get_offset(request)  # DRF reads the offset after counting: refuse a bad one first
        return super().paginate_queryset(queryset, request, view)

    def get_limit(self, request: Request) -> int | None:
        if self.limit_query_param not in request.query_params:
            return self.default_limit
        return self._bounded(request, self.limit_query_param, low=1, high=self.max_limit)

    def get_offset(self, request: Request) -> int:
        if self.offset_query_param not in request.query_params:
            return 0
        return self._bounded(request, self.offset_query_param, low=0, high=self.max_offset)

    def _bounded(self, request: Request, param: str, *, low: int, high: int) -> int:
        raw = request.query_params[param]
        if _DIGITS.fullmatch(raw) and low <= (value := int(raw)) <= high:
            return value
        message = _("%(param)s must be a whole number from %(low)d to %(high)d.") % {
            "param": param,
            "low": low,
            "high": high,
        }
        raise ValidationError({param: [message]}, code="invalid")
