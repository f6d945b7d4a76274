"""What to tell a person when the record has no answer: why, and the one command that helps.

The hints read the stored range and NBRB's catalogue (the `currencies` table) through the reader,
so they never send anyone to a command that cannot help: no fetch for a day not published yet or
for a currency NBRB no longer quotes, no backfill for a day before NBRB's first rate.
"""

import sqlite3
from datetime import date

from .. import days, sources
from ..errors import NoData
from ..model import PER_BYN, Rate
from ..store import reader


def rate(conn: sqlite3.Connection, code: str, day: date) -> Rate:
    """The rate in force on `day` (see reader.find), or a NoData that says what is true and what to do."""
    found = reader.find(conn, code, day)
    if found is None:
        raise NoData(missing(conn, code, day))
    return found


def known(conn: sqlite3.Connection, codes) -> None:
    """NoData for the first of `codes` the database has never stored."""
    for code in codes:
        if not reader.has(conn, code):
            raise NoData(missing(conn, code))


def banks(conn: sqlite3.Connection) -> None:
    """NoData when the database holds no bank answer at all."""
    if not reader.has_banks(conn):
        sections = ", ".join(f"[{bank}]" for bank in sources.BANKS)
        raise NoData(f"no bank rates in the database; run `ticker bank-fetch`, or enable a bank's section"
                     f" ({sections}) for `ticker run`")


def _published() -> str:
    return sources.get(sources.DEFAULT).schedule.published


def missing(conn: sqlite3.Connection, code: str, day: date | None = None) -> str:
    """Why no `code` rate for `day` (for any day when None) is stored, and what to do about it."""
    if code in PER_BYN:
        if code == "BYN":
            return "BYN is the base currency: every official rate is in BYN per units of another currency"
        return (f"{code} is an old Belarusian rouble with no rate of its own: "
                f"{PER_BYN[code]:,} {code} = 1 BYN (`ticker convert` takes {code} amounts)")
    first, last = reader.stored_range(conn, code)
    listed = reader.catalogued(conn, code)  # NBRB's catalogue lists it, daily or monthly
    # How its rates are set, when one list holds all its records: "daily", "monthly", or "" for both.
    kind = {(0,): "daily ", (1,): "monthly "}.get(listed.lists, "") if listed else ""
    iso = day.isoformat() if day else None
    # An open record ends in 2050 in NBRB's catalogue: only an end already past is an end.
    if day and ended(conn, code, day):
        return ended(conn, code, day)
    if listed and iso and iso < listed.start:
        return f"NBRB has no {kind}{code} rate before {listed.start}"
    if last is None:
        if reader.extent(conn)[1] is None:
            return "the database is empty; run `ticker backfill` first"
        if listed:
            return (f"no {code} rates in the database: it is not tracked; add it to track.currencies"
                    f" in the config, or run `ticker backfill --currency {code}`")
        stored = ", ".join(reader.codes(conn))
        return f"no {code} rates in the database (it has {stored})" + (
            f"; NBRB does not quote {code}" if reader.has_catalogue(conn) else "")
    if day is None:
        return f"no {code} rates in the database"
    today = days.today()
    if day > today:
        return (f"the {code} rate for {day} is not published yet (NBRB publishes rates {_published()});"
                f" the database has {code} up to {last}")
    if iso > last:
        todo = "`ticker fetch`" if day == today else f"`ticker backfill --currency {code}`"
        return f"no {code} rate for {day} in the database yet (it has {code} up to {last}); run {todo}"
    if listed and not reader.quoted(conn, code, day):
        return f"NBRB did not quote {code} on {day}"
    if iso < first:
        fill = f"; `ticker backfill --since {day} --currency {code}` fills it" if listed else ""
        return f"no {code} rate before {first} in the database" + fill
    fill = f"`ticker backfill --since {day} --until {day} --currency {code}` fills it" if listed else "run `ticker backfill`"
    return f"the {code} rate for {day} is missing from the database; {fill}"


def missing_day(conn: sqlite3.Connection, on: date) -> str:
    """Why no rate at all is stored for `on`, and what to do about it."""
    first, last = reader.extent(conn)
    if last is None:
        return "the database is empty; run `ticker backfill` first"
    start = reader.daily_since(conn)
    if start and on.isoformat() < start:
        return f"NBRB has no daily rates before {start}"
    if on > days.today():
        return (f"the rates for {on} are not published yet (NBRB publishes rates {_published()}); the database"
                f" has rates up to {last}")
    if on.isoformat() > last:
        return f"no rates for {on} in the database yet (it has rates up to {last}); run `ticker backfill`"
    if on.isoformat() < first:
        return f"no rates before {first} in the database; `ticker backfill --since {on}` fills them"
    return f"no rates for {on} in the database; `ticker backfill --since {on} --until {on}` fills them"


def ended(conn: sqlite3.Connection, code: str, first: date) -> str | None:
    """"NBRB no longer quotes BGN: its last daily rate is for 2025-12-31" when the catalogue says
    `code` ended before `first` (so no command can fill days from `first` on); else None."""
    listed = reader.catalogued(conn, code)
    if listed and first.isoformat() > listed.end and listed.end < days.today().isoformat():
        kind = {(0,): "daily ", (1,): "monthly "}.get(listed.lists, "")
        return f"NBRB no longer quotes {code}: its last {kind}rate is for {listed.end}"
    return None


def window(conn: sqlite3.Connection, code: str, first: date, last: date) -> str:
    """Why a chart's window has no `code` rate."""
    if not reader.has(conn, code):
        return missing(conn, code)
    gone = ended(conn, code, first)
    if gone:
        stored_first, stored_last = reader.stored_range(conn, code)
        return f"{gone}; the database has {code} from {stored_first} to {stored_last}: chart a window that ends then"
    return f"no {code} rates from {first} to {last} in the database; run `ticker backfill`"
