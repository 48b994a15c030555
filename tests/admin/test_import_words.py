"""Import errors in the words of whoever imports: the console's form never speaks of `--update`, and nobody reads
of codecs, bytes or positions; each says what to do.

Before: the console's import said "import it with --update to overwrite it", a file in Latin-1 "'utf-8' codec can't
decode byte 0xe9 in position 11: invalid continuation byte", and a large file "between 0 and 262144 bytes".
"""

from __future__ import annotations

import io
import json
from html import unescape

import pytest

from tests.admin.test_login_methods import instance_upload, stored

CODEC_WORDS = ("codec", "byte", "position", "0xe9", "--update")
LATIN_1 = '{"type": "auths.loginTypes.WeChatMiniType", "title": "Caf\xe9", "backendBundleEntry": "."}'.encode("latin-1")


def posted(admin, data):
    answer = admin.post("/login-methods/import", data=data, content_type="multipart/form-data")
    return answer, unescape(answer.get_data(as_text=True))


def test_an_existing_login_method_says_to_tick_overwrite(app, admin, harness):
    posted(admin, instance_upload())
    before = harness.counts()

    answer, page = posted(admin, instance_upload())

    assert answer.status_code == 400
    assert "login method 'myWeChatMiniLogin' already exists; tick “Overwrite the login method of that name”" in page
    assert "--update" not in page and harness.counts() == before


def test_the_command_line_still_speaks_of_update(app, tmp_path):
    from tests.test_cli import write_instance

    directory = write_instance(tmp_path)
    cli = app.test_cli_runner()
    cli.invoke(args=["login-methods", "import", str(directory)])
    refused = cli.invoke(args=["login-methods", "import", str(directory)])
    assert refused.exit_code == 1 and "import it with --update to overwrite it" in refused.output


def test_a_file_in_another_encoding_says_to_save_it_as_utf_8(admin, harness):
    data = instance_upload()
    data["element"] = (io.BytesIO(LATIN_1), "e.json")
    before = harness.counts()

    answer, page = posted(admin, data)

    assert answer.status_code == 400
    assert "e.json is not valid JSON: it is not text in UTF-8 (nor UTF-16 or UTF-32). Save it as UTF-8" in page
    assert not any(word in page.split("<main")[1] for word in CODEC_WORDS)
    assert harness.counts() == before


def test_the_command_line_says_the_same(app, tmp_path):
    from tests.test_cli import write_instance

    directory = write_instance(tmp_path)
    (directory / "e.json").write_bytes(LATIN_1)
    result = app.test_cli_runner().invoke(args=["login-methods", "import", str(directory)])
    assert result.exit_code == 1 and "Save it as UTF-8" in result.output
    assert not any(word in result.output for word in CODEC_WORDS)


def test_invalid_json_says_where_and_what_to_do(admin):
    data = instance_upload(element='{"title": "x",}')
    answer, page = posted(admin, data)
    assert "e.json is not valid JSON: trailing comma at line 1 column 15. Correct it there and retry." in page


@pytest.mark.parametrize(
    "field, sentence",
    [
        ("element", "e.json can be 256 KB at most: this file is larger."),
        ("config", "The configuration file can be 256 KB at most: this one is larger."),
    ],
)
def test_a_file_too_large_says_the_limit_in_kilobytes(admin, field, sentence):
    data = instance_upload()
    data[field] = (io.BytesIO(b" " * (256 * 1024 + 1) + json.dumps({}).encode()), "big.json")
    answer, page = posted(admin, data)
    assert answer.status_code == 400 and sentence in page
    assert "262144" not in page


def test_a_configuration_file_of_another_name_says_what_to_do(app, admin):
    data = instance_upload()
    data["config"] = (data["config"][0], "other.json")
    answer, page = posted(admin, data)
    assert "does not name the uploaded configuration file 'other.json': upload the file it names" in page
    assert stored(app, "myWeChatMiniLogin") is None
