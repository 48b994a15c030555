"""The bare baseline: POST /login {"code"} calls the WeChat stand-in, does one indexed SELECT and one INSERT.

Nothing else: no validation beyond the JSON, no audit, no session key, no cache, no log line. It reads
DATABASE_URL, WECHAT_API_BASE and WECHAT_TIMEOUT like the console, and takes the console's SQLite
settings (WAL, busy timeout, writes that begin as writes) from console.database, so both contenders meet
the same database.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from datetime import UTC, datetime, timedelta

import requests
from flask import Flask, jsonify, request
from sqlalchemy import create_engine, insert, select

from bench.baseline.schema import LOGIN_METHOD_ID, bindings, codes
from console.database import WRITE_OPTION

JSCODE2SESSION = os.environ["WECHAT_API_BASE"] + "/sns/jscode2session"
TIMEOUT = float(os.environ.get("WECHAT_TIMEOUT", "5"))
CODE_TTL = 120

engine = create_engine(os.environ["DATABASE_URL"], pool_pre_ping=True)
http = requests.Session()
app = Flask(__name__)


@app.post("/login")
def login():
    """A loginCode for the registered WeChat user of a wx.login() code."""
    code = (request.get_json(force=True, silent=True) or {}).get("code")
    params = {"appid": "wxbaseline", "secret": "baseline", "js_code": code, "grant_type": "authorization_code"}
    openid = http.get(JSCODE2SESSION, params=params, timeout=TIMEOUT).json().get("openid")
    value = secrets.token_urlsafe(32)
    with engine.connect().execution_options(**{WRITE_OPTION: True}) as connection, connection.begin():
        user_id = connection.scalar(
            select(bindings.c.user_id).where(bindings.c.login_method_id == LOGIN_METHOD_ID, bindings.c.openid == openid)
        )
        if user_id is None:
            return jsonify({"error": "unknown user"}), 404
        expires_at = datetime.now(UTC).replace(tzinfo=None) + timedelta(seconds=CODE_TTL)
        connection.execute(
            insert(codes).values(
                digest=hashlib.sha256(value.encode()).hexdigest(), user_id=user_id, expires_at=expires_at
            )
        )
    return jsonify({"loginCode": value, "expiresIn": CODE_TTL})
