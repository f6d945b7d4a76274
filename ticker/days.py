"""Calendar facts of the BYN: Minsk's today, the redenominations, request spans."""

from datetime import date, datetime, timedelta, timezone
from functools import cache

# The API never converts history: each row keeps the unit it was published in.
BYR_UNTIL = date(2016, 7, 1)  # BYR -> BYN at 10,000:1 on this day
BYB_UNTIL = date(2000, 1, 1)  # BYB -> BYR at 1,000:1 on this day
PER_BYN = {"BYN": 1, "BYR": 10_000, "BYB": 10_000_000}

MAX_SPAN = 365  # days per dynamics request


def per_unit(rate, scale: int, unit: str):
    """BYN per one unit of a currency quoted at `rate` `unit` per `scale`: exact for Decimals,
    as scales and redenomination factors are powers of ten."""
    return rate / scale / PER_BYN[unit]


@cache
def minsk():
    """Europe/Minsk, loaded on first use: a command given --date never needs it."""
    from zoneinfo import ZoneInfo

    return ZoneInfo("Europe/Minsk")


def today() -> date:
    """Today in Minsk, whatever the machine's zone: NBRB dates are Minsk dates."""
    return datetime.now(minsk()).date()


STAMP = "%Y-%m-%dT%H:%M:%SZ"  # every timestamp in the database: UTC ISO-8601


def stamp(moment: datetime | None) -> str | None:
    """A moment as the database writes times; None stays None."""
    return moment.astimezone(timezone.utc).strftime(STAMP) if moment else None


def utcnow() -> str:
    return stamp(datetime.now(timezone.utc))


def parse_stamp(text: str) -> datetime:
    return datetime.strptime(text, STAMP).replace(tzinfo=timezone.utc)


def unit_on(day: date) -> str:
    """The currency unit NBRB quoted in on that day."""
    if day < BYB_UNTIL:
        return "BYB"
    if day < BYR_UNTIL:
        return "BYR"
    return "BYN"


def spans(first: date, last: date, length: int = MAX_SPAN):
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
