"""A WeChat stand-in that answers jscode2session at once: `python -m bench.standin PORT`.

A code "<user>-<anything>" gets the stable openid of <user>, so codes stay unique per request while
logins land on pre-registered users; a code without a dash gets WeChat's 40029. Every answer carries
a fresh session_key, as WeChat's does.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import sys
from urllib.parse import parse_qs, urlsplit

INVALID_CODE = {"errcode": 40029, "errmsg": "invalid code"}


def openid_for(user: str) -> str:
    """The openid (28 characters, like WeChat's) the stand-in gives the WeChat user `user`."""
    return "o" + hashlib.sha256(user.encode()).hexdigest()[:27]


def answer(target: str) -> dict:
    """jscode2session's answer for a request target (path and query string)."""
    code = parse_qs(urlsplit(target).query).get("js_code", [""])[0]
    user, dash, _ = code.partition("-")
    if not (user and dash):
        return INVALID_CODE
    return {"openid": openid_for(user), "session_key": base64.b64encode(os.urandom(16)).decode()}


async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Answer every request of one keep-alive connection."""
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    await reader.readexactly(int(line.split(b":", 1)[1]))
            body = json.dumps(answer(head.split(b" ", 2)[1].decode())).encode()
            writer.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
            )
            await writer.drain()
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError, IndexError):
        pass
    finally:
        writer.close()


async def main(port: int) -> None:
    """Serve on 127.0.0.1:port until killed."""
    server = await asyncio.start_server(serve, "127.0.0.1", port, backlog=1024)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
