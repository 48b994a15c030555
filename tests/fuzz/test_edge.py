"""The edge (console/edge.py): NUL, lone surrogates, JSON of any depth and shape, ids past the columns' range.

Each case answered 500 before the edge refused it.
"""

from __future__ import annotations

import io

import pytest

from tests.fuzz.hostile import HUGE, PAST_INT4, nested

API_BODIES = {
    "login": {"code": "x"},
    "register": {"bindCode": "x"},
    "bind": {"code": "x"},
    "unbind": {},
    "decrypt": {"encryptedData": "x", "iv": "x"},
    "phone": {"code": "x"},
}


@pytest.mark.parametrize("path", [f"/api/v1/wechat-mini/shopLogin/{action}" for action in API_BODIES])
def test_deeply_nested_json_is_invalid_request_on_every_api_endpoint(client, method, path):
    answer = client.post(path, data=nested(100_000), content_type="application/json")
    assert answer.status_code == 400 and answer.json["error"]["code"] == "invalid_request"


@pytest.mark.parametrize("body", ['{"code": ' + nested(100_000) + "}", '{"a":' * 50_000 + "1" + "}" * 50_000])
def test_deeply_nested_json_inside_an_object_is_invalid_request(client, method, body):
    answer = client.post("/api/v1/auth/token", data=body, content_type="text/plain")
    assert answer.status_code == 400 and answer.json["error"]["code"] == "invalid_request"


def test_deeply_nested_json_to_a_console_form_is_refused(admin, unchanged):
    with unchanged():
        answer = admin.post("/corps", data=nested(100_000), content_type="application/json")
    assert answer.status_code == 415


@pytest.mark.parametrize("body", ['{"slug": "acme", "name": 5}', "[1, 2]", '{"slug": ["a", {"b": null}]}'])
def test_json_of_any_shape_to_a_console_form_is_refused(admin, unchanged, body):
    with unchanged():
        answer = admin.post("/corps", data=body, content_type="application/json")
    assert answer.status_code == 415


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/wechat-mini/shop%00Login/login",
        "/api/v1/wechat-mini/%00/register",
    ],
)
def test_nul_in_an_api_path_is_invalid_request(client, method, path, unchanged):
    with unchanged():
        answer = client.post(path, json=API_BODIES["login"] | API_BODIES["register"])
    assert answer.status_code == 400 and answer.json["error"]["code"] == "invalid_request"


@pytest.mark.parametrize(
    "action, body",
    [
        ("login", {"code": "a\u0000b"}),
        ("register", {"bindCode": "x", "name": "nul\u0000name"}),
        ("register", {"bindCode": "\u0000"}),
        ("bind", {"code": "x", "ticket": "\u0000"}),
        ("decrypt", {"encryptedData": "\u0000", "iv": "x"}),
        ("login", {"code": "x", "\u0000": "key"}),
        ("login", {"code": "x", "extra": ["\u0000"]}),
        ("login", {"code": "\ud800"}),  # a lone surrogate: no UTF-8 can carry it to the database
    ],
)
def test_nul_or_a_lone_surrogate_in_a_json_string_is_invalid_request(client, method, action, body, unchanged):
    with unchanged():
        answer = client.post(f"/api/v1/wechat-mini/shopLogin/{action}", json=body)
    assert answer.status_code == 400 and answer.json["error"]["code"] == "invalid_request"
    assert "NUL" in answer.json["error"]["message"] or "surrogate" in answer.json["error"]["message"]


def test_nul_in_a_corp_id_is_invalid_request(client, harness, method, unchanged):
    answer = harness.login(method, "alice")
    registered = harness.post("/wechat-mini/shopLogin/register", {"bindCode": answer.json["bindCode"]})
    with unchanged():
        answer = harness.post("/auth/token", {"loginCode": registered.json["loginCode"], "corpId": "acme\u0000"})
    assert answer.status_code == 400 and answer.json["error"]["code"] == "invalid_request"


@pytest.mark.parametrize(
    "path",
    [
        "/users?q=%00",
        "/users?q=alice%00",
        "/audit?actor=%00",
        "/audit?login_method=a%00",
        "/audit.csv?actor=%00",
        "/users%00",
        "/users/%00",
        "/corps?%00=1",
    ],
)
def test_nul_in_a_console_url_is_400(support, path):
    answer = support.get(path)
    assert answer.status_code == 400
    assert "NUL" in answer.get_data(as_text=True)


@pytest.mark.parametrize(
    "path, data",
    [
        ("/corps", {"slug": "acme\u0000", "name": "Acme"}),
        ("/corps", {"slug": "acme", "name": "Ac\u0000me"}),
        ("/login-methods/new", {"name": "x\u0000", "title": "t", "app_id": "wx1", "app_secret": "s"}),
        ("/accounts", {"username": "new\u0000", "role": "support", "password": "p" * 12, "confirm": "p" * 12}),
    ],
)
def test_nul_in_a_console_form_is_400(admin, path, data, unchanged):
    with unchanged():
        answer = admin.post(path, data=data)
    assert answer.status_code == 400 and "NUL" in answer.get_data(as_text=True)


def test_nul_in_the_sign_in_form_is_400(app, make_account, unchanged):
    make_account("boss")
    with unchanged():
        answer = app.test_client().post("/sign-in", data={"username": "boss\u0000", "password": "x"})
    assert answer.status_code == 400


@pytest.mark.parametrize(
    "path",
    [
        f"/users/{HUGE}",
        f"/users/{PAST_INT4}",
        f"/users/{PAST_INT4}/bindings/1/unbind",
        f"/users/1/bindings/{HUGE}/unbind",
        f"/corps/{HUGE}/rename",
        f"/login-methods/{PAST_INT4}",
        f"/accounts/{HUGE}/password",
    ],
)
def test_ids_past_the_columns_range_are_404(admin, harness, method, path):
    assert harness.register(method, "alice")["user"]["userId"] == 1  # the outer id names a row
    assert admin.get(path).status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        f"/users/{HUGE}/disable",
        f"/users/1/tokens/{PAST_INT4}/revoke",
        f"/users/1/corps/{HUGE}/remove",
        f"/accounts/{PAST_INT4}/disable",
        f"/simulator/apps/{HUGE}",
    ],
)
def test_ids_past_the_columns_range_are_404_on_posts(admin, harness, method, path, unchanged):
    assert harness.register(method, "alice")["user"]["userId"] == 1  # the outer id names a row
    with unchanged():
        assert admin.post(path).status_code == 404


def upload(element: str, config: str) -> dict:
    """The import form's fields: the instance's name, its e.json and its configuration file."""
    return {
        "name": "myWeChatMiniLogin",
        "element": (io.BytesIO(element.encode()), "e.json"),
        "config": (io.BytesIO(config.encode()), "myWeChatMiniLogin.json"),
    }


ELEMENT = (
    '{"type": "auths.loginTypes.WeChatMiniType", "title": "%s", "allowRegister": 1, '
    '"backendBundleEntry": ".", "frontBundleEntry": "./myWeChatMiniLogin.json"}'
)
CONFIG = '{"authConfig": {"appId": "wx1234567890abcdef", "appSecret": "%s"}}'


@pytest.mark.parametrize(
    "element, config, message",
    [
        (ELEMENT % "Shop\\u0000", CONFIG % "s3cr3t", "title"),
        (ELEMENT % "Shop", CONFIG % "s3cr3t\\u0000", "appSecret"),
        (ELEMENT % "Shop", CONFIG % "s3cr3t\\ud800", "appSecret"),
        (nested(100_000), CONFIG % "s3cr3t", "e.json is not valid JSON"),
        (ELEMENT % "Shop", '{"authConfig": ' + nested(100_000) + "}", "is not valid JSON"),
    ],
)
def test_an_uploaded_instance_with_unstorable_text_or_any_depth_is_400(admin, unchanged, element, config, message):
    with unchanged():
        answer = admin.post("/login-methods/import", data=upload(element, config), content_type="multipart/form-data")
    assert answer.status_code == 400 and message in answer.get_data(as_text=True)


BOUNDARY = "edgeBoundary"


def multipart(*parts: str) -> bytes:
    """A multipart body of parts given as their Content-Disposition parameters and value: `name="x"|value`."""
    body = ""
    for part in parts:
        disposition, _, value = part.partition("|")
        body += f"--{BOUNDARY}\r\nContent-Disposition: form-data{disposition}\r\n\r\n{value}\r\n"
    return (body + f"--{BOUNDARY}--\r\n").encode()


@pytest.mark.parametrize(
    "path, body",
    [
        ("/corps", multipart('; name="slug"|acme', "|nameless", '; name="name"|Acme')),
        ("/corps", multipart('; filename="e.json"|nameless file', '; name="slug"|acme', '; name="name"|Acme')),
        ("/login-methods/import", multipart('; name="name"|myWeChatMiniLogin', "|nameless")),
        ("/sign-in", multipart('; name="username"|boss', "|nameless")),
    ],
)
def test_a_multipart_part_without_a_name_is_400(admin, unchanged, path, body):
    with unchanged():
        answer = admin.post(path, data=body, content_type=f"multipart/form-data; boundary={BOUNDARY}")
    assert answer.status_code == 400 and "without a name" in answer.get_data(as_text=True)


@pytest.mark.parametrize(
    "path, body",
    [
        ("/corps", multipart('; name="slug"; filename="slug.txt"|acme', '; name="name"|Acme')),
        ("/accounts", multipart('; name="username"; filename="u"|newbie', '; name="role"|support')),
        ("/users/1/bindings/1/unbind", multipart('; name="reason"; filename="r"|changed phones')),
    ],
)
def test_a_text_field_posted_as_a_file_is_missing_not_a_500(admin, harness, method, unchanged, path, body):
    harness.register(method, "alice")
    with unchanged():
        answer = admin.post(path, data=body, content_type=f"multipart/form-data; boundary={BOUNDARY}")
    assert answer.status_code in (200, 400) and "This field is required." in answer.get_data(as_text=True)


def test_every_console_form_takes_files_only_in_its_file_fields(app):
    from flask_wtf import FlaskForm

    from console.forms import ConsoleForm

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    ours = [form for form in subclasses(FlaskForm) if form.__module__.startswith("console.")]
    assert len(ours) > 10 and all(issubclass(form, ConsoleForm) for form in ours), [
        form.__qualname__ for form in ours if not issubclass(form, ConsoleForm)
    ]
