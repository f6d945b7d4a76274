"""The one Minsk clock (ticker/days.py): a moment's Minsk day, a day's first moment, and the SQL the
views use, held to the tz database rather than to what the code assumes."""

import sqlite3
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from support import query_at

from ticker import days

UTC = timezone.utc
MINSK = ZoneInfo("Europe/Minsk")  # tzdata's own, loaded here, not through days.minsk()
FIXED_SINCE = date(2011, 3, 27)  # Belarus kept its summer time, UTC+3, from that day on
# Far beyond today + 10 years for any day this code will run on, so the range needs no wall clock.
CHECKED_UNTIL = date(2100, 1, 1)


def test_minsk_offset_is_tzdatas_on_every_day_since_2011_03_27():
    hours = int(days.MINSK_OFFSET.split()[0])
    assert days.MINSK_OFFSET == f"{hours:+d} hours"
    offsets = set()
    day = FIXED_SINCE
    while day <= CHECKED_UNTIL:
        for hour in (0, 12):
            moment = datetime(day.year, day.month, day.day, hour, tzinfo=UTC)
            offsets.add(moment.astimezone(MINSK).utcoffset())
        day += timedelta(days=1)
    assert offsets == {timedelta(hours=hours)} == {timedelta(hours=3)}
    # The range begins where the fixed offset does: before it, winter time was UTC+2.
    assert datetime(2011, 1, 15, 12, tzinfo=UTC).astimezone(MINSK).utcoffset() == timedelta(hours=2)
    assert datetime(2011, 3, 26, 12, tzinfo=UTC).astimezone(MINSK).utcoffset() == timedelta(hours=2)
    assert days.minsk().key == "Europe/Minsk"


# Stamps as the database writes them, around Minsk midnight (21:00 UTC), a year's end and a leap day.
AROUND_MIDNIGHT = ["2026-03-16T20:59:59Z", "2026-03-16T21:00:00Z", "2026-03-16T21:00:01Z", "2026-03-17T00:00:00Z",
                   "2025-12-31T20:59:59Z", "2025-12-31T21:00:00Z", "2024-02-28T21:00:00Z", "2024-02-29T20:59:59Z",
                   "2024-02-29T21:00:00Z", "2011-03-27T00:00:00Z"]


@pytest.mark.parametrize("stamp", AROUND_MIDNIGHT)
def test_minsk_day_of_a_stamp_is_tzdatas(stamp):
    moment = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    expected = moment.astimezone(MINSK).date()
    assert days.minsk_day(stamp) == expected
    assert days.minsk_day(moment) == expected
    # Any aware moment: the same instant written in another zone has the same Minsk day.
    assert days.minsk_day(moment.astimezone(ZoneInfo("America/New_York"))) == expected


def test_minsk_day_turns_at_21_00_utc():
    assert days.minsk_day("2026-03-16T20:59:59Z") == date(2026, 3, 16)
    assert days.minsk_day("2026-03-16T21:00:00Z") == date(2026, 3, 17)
    assert days.minsk_day("2025-12-31T21:00:00Z") == date(2026, 1, 1)


@pytest.mark.parametrize("day", [date(2026, 3, 17), date(2026, 1, 1), date(2024, 2, 29), date(2011, 3, 28)])
def test_minsk_midnight_is_the_first_moment_of_the_minsk_day(day):
    midnight = days.minsk_midnight(day)
    # Minsk is UTC+3 on that day (see above): its midnight is 21:00 UTC the day before.
    assert midnight.astimezone(UTC) == datetime(day.year, day.month, day.day, tzinfo=UTC) - timedelta(hours=3)
    assert days.minsk_day(midnight) == day
    assert days.minsk_day(midnight - timedelta(seconds=1)) == day - timedelta(days=1)


def test_the_database_stamp_of_a_minsk_midnight():
    assert days.stamp(days.minsk_midnight(date(2026, 3, 17))) == "2026-03-16T21:00:00Z"
    assert days.stamp(days.minsk_midnight(date(2026, 1, 1))) == "2025-12-31T21:00:00Z"


def test_sqlites_minsk_day_equals_pythons_for_stamps_around_midnight():
    conn = sqlite3.connect(":memory:")
    query = "SELECT " + ", ".join(days.sql_minsk_day("?") for _ in AROUND_MIDNIGHT)
    from_sql = conn.execute(query, AROUND_MIDNIGHT).fetchone()
    assert [date.fromisoformat(d) for d in from_sql] == [days.minsk_day(s) for s in AROUND_MIDNIGHT]
    assert days.sql_minsk_day("b.as_of") == "date(b.as_of, '+3 hours')"


@pytest.mark.parametrize("minsk_time, today", [("2026-03-17 00:30", "2026-03-17"), ("2026-03-16 23:59", "2026-03-16"),
                                               ("2026-01-01 02:00", "2026-01-01")])
def test_sqlites_today_is_today_in_minsk(tmp_path, minsk_time, today):
    """What the views call today: SQLite's 'now', in a process whose clock libfaketime sets."""
    db = tmp_path / "empty.sqlite"
    sqlite3.connect(db).close()
    today_sql = days.sql_minsk_day("'now'")
    [[row]] = query_at(minsk_time, db, f"SELECT {today_sql} AS today")
    assert row["today"] == today
