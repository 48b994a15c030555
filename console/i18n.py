"""The console's two languages, Chinese (zh_CN) and English, and which one each request is answered in.

Pages: the language the person chose (kept in the session cookie, and on their account so it follows them to
another browser at sign-in), else the browser's Accept-Language, else CONSOLE_LANGUAGE. The JSON API: its
`code`s never change; its `message` follows Accept-Language, else English (the contract's wording).

The choice is read from the cookie, never from the database: the error pages are rendered in the language too,
also when the database is down (console/errors.py).
"""

from __future__ import annotations

from flask import current_app, request, session
from flask_babel import Babel, get_locale

LANGUAGES = ("zh_CN", "en")
LANGUAGE_NAMES = {"zh_CN": "中文", "en": "English"}  # each in its own language, as every switcher shows them
SESSION_LANGUAGE = "language"
API_DEFAULT_LANGUAGE = "en"

babel = Babel()


def N_(message: str) -> str:
    """Mark a message for the catalogue where it is defined; it is translated where it is shown."""
    return message


def select_locale() -> str:
    """The language of this request (see the module's docstring)."""
    if request.path.startswith("/api/"):
        return request.accept_languages.best_match(LANGUAGES) or API_DEFAULT_LANGUAGE
    chosen = session.get(SESSION_LANGUAGE)
    if chosen in LANGUAGES:
        return chosen
    return request.accept_languages.best_match(LANGUAGES) or current_app.config["CONSOLE_LANGUAGE"]


def current_language() -> str:
    """This request's language as LANGUAGES names it (Babel calls zh_CN zh_Hans_CN)."""
    return "zh_CN" if get_locale().language == "zh" else "en"


def remember_language(language: str | None) -> None:
    """Answer this browser in `language` from now on (None or an unknown one: back to the browser's own)."""
    if language in LANGUAGES:
        session[SESSION_LANGUAGE] = language
    else:
        session.pop(SESSION_LANGUAGE, None)


def init_i18n(app) -> None:
    """Flask-Babel with our catalogues (translations/, compiled by `make run` and `make test`) and selector."""
    import os

    root = os.path.dirname(app.root_path)
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", os.path.join(root, "translations"))
    app.config.setdefault("BABEL_DEFAULT_LOCALE", "en")  # the language the sources are written in
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", app.config["CONSOLE_TIMEZONE"])
    babel.init_app(app, locale_selector=select_locale)
    app.jinja_env.globals.update(LANGUAGE_NAMES=LANGUAGE_NAMES, current_language=current_language)
