"""The one Minsk clock, and the calendar: today in Minsk, a moment's Minsk day, the database's UTC
stamps, runs and spans of days.

NBRB's dates are Minsk dates, so "today" is today in Minsk whatever the machine's zone; every part
of ticker asks here (and the views ask SQLite through `sql_minsk_day`).
"""

from datetime import date, datetime, time, timedelta, timezone
from functools import cache


@cache
def minsk():
    """Europe/Minsk, loaded on first use: a command given --date never needs it."""
    from zoneinfo import ZoneInfo

    return ZoneInfo("Europe/Minsk")


def today() -> date:
    """Today in Minsk, whatever the machine's zone: NBRB dates are Minsk dates."""
    return datetime.now(minsk()).date()


def minsk_day(moment: "datetime | str") -> date:
    """The Minsk day of a moment: an aware datetime, or a UTC stamp as the database writes them."""
    if isinstance(moment, str):
        moment = parse_stamp(moment)
    return moment.astimezone(minsk()).date()


def minsk_midnight(day: date) -> datetime:
    """The moment a Minsk day begins."""
    return datetime.combine(day, time(), minsk())


# Minsk has kept UTC+3 all year since 2011-03-27 (no daylight saving), the only offset of every
# stamp ticker writes; SQLite knows no zones, so the views shift UTC by it (a test holds it to tzdata).
MINSK_OFFSET = "+3 hours"


def sql_minsk_day(utc: str) -> str:
    """SQL for the Minsk day of a UTC moment: `sql_minsk_day("'now'")` is today in Minsk."""
    return f"date({utc}, '{MINSK_OFFSET}')"


WORDS = {"yesterday": -1, "today": 0, "tomorrow": 1}  # days from today in Minsk


def parse_day(text: str) -> date:
    """`YYYY-MM-DD`, or `today`, `tomorrow`, `yesterday` in Minsk; ValueError for anything else."""
    word = text.strip().lower()
    if word in WORDS:
        return today() + timedelta(days=WORDS[word])
    return date.fromisoformat(text)


STAMP = "%Y-%m-%dT%H:%M:%SZ"  # every timestamp in the database: UTC ISO-8601


def stamp(moment: datetime | None) -> str | None:
    """A moment as the database writes times; None stays None."""
    return moment.astimezone(timezone.utc).strftime(STAMP) if moment else None


def utcnow() -> str:
    return stamp(datetime.now(timezone.utc))


def parse_stamp(text: str) -> datetime:
    return datetime.strptime(text, STAMP).replace(tzinfo=timezone.utc)


def spans(first: date, last: date, length: int):
    """Split [first, last] into consecutive inclusive spans of at most `length` days."""
    while first <= last:
        end = min(last, first + timedelta(days=length - 1))
        yield first, end
        first = end + timedelta(days=1)


def runs(days):
    """Group sorted dates into inclusive runs of consecutive days."""
    start = prev = None
    for day in days:
        if prev is not None and day == prev + timedelta(days=1):
            prev = day
            continue
        if start is not None:
            yield start, prev
        start = prev = day
    if start is not None:
        yield start, prev


def each_day(first: date, last: date):
    for n in range((last - first).days + 1):
        yield first + timedelta(days=n)
