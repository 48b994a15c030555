"""The simulator page (WECHAT_SIMULATOR=1 only): play a mini program against the real API in the browser."""

from __future__ import annotations

import functools

from flask import abort, current_app, flash, redirect, render_template, url_for

from console import demo
from console.admin import admin_required, bp, found
from console.models import LoginMethod
from console.services import login_methods


def simulator_required(view):
    """404 unless the WeChat simulator is mounted."""

    @functools.wraps(view)
    def guarded(*args, **kwargs):
        if not current_app.config["WECHAT_SIMULATOR"]:
            abort(404)
        return view(*args, **kwargs)

    return guarded


@bp.get("/simulator")
@simulator_required
def simulator_index():
    """Pick a login method and a simulated WeChat user; the page's script calls the API like a mini program."""
    return render_template(
        "admin/simulator.html",
        methods=login_methods.list_methods(),
        simulated=demo.simulated_app_ids(),
        control_open=current_app.config["CONSOLE_DEMO"],  # the control API is mounted in the demo only
    )


@bp.post("/simulator/apps/<int:method_id>")
@simulator_required
@admin_required
def simulator_register(method_id: int):
    """Teach the simulator a login method's appId and appSecret (the secret stays on the server)."""
    method = found(LoginMethod, method_id, "login method")
    demo.register_with_simulator(method)
    flash(f"The simulator now knows {method.title} ({method.app_id}).", "success")
    return redirect(url_for(".simulator_index", method=method.name))
