"""Times as people read them: stored in UTC, shown in the console's zone (CONSOLE_TIMEZONE), always naming it."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask import current_app


def console_zone() -> ZoneInfo:
    """The zone the console shows times in (config CONSOLE_TIMEZONE, checked at start-up)."""
    return ZoneInfo(current_app.config["CONSOLE_TIMEZONE"])  # zoneinfo caches each zone: no file read per call


def offset_label(moment: datetime) -> str:
    """A local moment's offset from UTC: "UTC+08:00", "UTC-03:30", "UTC"."""
    offset = moment.utcoffset()
    if not offset:
        return "UTC"
    minutes = int(offset.total_seconds()) // 60
    sign = "+" if minutes >= 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def zone_label(moment: datetime) -> str:
    """The short name of a local moment's zone: its abbreviation ("CST", "CEST", "UTC"), else its offset.

    Many zones have no letters of their own (tzdata writes "+08" for Asia/Singapore): those show "UTC+08:00".
    """
    abbreviation = moment.tzname() or ""
    return abbreviation if abbreviation.isalpha() else offset_label(moment)


def to_console_zone(moment: datetime, zone: ZoneInfo | None = None) -> datetime:
    """The same moment in the console's zone; a naive moment is taken as UTC (how every time is stored)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(zone or console_zone())


def show_time(moment: datetime, seconds: bool = False, zone: ZoneInfo | None = None) -> str:
    """A stored time as a person reads it: "2026-11-25 14:03 CST" in the console's zone."""
    local = to_console_zone(moment, zone)
    return f"{local.strftime('%Y-%m-%d %H:%M:%S' if seconds else '%Y-%m-%d %H:%M')} {zone_label(local)}"


def describe_time(moment: datetime, zone: ZoneInfo | None = None) -> str:
    """The full story of a moment, for a tooltip: "2026-11-25 14:03:27 CST (Asia/Shanghai, UTC+08:00)"."""
    local = to_console_zone(moment, zone)
    return f"{local:%Y-%m-%d %H:%M:%S} {zone_label(local)} ({local.tzinfo}, {offset_label(local)})"


def describe_zone(zone: ZoneInfo | None = None, moment: datetime | None = None) -> str:
    """The console's zone as a page names it: "Asia/Shanghai (CST)", its short name as of `moment` (now)."""
    zone = zone or console_zone()
    local = (moment or datetime.now(UTC)).astimezone(zone)
    return str(zone) if zone_label(local) == str(zone) else f"{zone} ({zone_label(local)})"
