"""Read-only queries for `ticker serve`, written for speed: every step is a seek on the primary key.

Per currency, the newest row on or before a day is one `ORDER BY date DESC LIMIT 1` seek (a
loose index scan finds the currencies, reader.CODES); nothing here runs an aggregate per row.
Stdlib sqlite3 on a connection from reader.connect (read-only).
"""

import sqlite3
from datetime import date, timedelta
from decimal import Decimal

from ..model import MONTHLY, Rate, set_from
from .reader import CODES, COLUMNS, _rate

# The newest row of each currency dated on or before :on: one seek per currency.
NEWEST = (CODES + f"SELECT {', '.join('r.' + c for c in COLUMNS.split(', '))}, r.periodicity FROM codes"
          " JOIN rates AS r ON r.code = codes.code AND r.date = (SELECT date FROM rates WHERE code = codes.code"
          " AND date <= :on ORDER BY date DESC LIMIT 1) ORDER BY r.code")


def data_version(conn: sqlite3.Connection) -> int:
    """SQLite's counter that changes when another connection commits to the file: cheap enough to
    ask before every answer, and what says whether `stamp` must be read again."""
    return conn.execute("PRAGMA data_version").fetchone()[0]


def stamp(conn: sqlite3.Connection) -> tuple:
    """What changes whenever the rates or the bank rates change: the rows stored, the last revision,
    the last bank answer. Exact (a new row, a revision, a bank poll each change it) and cheap: a
    count of the primary key's pages and two rowid lookups; the server asks only after SQLite's
    data_version says another connection committed something."""
    rows = conn.execute("SELECT count(*) FROM rates").fetchone()[0]
    revised = conn.execute("SELECT max(id) FROM revisions").fetchone()[0]
    banks = (conn.execute("SELECT max(id) FROM bank_polls").fetchone()[0]
             if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'bank_polls'").fetchone() else None)
    return rows, revised, banks


def in_force(conn: sqlite3.Connection, day: date) -> list[Rate]:
    """Every currency's rate in force on `day`, by code: its daily rate of that day, or the monthly
    rate set that month on or before it; [] when none is stored."""
    return _in_force(list(map(_rate, conn.execute(NEWEST, {"on": day.isoformat()}))), day)


def _in_force(newest: list[Rate], day: date) -> list[Rate]:
    month = set_from(MONTHLY, day)
    return [q for q in newest if q.date == day or (q.periodicity == MONTHLY and q.date >= month)]


def snapshot(conn: sqlite3.Connection, day: date, lookback: int) -> tuple[date, list[Rate]] | None:
    """The rates of the newest day on or before `day`, at most `lookback` days earlier, that has
    daily rates stored: (that day, every rate in force on it). None when there is none.

    NBRB publishes every calendar day, so this is `day` itself unless it is not stored (not
    published yet, or a gap): Frankfurter's "the working day closest to the date".
    """
    newest = list(map(_rate, conn.execute(NEWEST, {"on": day.isoformat()})))
    daily = [q.date for q in newest if q.periodicity != MONTHLY]
    if not daily:
        return None
    found = max(daily)
    if found < day - timedelta(days=lookback):
        return None
    # The same rows answer for `day` itself; an earlier day needs its own (a monthly rate set since).
    return found, _in_force(newest, day) if found == day else in_force(conn, found)


def days_of(rows, first: date):
    """Group reader.history's rows (date then code order, the monthly rate in force on `first`
    included) into (day, {code: Rate in force that day}) for each day from `first` with daily
    rates; a monthly rate counts on every day of its month from the day it was set."""
    monthly: dict[str, Rate] = {}
    day, daily = None, {}
    for row in rows:
        q = Rate(row[1], date.fromisoformat(row[0]), row[2], Decimal(row[3]), row[4], row[5], row[6])
        if q.date != day:
            if daily and day >= first:
                yield day, _with_monthly(daily, monthly, day)
            day, daily = q.date, {}
        if q.periodicity == MONTHLY:
            monthly[q.code] = q
        else:
            daily[q.code] = q
    if daily and day >= first:
        yield day, _with_monthly(daily, monthly, day)


def _with_monthly(daily: dict, monthly: dict, day: date) -> dict:
    month = set_from(MONTHLY, day)
    found = dict(daily)
    for code, q in monthly.items():
        if month <= q.date <= day:
            found.setdefault(code, q)
    return dict(sorted(found.items()))


def extents(conn: sqlite3.Connection) -> dict[str, tuple[str, str]]:
    """code -> (first, last) day stored: two seeks per currency."""
    return {code: (first, last) for code, first, last in conn.execute(
        CODES + "SELECT code, (SELECT date FROM rates WHERE code = codes.code ORDER BY date LIMIT 1),"
        " (SELECT date FROM rates WHERE code = codes.code ORDER BY date DESC LIMIT 1)"
        " FROM codes WHERE code IS NOT NULL")}


def catalogue(conn: sqlite3.Connection) -> dict[str, dict]:
    """code -> its latest record in NBRB's cached catalogue (name_eng, num_code, ...); {} without one."""
    return {row["code"]: dict(row) for row in conn.execute(
        "SELECT code, name_eng, num_code, cur_id, date_start, date_end FROM currencies AS c"
        " WHERE date_start = (SELECT max(date_start) FROM currencies WHERE code = c.code)")}


def known(conn: sqlite3.Connection, code: str) -> bool:
    """Whether NBRB's catalogue or the stored rates know `code` at all."""
    return bool(conn.execute("SELECT 1 FROM currencies WHERE code = ? LIMIT 1", [code]).fetchone()
                or conn.execute("SELECT 1 FROM rates WHERE code = ? LIMIT 1", [code]).fetchone())


def newest_fetched(conn: sqlite3.Connection) -> str | None:
    """When the newest rate of any currency was stored (first, or last revised): its `fetched_at`."""
    row = conn.execute(CODES + "SELECT max((SELECT fetched_at FROM rates WHERE code = codes.code"
                       " ORDER BY date DESC LIMIT 1)) FROM codes WHERE code IS NOT NULL").fetchone()
    return row[0] if row else None


def fetch_failures(conn: sqlite3.Connection) -> int:
    """Fetches and backfills that ended in an error, ever (catalogue reads nest inside those)."""
    return conn.execute("SELECT count(*) FROM fetches WHERE status = 'error' AND kind <> 'catalogue'").fetchone()[0]


def changed_at(conn: sqlite3.Connection) -> str | None:
    """When the last fetch that stored or revised a rate ended: the rates' Last-Modified."""
    return conn.execute("SELECT max(finished_at) FROM fetches WHERE rows_new > 0 OR rows_changed > 0").fetchone()[0]
