"""Times as the console shows them: stored UTC, shown in CONSOLE_TIMEZONE with the zone named."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from console.times import describe_time, describe_zone, show_time, to_console_zone, zone_label

MOMENT = datetime(2026, 11, 25, 6, 3, 27, tzinfo=UTC)


@pytest.mark.parametrize(
    "zone, shown",
    [
        ("Asia/Shanghai", "2026-11-25 14:03 CST"),
        ("UTC", "2026-11-25 06:03 UTC"),
        ("America/New_York", "2026-11-25 01:03 EST"),
        ("Asia/Singapore", "2026-11-25 14:03 UTC+08:00"),  # tzdata's abbreviation is "+08": the offset says more
        ("Asia/Kolkata", "2026-11-25 11:33 IST"),
        ("America/St_Johns", "2026-11-25 02:33 NST"),
        ("America/Sao_Paulo", "2026-11-25 03:03 UTC-03:00"),
    ],
)
def test_a_time_is_shown_in_the_zone_and_names_it(zone, shown):
    assert show_time(MOMENT, zone=ZoneInfo(zone)) == shown


def test_summer_time_names_its_own_abbreviation():
    berlin = ZoneInfo("Europe/Berlin")
    assert show_time(datetime(2026, 7, 1, 12, 0, tzinfo=UTC), zone=berlin) == "2026-07-01 14:00 CEST"
    assert show_time(datetime(2026, 1, 1, 12, 0, tzinfo=UTC), zone=berlin) == "2026-01-01 13:00 CET"


def test_seconds_on_request_and_a_naive_time_is_taken_as_utc():
    shanghai = ZoneInfo("Asia/Shanghai")
    assert show_time(MOMENT, seconds=True, zone=shanghai) == "2026-11-25 14:03:27 CST"
    assert show_time(MOMENT.replace(tzinfo=None), zone=shanghai) == "2026-11-25 14:03 CST"
    assert to_console_zone(MOMENT.replace(tzinfo=None), shanghai) == MOMENT


def test_the_tooltip_and_the_zone_sentence_name_the_zone_and_its_offset():
    shanghai = ZoneInfo("Asia/Shanghai")
    assert describe_time(MOMENT, zone=shanghai) == "2026-11-25 14:03:27 CST (Asia/Shanghai, UTC+08:00)"
    assert describe_zone(shanghai, MOMENT) == "Asia/Shanghai (CST)"
    assert describe_zone(ZoneInfo("UTC"), MOMENT) == "UTC"
    assert zone_label(MOMENT.astimezone(ZoneInfo("Asia/Singapore"))) == "UTC+08:00"


def test_zones_come_from_the_tzdata_package_where_the_system_has_none():
    zoneinfo.reset_tzpath(to=[])  # as on Windows: no zone files of the system's
    try:
        shanghai = ZoneInfo.no_cache("Asia/Shanghai")
        assert show_time(MOMENT, zone=shanghai) == "2026-11-25 14:03 CST"
    finally:
        zoneinfo.reset_tzpath()
