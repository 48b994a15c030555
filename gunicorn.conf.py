"""gunicorn's settings for production; `gunicorn wsgi:app` reads this file from the working directory.

Threaded workers, because a login waits on WeChat (up to WECHAT_TIMEOUT) without using the CPU.
Override any value with GUNICORN_CMD_ARGS, e.g. GUNICORN_CMD_ARGS="--bind 0.0.0.0:8000 --workers 8".
"""

import multiprocessing
import os

worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2))
threads = int(os.environ.get("GUNICORN_THREADS", 8))
timeout = 30  # a worker silent this long is restarted; far above WECHAT_TIMEOUT
graceful_timeout = 30
keepalive = 5
max_requests = 20_000  # recycle workers now and then: bounded memory whatever leaks
max_requests_jitter = 2_000
preload_app = True  # import once in the master; workers fork with the code already loaded
accesslog = None  # the app logs one structured line per request itself (console.requests)
errorlog = "-"


def post_fork(server, worker):
    """Drop database connections inherited from the master: each worker opens its own."""
    from console.extensions import db
    from wsgi import app

    with app.app_context():
        db.engine.dispose(close=False)
