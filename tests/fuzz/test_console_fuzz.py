"""Property-based fuzz of every route of the console app outside the API (pages, forms, sign-in, static files, the
mounted WeChat simulator), as nobody, as a support account and as an admin: no 5xx, the status the oracle allows,
and rows changed only by a success, only in the tables its route may write (tests/fuzz/world.py).

Routes come from app.url_map, so a route added later is fuzzed as soon as it has its row in world.ROUTES. Path
parameters are ids that exist, ids that do not, ids past every range, negative and non-ASCII digits; query strings
and form bodies carry the fields the pages' own forms send plus arbitrary keys, with any text (NUL, lone surrogates,
100,000 characters), numbers of any size, files, nameless multipart parts, JSON and bodies that are none of these.
"""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from console.edge import JSON_PREFIXES, UNSTORABLE
from tests.fuzz.hostile import BAD_IDS, RAW_BODIES, chance, texts
from tests.fuzz.world import (
    ADMIN,
    ADMINS,
    CONSOLE_ROLES,
    FUZZ_SETTINGS,
    MISSING_ID,
    ROUTES,
    Call,
    Existing,
    collected_routes,
    encode_pairs,
    encode_path_value,
    has_nul,
    is_api,
    may,
    promise,
    route_keys,
)
from tests.helpers import PASSWORD

FORM = "application/x-www-form-urlencoded"
CONSOLE_ROUTES = [key for key in collected_routes() if not is_api(key)]
EXAMPLES = 10  # per route and role that may call it
REFUSED_EXAMPLES = 3  # per route and role it refuses: the refusal comes before any input is read
PATH_PARAMETER = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")
BOUNDARY = "fuzzBoundary7MA4YWxkTrZu0gW"
CONTENT_TYPES = (
    "application/x-www-form-urlencoded",
    "multipart/form-data",
    f"multipart/form-data; boundary={BOUNDARY}",
    "text/plain",
    "application/octet-stream",
    "application/json",
    "application/problem+json",
    "text/html; charset=utf-16",
)


ELEMENT = (
    b'{"type": "auths.loginTypes.WeChatMiniType", "title": "Fuzz", "allowRegister": 1, '
    b'"backendBundleEntry": ".", "frontBundleEntry": "./fuzzLogin.json"}'
)
CONFIG = b'{"authConfig": {"appId": "wx00000000000fuzz", "appSecret": "fuzz-secret-0123456789"}}'
FILE_HINTS = {"element": ("e.json", ELEMENT), "config": ("fuzzLogin.json", CONFIG)}  # an instance that imports
FILE_CONTENTS = st.one_of(
    st.sampled_from([ELEMENT, CONFIG, *RAW_BODIES]),
    st.binary(max_size=64),
    texts().map(lambda text: json.dumps({"title": text, "authConfig": {"appId": text}}).encode()),
)
FILE_NAMES = st.one_of(st.sampled_from(["e.json", "fuzzLogin.json", ""]), texts())
JSON_OBJECTS = st.dictionaries(texts(), texts(), max_size=3)
EXTRA_PAIRS = st.lists(st.tuples(texts(), texts()), max_size=2)
BODY_KINDS = st.sampled_from(["form", "form", "form", "form", "multipart", "json", "raw"])
EXISTING = st.integers(0, 1000).map(Existing)
UPLOAD_KINDS = st.sampled_from(["multipart", "multipart", "multipart", "form", "json", "raw"])  # forms with files
# Plausible values of the console's fields by name, beside the ones the forms offer: what a person would type.
HINTS = {
    "username": ["newbie", "boss", "ops", "NewBie", "new.bie-2"],
    "password": [PASSWORD, "short", "another good password"],
    "confirm": [PASSWORD, "another good password"],
    "slug": ["fuzzcorp", "acme", "Fuzz Corp"],
    "name": ["fuzzLogin", "Fuzz Corp", "shopLogin", "9lives", "newLogin"],
    "title": ["Fuzz shop"],
    "app_id": ["wx00000000000fuzz", "wx0123456789abcdef"],
    "app_secret": ["fuzz-secret-0123456789", ""],
    "reason": ["the user changed phones"],
    "q": ["alice", "1", "o"],
}


def multipart(parts: list[tuple[str | None, str | None, bytes]]) -> bytes:
    """A multipart/form-data body written by hand: a part may have no name, a file name, any bytes."""
    out = b""
    for name, filename, content in parts:
        disposition = "form-data"
        if name is not None:
            disposition += f'; name="{name}"'
        if filename is not None:
            disposition += f'; filename="{filename}"'
        header = f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n\r\n".encode("utf-8", "surrogatepass")
        out += header + content + b"\r\n"
    return out + f"--{BOUNDARY}--\r\n".encode()


class ConsoleCalls:
    """The calls of one route as one role; the strategies are built once, ids that exist are read at each call."""

    def __init__(self, world, key: str, role: str):
        self.world, self.key, self.role = world, key, role
        self.method, self.rule = key.split(" ", 1)
        self.endpoint = next(rule.endpoint for rule in world.app.url_map.iter_rules() if rule.rule == self.rule)
        self.json_read = self.rule.startswith(JSON_PREFIXES)  # the simulator's routes read JSON, as the API's
        self.fields = world.fields.get(key, {})
        keys = world.query_keys.get(self.rule, set()) | (set(self.fields) if self.method == "GET" else set())
        self.query = self.pairs({name: self.fields.get(name, set()) for name in keys})
        self.form = self.pairs(self.fields)
        self.ids = st.one_of(EXISTING, st.just(MISSING_ID), st.sampled_from(BAD_IDS), texts())
        self.names = st.one_of(EXISTING, st.sampled_from(["a//b", "../e.json", "x/", ""]), texts())

    def pairs(self, fields: dict[str, set[str]]) -> st.SearchStrategy[list[tuple[str, str]]]:
        """Key-value pairs: mostly every real field with a plausible value (so that successes happen too), else each
        real field or not with any value, then arbitrary keys."""
        plausible = {name: self.plausible(name, known) for name, known in fields.items()}
        anything = {name: st.one_of(value, texts()) for name, value in plausible.items()}
        submits = sorted(set(fields) & self.world.submit_fields)
        fill_in = {name: value for name, value in plausible.items() if name not in submits}
        clicked = st.just([])  # no button: what pressing Enter sends
        if submits:
            clicked = st.one_of(clicked, st.sampled_from(submits).map(lambda name: [(name, "y")]))
        well_formed = st.builds(
            lambda chosen, button: [*chosen.items(), *button], st.fixed_dictionaries(fill_in), clicked
        )
        mixed = st.builds(
            lambda chosen, more: [*chosen.items(), *more], st.fixed_dictionaries({}, optional=anything), EXTRA_PAIRS
        )
        return st.one_of(well_formed, well_formed, mixed, mixed, mixed)

    def plausible(self, name: str, known: set[str]) -> st.SearchStrategy[str]:
        """A value for a field that could be right: one its form offers, its hint, or one that means something here."""
        choices = [st.sampled_from(sorted(known))] * 2 if known - {""} else []
        if name in HINTS:
            choices += [st.sampled_from(HINTS[name])] * 2
        return st.one_of(*choices, st.sampled_from(self.world.good))

    def path(self, draw) -> tuple[str, bool]:
        """The route's path with drawn parameters (percent-encoded), and whether it carries a NUL: mostly ids and
        names of rows that exist, else each one of those, one that does not exist, one past every range, any text."""
        values = []
        faithful = not draw(chance(3))

        def fill(match: re.Match) -> str:
            converter, name = match.group(1), match.group(2)
            value = draw(EXISTING if faithful else self.ids if converter == "int" else self.names)
            if isinstance(value, Existing):
                known = self.world.existing(self.endpoint, name)
                value = known[value.index % len(known)]
            values.append(value)
            return encode_path_value(value, slashes=converter == "path")

        return PATH_PARAMETER.sub(fill, self.rule), has_nul(values)

    def body(self, draw) -> tuple[bytes | None, str | None, int | None, bool]:
        """(body, content type, the status the input alone calls for, loose) of a POST: a form as browsers send
        it, a multipart form (files, nameless parts), JSON, or bytes under any content type."""
        kind = draw(BODY_KINDS if not set(self.fields) & self.world.file_fields else UPLOAD_KINDS)
        if kind == "form":
            chosen = draw(self.form)
            nul = has_nul(text for pair in chosen for text in pair)
            return encode_pairs(chosen).encode(), "application/x-www-form-urlencoded", 400 if nul else None, False
        if kind == "json":
            value = draw(JSON_OBJECTS)
            content_type = draw(st.sampled_from(["application/json", "application/merge-patch+json"]))
            if not self.json_read:
                return json.dumps(value).encode(), content_type, 415, False
            unstorable = any(UNSTORABLE.search(text) for pair in value.items() for text in pair)
            return json.dumps(value).encode(), content_type, 400 if unstorable else None, False
        if kind == "raw":
            body = draw(st.one_of(st.sampled_from(RAW_BODIES), st.binary(max_size=200)))
            content_type = draw(st.sampled_from(CONTENT_TYPES))
            return body, content_type, 415 if content_type.endswith("json") and not self.json_read else None, True
        parts: list[tuple[str | None, str | None, bytes]] = []
        for name, value in draw(self.form):
            if name in FILE_HINTS and not draw(chance(2)):
                parts.append((name, *FILE_HINTS[name]))
            elif name in self.world.file_fields or draw(chance(10)):
                parts.append((name, draw(FILE_NAMES), draw(FILE_CONTENTS)))
            else:
                parts.append((name, None, value.encode("utf-8", "surrogatepass")))
        nameless = draw(chance(5))
        if nameless:
            parts.insert(draw(st.integers(0, len(parts))), (None, draw(st.sampled_from([None, "e.json"])), b"value"))
        sent = [text for name, filename, _ in parts for text in (name or "", filename or "")]
        sent += [content.decode("utf-8", "surrogatepass") for _, filename, content in parts if filename is None]
        # Quotes, line breaks, backslashes or surrogates in a part's header: what the parser makes of it is its own.
        garbled = any(re.search(r'["\r\n\\\ud800-\udfff]', text) for text in sent)
        # The simulator's routes read a body as JSON, never as a form.
        refusal = 400 if (nameless or has_nul(sent)) and not garbled and not self.json_read else None
        return multipart(parts), f"multipart/form-data; boundary={BOUNDARY}", refusal, garbled

    def strategy(self) -> st.SearchStrategy[Call]:
        """One call of the route as the role."""

        @st.composite
        def calls(draw) -> Call:
            path, path_nul = self.path(draw)
            query = draw(self.query) if self.method == "GET" or draw(chance(2)) else []
            url_nul = path_nul or has_nul(text for pair in query for text in pair)
            call = Call(self.role, self.method, path, encode_pairs(query), aim=self.key)
            if self.method in ("POST", "PUT", "PATCH", "DELETE"):
                call.body, call.content_type, call.refusal, call.loose = self.body(draw)
            if url_nul:
                call.refusal = 400  # the edge reads the path and the query string first
            return call

        return calls()


@pytest.mark.parametrize("role", CONSOLE_ROLES)
@pytest.mark.parametrize("key", CONSOLE_ROUTES)
def test_console_route(world, key, role):
    examples = EXAMPLES if role in promise(key).who else REFUSED_EXAMPLES
    calls = ConsoleCalls(world, key, role).strategy()

    @settings(FUZZ_SETTINGS, max_examples=examples)
    @given(st.data())
    def fuzz(data):
        world.heal(role)
        world.check(data.draw(calls, label="call"))

    fuzz()


def corp_call(slug: str) -> Call:
    return Call(ADMIN, "POST", "/corps", body=f"slug={slug}&name=Fuzz".encode(), content_type=FORM, aim="POST /corps")


def test_the_oracle_fails_a_call_that_writes_where_its_route_may_not(world, monkeypatch):
    world.heal(ADMIN)
    monkeypatch.setitem(ROUTES, "POST /corps", may(ADMINS, {302, 400}, "audit_events"))  # corps left out
    with pytest.raises(AssertionError, match=r"changed rows it may not .*'corps'"):
        world.check(corp_call("oraclecorp1"))


def test_the_oracle_fails_a_status_its_route_does_not_answer(world, monkeypatch):
    world.heal(ADMIN)
    monkeypatch.setitem(ROUTES, "POST /corps", may(ADMINS, {200}, "corps audit_events"))
    with pytest.raises(AssertionError, match=r"answered 302; POST /corps answers admin \[200\]"):
        world.check(corp_call("oraclecorp2"))


def test_the_oracle_fails_a_success_where_the_input_called_for_a_refusal(world):
    world.heal(ADMIN)
    call = corp_call("oraclecorp3")
    call.refusal = 400  # pretend the input called for a refusal: the app creates the corp, 302
    with pytest.raises(AssertionError, match="answered 302; the input alone calls for 400"):
        world.check(call)


def test_a_nul_in_a_form_is_refused_as_the_oracle_says(world):
    call = corp_call("nul\x00corp")
    call.refusal = 400
    world.heal(ADMIN)
    world.check(call)


def test_every_route_has_a_row_and_every_row_a_route(world):
    keys = route_keys(world.app)
    missing = [key for key in keys if key not in ROUTES]
    stale = [key for key in ROUTES if key not in keys]
    assert not missing, f"routes without a row in tests/fuzz/world.ROUTES (add one each): {missing}"
    assert not stale, f"rows of tests/fuzz/world.ROUTES that name no route (remove or rename them): {stale}"
    assert keys == collected_routes()  # the fuzzed app has the routes the tests were collected for


def test_a_route_without_a_row_fails_naming_it():
    with pytest.raises(pytest.fail.Exception, match=r"GET /no-such-page has no row in ROUTES"):
        promise("GET /no-such-page")


def test_the_crawl_found_the_forms(world):
    assert {"username", "password"} <= set(world.fields["POST /sign-in"])
    assert {"q", "sort", "dir", "per_page"} <= set(world.fields["GET /users"])
    assert {"element", "config"} <= world.file_fields
    offered = world.fields["POST /users/<int:user_id>/corps"]["corp_id"]  # the corps a user is not in, by id
    assert offered and all(value.isdigit() for value in offered)
