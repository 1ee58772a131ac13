"""The house JSON parser: strict JSON, refused cleanly (400 ``parse_error``) when it is not.

DRF's ``JSONParser`` hands the body to ``json.load``, which recurses once per nesting level:
``[[[[…]]]]`` a thousand deep raises ``RecursionError`` (a 500), and a shallower bomb parses
into structures every later layer (serializers, logging, renderers) walks recursively again.
It also lets through what Python's ``json`` accepts and JSON does not: ``1e999`` becomes
``inf``, and ``"\\ud800"`` becomes a string that cannot be encoded to UTF-8 again (a 500
when an error message or the database echoes it).

:class:`StrictJSONParser` refuses, before anything is built:

- a body that is not UTF-8 (RFC 8259 §8.1; a ``charset`` parameter is not honoured);
- nesting deeper than :data:`MAX_DEPTH`, measured without recursing (:func:`nesting_depth_over`);
- a number that is not finite (``NaN``, ``Infinity``, ``-Infinity``, ``1e999``);
- an unpaired UTF-16 surrogate escape;
- anything else ``json.loads`` refuses.

The body it reads is bounded already: DRF takes it from ``request.body``, which Django caps at
``DATA_UPLOAD_MAX_MEMORY_SIZE`` (answered 413 by the exception handler), so every check here
runs over at most that many bytes, in time and memory linear in them.
"""

from __future__ import annotations

import json
import math
import re
from typing import IO, Any

from django.utils.translation import gettext as _
from rest_framework.parsers import JSONParser

from domain.exceptions import MalformedBody

#: The deepest nesting of arrays and objects taken. Our payloads nest 3 deep (an export:
#: body → ``stems`` → one strip); 32 leaves room for any payload to come while keeping a
#: hostile document far from every recursion limit on the way.
MAX_DEPTH = 32

# A JSON string, from its opening quote to its closing one, or to the end of the body when
# it is never closed (the document is invalid then, and json.loads says so). The possessive
# quantifiers keep no backtracking state: without them a string of a million escapes costs
# the regex engine ~150 MB, with them nothing. Over bytes: in UTF-8 the bytes of `"` and `\`
# never occur inside a multi-byte character.
_STRING = re.compile(rb'"[^"\\]*+(?:\\.[^"\\]*+)*+"?', re.DOTALL)
# Every byte but the four brackets is deleted; openers become "(" and closers ")".
_BRACKETS = bytes.maketrans(b"[{]}", b"(())")
_NOT_BRACKETS = bytes(sorted(set(range(256)) - set(b"[]{}")))
# What looks like a \uD800–\uDFFF escape: only a body holding one can decode to an unpaired
# surrogate, so only then are the parsed strings walked (which also settles "\\ud800", text).
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def nesting_depth_over(body: bytes, *, max_depth: int) -> bool:
    """Whether the JSON document ``body`` nests arrays and objects deeper than ``max_depth``.

    Exact for valid JSON. For invalid JSON it may over-count (never under-count the depth
    ``json.loads`` would reach before it finds the error), which only changes which 400 is
    answered. Nothing recurses: strings are cut out, every byte but the brackets dropped,
    then each pass of ``bytes.replace`` removes the innermost pairs ``()``, one level per pass,
    at most ``max_depth + 1`` passes. Memory: a few copies of ``body``.
    """
    if body.count(b"[") + body.count(b"{") <= max_depth:
        return False  # the usual payload: too few brackets to nest that deep at all
    brackets = _STRING.sub(b"", body).translate(_BRACKETS, _NOT_BRACKETS)
    levels = 0
    while b"()" in brackets:
        if levels == max_depth:
            return True
        brackets = brackets.replace(b"()", b"")
        levels += 1
    # What is left is unmatched: ")…)(…(". Every unclosed opener adds one level to whatever
    # nests after it (json.loads descends into it before it finds the end missing).
    return levels + brackets.count(b"(") > max_depth


def _not_finite(constant: str) -> float:
    raise MalformedBody(
        _("The JSON contains a number that is not finite (%(number)s).") % {"number": constant},
        extra={"reason": "not_finite"},
    )


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e999: valid JSON, but no float holds it
        _not_finite(text[:32])
    return value


def _unpaired_surrogate_in(value: Any) -> bool:
    """Whether any string (or key) in ``value`` holds half a UTF-16 surrogate pair."""
    pending = [value]
    while pending:  # a loop, not recursion: the depth is bounded already, this stays so
        item = pending.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


def json_loads_strict(body: bytes, *, max_depth: int = MAX_DEPTH) -> Any:
    """Parse ``body`` as strict JSON; :class:`~domain.exceptions.MalformedBody` when it is not.

    ``extra["reason"]`` says why, for programs: ``encoding``, ``too_deep`` (with
    ``max_depth``), ``not_finite``, ``surrogate`` or ``syntax`` (with ``line`` and ``column``
    when the decoder names a place).
    """
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedBody(
            _("The request body is not UTF-8 text."), extra={"reason": "encoding", "position": exc.start}
        ) from None
    if nesting_depth_over(body, max_depth=max_depth):
        raise MalformedBody(
            _("The JSON nests deeper than %(max_depth)d levels.") % {"max_depth": max_depth},
            extra={"reason": "too_deep", "max_depth": max_depth},
        )
    try:
        value = json.loads(text, parse_constant=_not_finite, parse_float=_finite_float)
    except json.JSONDecodeError as exc:
        raise MalformedBody(
            _("The request body is not valid JSON."),
            extra={"reason": "syntax", "line": exc.lineno, "column": exc.colno},
        ) from None
    except (ValueError, RecursionError):
        # ValueError: an integer past Python's digit limit. RecursionError cannot happen
        # after the depth check; it is caught so that a regression stays a 400.
        raise MalformedBody(_("The request body is not valid JSON."), extra={"reason": "syntax"}) from None
    if _SURROGATE_ESCAPE.search(body) and _unpaired_surrogate_in(value):
        raise MalformedBody(_("The JSON contains an unpaired UTF-16 surrogate escape."), extra={"reason": "surrogate"})
    return value


class StrictJSONParser(JSONParser):
    """``application/json`` through :func:`json_loads_strict`; the default parser of the API.

    A ``JSONParser`` subclass on purpose: DRF then reads the body through ``request.body``
    (capped by ``DATA_UPLOAD_MAX_MEMORY_SIZE``) and the schema generator sees JSON.
    """

    def parse(self, stream: IO[bytes], media_type: str | None = None, parser_context: dict | None = None) -> Any:
        return json_loads_strict(stream.read())
