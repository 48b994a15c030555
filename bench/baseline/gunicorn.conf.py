"""The console's production gunicorn settings, read from its gunicorn.conf.py, with post_fork for the baseline's
engine."""

import runpy

globals().update({key: value for key, value in runpy.run_path("gunicorn.conf.py").items() if not key.startswith("__")})


def post_fork(server, worker):
    """Drop database connections inherited from the master: each worker opens its own."""
    from bench.baseline.app import engine

    engine.dispose(close=False)
