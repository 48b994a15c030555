"""The console in Chinese and English: complete catalogues, the language each request gets, the API's messages."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from babel.support import Translations

from console.extensions import db
from console.models import AdminAccount

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = ROOT / "translations" / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po"


def read_catalogue(path: Path):
    with path.open("rb") as file:
        return read_po(file)


def test_every_message_of_the_chinese_catalogue_is_translated_and_none_is_fuzzy():
    catalogue = read_catalogue(CATALOGUE)
    untranslated = [message.id for message in catalogue if message.id and not message.string]
    fuzzy = [message.id for message in catalogue if message.id and message.fuzzy]
    assert untranslated == [], f"{len(untranslated)} messages untranslated (make i18n, then translate them)"
    assert fuzzy == [], f"{len(fuzzy)} fuzzy messages (check their translation, then remove the fuzzy flag)"


def test_the_catalogue_holds_every_message_the_code_and_templates_mark(tmp_path):
    template = tmp_path / "messages.pot"
    subprocess.run(
        [Path(sys.executable).parent / "pybabel", "-q", "extract", "-F", "babel.cfg", "-k", "N_", "-k", "_l"]
        + ["--no-location", "-o", str(template), "."],
        cwd=ROOT,
        check=True,
    )
    marked = {message.id for message in read_catalogue(template) if message.id}
    missing = marked - {message.id for message in read_catalogue(CATALOGUE) if message.id}
    assert not missing, f"run `make i18n` and translate: {sorted(map(str, missing))[:10]}"


def test_the_compiled_catalogue_is_the_current_one():
    compiled = CATALOGUE.with_suffix(".mo")
    assert compiled.exists(), "make test (or make run) compiles the catalogues"
    with compiled.open("rb") as file:
        translations = Translations(file)
    for message in read_catalogue(CATALOGUE):
        if message.id and isinstance(message.id, str):
            assert translations.gettext(message.id) == message.string, "stale .mo: make test compiles it again"


def test_the_api_answers_in_the_language_accept_language_asks_for(client):
    chinese = client.get("/api/v1/me", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"})
    english = client.get("/api/v1/me")
    assert chinese.json["error"]["code"] == english.json["error"]["code"] == "unauthorized"
    assert chinese.json["error"]["message"] == "需要有效的 Bearer 访问令牌。"
    assert english.json["error"]["message"] == "A valid bearer access token is required."


@pytest.mark.console
@pytest.mark.parametrize(
    ("accept_language", "lang"),
    [("zh-CN,zh;q=0.9", "zh-CN"), ("zh-TW", "zh-CN"), ("en-US,en;q=0.9", "en"), ("fr", "zh-CN"), (None, "zh-CN")],
)
def test_a_page_follows_the_browser_else_console_language(app, client, accept_language, lang):
    app.config["CONSOLE_LANGUAGE"] = "zh_CN"
    headers = {"Accept-Language": accept_language} if accept_language else {}
    page = client.get("/sign-in", headers=headers).get_data(as_text=True)
    assert f'<html lang="{lang}">' in page


@pytest.mark.console
def test_the_switcher_sets_the_language_of_this_browser(client):
    answer = client.post("/language", data={"language": "zh_CN", "next": "/sign-in"})
    assert answer.status_code == 302 and answer.headers["Location"] == "/sign-in"
    assert '<html lang="zh-CN">' in client.get("/sign-in", headers={"Accept-Language": "en"}).get_data(as_text=True)


@pytest.mark.console
def test_the_switcher_refuses_to_send_anyone_elsewhere(client):
    answer = client.post("/language", data={"language": "en", "next": "//evil.example/"})
    assert answer.status_code == 302 and answer.headers["Location"] in ("/", "/dashboard", "/sign-in?next=%2F")


@pytest.mark.console
def test_an_unknown_language_goes_back_to_the_browsers(client):
    client.post("/language", data={"language": "zh_CN"})
    client.post("/language", data={"language": "klingon"})
    assert '<html lang="en">' in client.get("/sign-in", headers={"Accept-Language": "en"}).get_data(as_text=True)


@pytest.mark.console
def test_an_accounts_choice_follows_it_to_another_browser(app, admin, sign_in):
    admin.post("/language", data={"language": "zh_CN"})
    with app.app_context():
        assert db.session.scalar(db.select(AdminAccount.language).where(AdminAccount.username == "boss")) == "zh_CN"
    elsewhere = sign_in("boss")
    assert '<html lang="zh-CN">' in elsewhere.get("/users", headers={"Accept-Language": "en"}).get_data(as_text=True)
