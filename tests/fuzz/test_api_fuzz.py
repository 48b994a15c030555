"""Property-based fuzz of every API route with real credentials: no credential, one that must not work (revoked, a
disabled user's, malformed, a console session's cookie) and a live bearer token. No 5xx, the status the oracle
allows (and the OpenAPI document lists: tests/helpers.RecordingClient), and rows changed only by a success, only in
the tables its route may write (tests/fuzz/world.py).

tests/api/test_fuzz.py runs schemathesis over the document: it knows the schema, not the world. This fuzz adds what it
cannot: live codes, bindCodes, loginCodes, tickets and sealed data minted for each call (so that successes happen
and are checked too), the hostile values of hostile.py in every field, the callers a token must tell apart, and the
row oracle. Routes come from app.url_map, so a new endpoint is fuzzed as soon as it has its row in world.ROUTES.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from console.edge import MAX_JSON_DEPTH, UNSTORABLE
from tests.fuzz.hostile import RAW_BODIES, chance, json_values, texts
from tests.fuzz.world import (
    ADMIN,
    API_CALLERS,
    BEARER,
    FUZZ_SETTINGS,
    STRANGER,
    Call,
    Existing,
    Fresh,
    collected_routes,
    encode_pairs,
    encode_path_value,
    has_nul,
    is_api,
    promise,
)

API_ROUTES = [key for key in collected_routes() if is_api(key)]
EXAMPLES = 15  # per route and caller it serves
REFUSED_EXAMPLES = 8  # per route and caller without a live token: the body is still read first

# Body fields that take a value this service issued: minted fresh for the call (a sealed payload fills all four of
# decrypt's fields). The phone endpoint's `code` is a getPhoneNumber code, every other `code` a wx.login() one.
FRESH = {
    "code": "wx_code",
    "bindCode": "bind_code",
    "loginCode": "login_code",
    "ticket": "ticket",
    "encryptedData": "sealed.encryptedData",
    "iv": "sealed.iv",
    "rawData": "sealed.rawData",
    "signature": "sealed.signature",
}
SIMULATED_USERS = st.sampled_from(["alice", "bob", "carol", "new"])
MEANINGFUL = {
    "corpId": st.sampled_from(["acme", "globex", "nowhere"]),
    "name": st.sampled_from(["Alice", "张三", " "]),
    "avatarUrl": st.sampled_from(["https://example.com/a.png", "http://x", "javascript:alert(1)", "https://"]),
}
CONTENT_TYPES = st.sampled_from(["application/json", "application/json", "text/plain", None, "multipart/form-data"])
LATIN_1 = st.text(st.characters(min_codepoint=32, max_codepoint=255), max_size=60)  # what a header can carry


def unstorable(value) -> bool:
    """Whether a JSON value holds a NUL or a lone surrogate in any string, key or value."""
    if isinstance(value, str):
        return UNSTORABLE.search(value) is not None
    if isinstance(value, dict):
        return any(unstorable(key) or unstorable(item) for key, item in value.items())
    if isinstance(value, list):
        return any(unstorable(item) for item in value)
    return False


def depth(raw: bytes) -> int:
    """How deep a raw body's brackets nest (none of the raw bodies has a bracket inside a string)."""
    deepest = level = 0
    for byte in raw:
        level += (byte in b"[{") - (byte in b"]}")
        deepest = max(deepest, level)
    return deepest


def parsed(raw: bytes):
    """A raw body as JSON, or None when it is none (or nests past what Python parses)."""
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        return None


class ApiCalls:
    """The calls of one endpoint by one caller; the strategies are built once."""

    def __init__(self, world, key: str, role: str):
        self.world, self.key, self.role = world, key, role
        self.method, self.rule = key.split(" ", 1)
        endpoint = next(rule.endpoint for rule in world.app.url_map.iter_rules() if rule.rule == self.rule)
        declaration = getattr(world.app.view_functions[endpoint], "declaration", None)
        self.model = declaration.body if declaration is not None else None
        fields = self.model.model_fields if self.model is not None else {}
        required = {name: self.value(name, True) for name, field in fields.items() if field.is_required()}
        optional = {name: self.value(name, True) for name, field in fields.items() if not field.is_required()}
        well_formed = st.fixed_dictionaries(required, optional=optional)
        objects = st.builds(
            lambda chosen, more: {**more, **chosen},
            st.fixed_dictionaries({}, optional={name: self.value(name, False) for name in fields}),
            st.dictionaries(texts(), json_values(), max_size=2),
        )
        self.bodies = st.one_of(
            well_formed, well_formed, well_formed, objects, objects, json_values(), st.sampled_from(RAW_BODIES)
        )
        existing = st.integers(0, 100).map(Existing)
        self.names = st.one_of(existing, existing, existing, st.sampled_from(["a//b", "x/", ""]), texts())
        self.credentials = st.one_of(
            st.sampled_from(range(len(world.strangers))),
            st.just("console"),  # a console admin's session cookie, and no token
            LATIN_1.map(lambda text: {"Authorization": f"Bearer {text}"}),
        )

    def value(self, name: str, plausible: bool) -> st.SearchStrategy:
        """A value for a body field: mostly a live one minted for the call or one that means something here when
        `plausible`, else any text or JSON value as often as those."""
        kind = "phone_code" if name == "code" and self.rule.endswith("/phone") else FRESH.get(name)
        choices = []
        if kind:
            choices.append(st.builds(Fresh, st.just(kind), SIMULATED_USERS))
        if name in MEANINGFUL:
            choices.append(MEANINGFUL[name])
        choices = choices * 4 if plausible else choices
        return st.one_of(*choices, texts(), json_values())

    def strategy(self) -> st.SearchStrategy[tuple[Call, object, str]]:
        """(the call, its body as a JSON value still to mint or None when raw, the login method's name)."""

        @st.composite
        def calls(draw):
            name = ""
            nul = False

            def fill(value) -> str:
                nonlocal name, nul
                if isinstance(value, Existing):
                    known = sorted(self.world.methods)
                    value = known[value.index % len(known)]
                name, nul = value, has_nul([value])
                return encode_path_value(value)

            path = self.rule
            if "<name>" in path:
                path = path.replace("<name>", fill(draw(self.names)))
            query = draw(st.lists(st.tuples(texts(), texts()), max_size=2)) if draw(chance(5)) else []
            call = Call(
                self.role, self.method, path, encode_pairs(query), content_type=draw(CONTENT_TYPES), aim=self.key
            )
            body = draw(self.bodies) if self.method == "POST" or draw(chance(5)) else None
            value = None
            if isinstance(body, bytes):
                call.body = body
                shape = parsed(body)
                if unstorable(shape) or depth(body) > MAX_JSON_DEPTH:
                    call.refusal = 400  # the edge measures and reads any body under /api/, before routing
                call.invalid_body = self.model is not None and not isinstance(shape, dict)
                call.loose = self.model is None  # the edge measures and reads any body, even one nobody asked for
            elif body is not None:
                value = body
                if unstorable(body):
                    call.refusal = 400
                call.invalid_body = self.model is not None and not isinstance(body, dict)
            if nul or has_nul(text for pair in query for text in pair):
                call.refusal = 400
            if self.role == STRANGER:
                credential = draw(self.credentials)
                if credential == "console":
                    call.client = ADMIN  # the admin's signed-in console client, its cookie and no token
                else:
                    call.headers = self.world.strangers[credential] if isinstance(credential, int) else credential
            return call, value, name

        return calls()


@pytest.mark.parametrize("role", API_CALLERS)
@pytest.mark.parametrize("key", API_ROUTES)
def test_api_route(world, key, role):
    examples = EXAMPLES if role in promise(key).who else REFUSED_EXAMPLES
    calls = ApiCalls(world, key, role).strategy()

    @settings(FUZZ_SETTINGS, max_examples=examples)
    @given(st.data())
    def fuzz(data):
        call, value, name = data.draw(calls, label="call")
        world.heal(call.client or role)
        if value is not None:
            call.body = json.dumps(world.resolve(value, name)).encode()
        if role == BEARER:
            call.headers = {"Authorization": f"Bearer {world.bearer}"}
        world.check(call)

    fuzz()
