"""The edge: input no route can use is refused with a 4xx before any view, service or database sees it.

- Ids in URLs are PostgreSQL `integer`s: a bounded `int` converter makes a larger number a 404, as an unknown id.
- NUL cannot be stored in a PostgreSQL text, and a lone surrogate in no UTF-8 at all: either one in the path,
  the query string, a form field or a JSON string is a 400.
- JSON is read recursively by Python: a body is measured before it is parsed, and one nested deeper than
  MAX_JSON_DEPTH is a 400.
- The console takes HTML forms: Flask-WTF would read a JSON body as form data of any shape, so a JSON body
  posted to a console page is a 415.
- A multipart part must name its field (RFC 7578): werkzeug files a nameless one under the key None, which no
  view expects, so it is a 400.
"""

from __future__ import annotations

import re
from itertools import accumulate
from typing import Any

from flask import Flask, g, request
from werkzeug.exceptions import BadRequest, UnsupportedMediaType
from werkzeug.routing import IntegerConverter

from console.errors import LoginError
from console.services.inputs import MAX_ID

# Bodies under these prefixes are read as JSON whatever their content type (the API, the simulator).
JSON_PREFIXES = ("/api/", "/_wechat/")
MAX_JSON_DEPTH = 32  # the API's bodies are flat objects; 32 leaves room and stays far from the recursion limit
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
BRACKETS = bytes(byte for byte in range(256) if byte not in b"[]{}")  # what bytes.translate deletes
DEPTH_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}
SUBMITS = {"POST", "PUT", "PATCH", "DELETE"}


class BoundedIntConverter(IntegerConverter):
    """`<int:...>` that matches 0..MAX_ID only: a larger id names no row, so it is a 404 like an unknown one."""

    def __init__(self, map, *args, **kwargs):  # noqa: A002  (werkzeug's own parameter name)
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def init_edge(app: Flask) -> None:
    """Bound the `int` URL converter (before any rule is added) and refuse unusable input before every view."""
    app.url_map.converters["int"] = BoundedIntConverter
    app.before_request(refuse_unusable_input)


def _wants_json() -> bool:
    return request.path.startswith(JSON_PREFIXES)


def _refuse(message: str):
    """A 400 that says why: the API's invalid_request under the JSON prefixes, a page elsewhere."""
    if _wants_json():
        return LoginError("invalid_request", message)
    return BadRequest(message)


def unstorable(text: str) -> str | None:
    """Why `text` cannot be stored (a NUL, a lone surrogate), or None."""
    found = UNSTORABLE.search(text)
    if found is None:
        return None
    return "a NUL character" if found.group() == "\x00" else "a lone surrogate (not Unicode text)"


def _check_texts(texts, where: str) -> None:
    for text in texts:
        reason = unstorable(text)
        if reason:
            raise _refuse(f"The {where} holds {reason}, which is never accepted.")


def json_too_deep(data: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """True when the JSON text nests arrays and objects deeper than `limit` (measured without parsing it)."""
    if data.count(b"[") + data.count(b"{") <= limit:
        return False  # it cannot nest deeper than it opens
    brackets = JSON_STRING.sub(b"", data).translate(None, BRACKETS)  # brackets inside strings do not nest
    return max(accumulate(DEPTH_STEP[byte] for byte in brackets), default=0) > limit


def _json_texts(value: Any):
    """Every key and string in a parsed JSON value (its depth is already bounded)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _json_texts(item)
    elif isinstance(value, list):
        for item in value:
            yield from _json_texts(item)


def json_body() -> Any:
    """The request's body parsed as JSON (None when it is not JSON), refused when too deep or unstorable."""
    if "edge_json" not in g:
        data = request.get_data(cache=True)
        if json_too_deep(data):
            raise _refuse(f"The JSON body nests deeper than {MAX_JSON_DEPTH} levels.")
        body = request.get_json(force=True, silent=True)  # cached: the view's own call reads this parse
        _check_texts(_json_texts(body), "JSON body")
        g.edge_json = body
    return g.edge_json


def refuse_unusable_input() -> None:
    """Refuse, before any view: NUL or lone surrogates anywhere, JSON too deep, JSON posted to the console, a form
    part without a name."""
    _check_texts([request.path], "path")
    _check_texts((text for pair in request.args.items(multi=True) for text in pair), "query string")
    if _wants_json():
        json_body()
        return
    if request.method in SUBMITS and request.is_json:
        raise UnsupportedMediaType("The console takes HTML forms, not JSON.")
    if None in request.form or None in request.files:  # RFC 7578: every part names its field
        raise BadRequest("The form holds a part without a name.")
    _check_texts((text for pair in request.form.items(multi=True) for text in pair), "form")
    _check_texts((file.filename or "" for file in request.files.values()), "uploaded file's name")
