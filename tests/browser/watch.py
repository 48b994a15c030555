"""What a browser test watches a page for."""

from __future__ import annotations


class PageWatch:
    """Every JavaScript error and console error a page produced."""

    def __init__(self, page):
        self.errors: list[str] = []
        page.on("pageerror", lambda error: self.errors.append(f"pageerror: {error}"))
        page.on("console", lambda message: message.type == "error" and self.errors.append(f"console: {message.text}"))
        page.on("dialog", lambda dialog: dialog.accept())
