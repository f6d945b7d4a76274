"""The calendar: Minsk's today, the database's UTC stamps, runs and spans of days."""

from datetime import date, datetime, timedelta, timezone
from functools import cache


@cache
def minsk():
    """Europe/Minsk, loaded on first use: a command given --date never needs it."""
    from zoneinfo import ZoneInfo

    return ZoneInfo("Europe/Minsk")


def today() -> date:
    """Today in Minsk, whatever the machine's zone: NBRB dates are Minsk dates."""
    return datetime.now(minsk()).date()


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
