"""Counters of WeChat's refusals, kept in the shared cache: a failed call writes nothing to the database."""

from __future__ import annotations

from datetime import datetime, timedelta

from console.cache import shared_cache
from console.errors import LoginError
from console.models import utcnow

# The contract's codes for WeChat's refusals, in the order a dashboard lists them.
WECHAT_ERROR_CODES = (
    "invalid_code", "code_used", "user_blocked", "wechat_rate_limited", "wechat_misconfigured", "wechat_unavailable",
)
RETENTION = timedelta(hours=25)


def _key(hour: datetime, code: str) -> str:
    return f"wxerr:{hour:%Y%m%d%H}:{code}"


def count_wechat_error(error: LoginError, now: datetime | None = None) -> None:
    """Count one refusal of WeChat in the current hour's bucket."""
    if error.code in WECHAT_ERROR_CODES:
        cache = shared_cache()
        key = _key(now or utcnow(), error.code)
        # cachelib's inc does not set a lifetime: add the key first so it expires after a day
        cache.add(key, 0, timeout=int(RETENTION.total_seconds()))
        cache.inc(key)


def wechat_error_counts(hours: int = 24, now: datetime | None = None) -> dict[str, int]:
    """{code: refusals in the last `hours` hours} for every WeChat error code (zeros included)."""
    now = now or utcnow()
    buckets = [now - timedelta(hours=offset) for offset in range(hours)]
    keys = [_key(hour, code) for hour in buckets for code in WECHAT_ERROR_CODES]
    values = dict(zip(keys, shared_cache().get_many(*keys)))
    return {code: sum(int(values[_key(hour, code)] or 0) for hour in buckets) for code in WECHAT_ERROR_CODES}
