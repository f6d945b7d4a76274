"""Reading the store: read-only queries with the stdlib sqlite3 module, so read commands start fast."""

import math
import sqlite3
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import NoReturn
from urllib.parse import quote

from ..days import each_day
from ..errors import DatabaseError, NoData
from . import access
from ..model import MONTHLY, Rate, set_from


def _rate(row) -> Rate:
    return Rate(row["code"], date.fromisoformat(row["date"]), row["scale"], Decimal(row["rate_text"]),
                row["unit"], row["cur_id"], *([row["periodicity"]] if "periodicity" in row.keys() else []))


def connect(path: Path) -> sqlite3.Connection:
    """Open the database read-only; a missing or foreign file is a user error.

    A reader who may not create the -wal and -shm files beside it (a folder only the daemon may
    write, while the daemon is stopped) reads it with SQLite's immutable=1 instead, which is safe
    when no -wal file holds changes not yet in the database (see access.immutable_safe).
    """
    if not Path(path).is_file():
        raise NoData(f"no database at {path}; run `ticker backfill` first")
    resolved = Path(path).resolve()
    try:
        conn = _connect(resolved, "mode=ro")
    except sqlite3.OperationalError:
        problem = access.problem(resolved)
        if not problem:
            raise
        if not access.immutable_safe(resolved):
            raise DatabaseError(f"{path}-wal holds changes not yet in the database, and reading them needs the "
                                f"-shm file beside it: {problem.split(': ', 1)[1]}; or start the daemon, "
                                "which folds them in") from None
        conn = _connect(resolved, "immutable=1")
    if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'rates'").fetchone():
        raise NoData(f"{path} has no rates table; run `ticker backfill` first")
    return conn


def _connect(path: Path, mode: str) -> sqlite3.Connection:
    conn = sqlite3.connect(f"file:{quote(str(path))}?{mode}", uri=True)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA busy_timeout = 10000")
    conn.execute("SELECT count(*) FROM sqlite_master").fetchone()  # the first read opens -wal and -shm
    return conn


COLUMNS = "code, date, scale, rate_text, unit, cur_id"


def rate(conn: sqlite3.Connection, code: str, day: date) -> Rate:
    """The rate in force on `day` (for a monthly currency, the one set that month on or before
    `day`: its `date` is the day it was set), or a NoData that says what to run."""
    row = conn.execute(f"SELECT {COLUMNS}, periodicity FROM rates WHERE code = ? AND date = ?",
                       [code, day.isoformat()]).fetchone() or monthly(conn, code, day)
    if row:
        return _rate(row)
    first, last = conn.execute("SELECT min(date), max(date) FROM rates WHERE code = ?", [code]).fetchone()
    if last is None:
        _unknown(conn, code)
    if day.isoformat() > last:
        raise NoData(f"no {code} rate for {day} in the database yet (latest: {last}); run `ticker fetch`")
    if day.isoformat() < first:
        raise NoData(f"no {code} rate before {first} in the database; run `ticker backfill --since {day}`")
    raise NoData(f"the {code} rate for {day} is missing from the database; run `ticker backfill`")


def monthly(conn: sqlite3.Connection, code: str, day: date) -> sqlite3.Row | None:
    """The row of the monthly rate in force on `day`: the last one set from the first of its month
    to `day` (ticker.model.in_force_until); None when none is stored."""
    return conn.execute(
        f"SELECT {COLUMNS}, periodicity FROM rates WHERE code = ? AND periodicity = {MONTHLY}"
        " AND date BETWEEN ? AND ? ORDER BY date DESC LIMIT 1",
        [code, set_from(MONTHLY, day).isoformat(), day.isoformat()]).fetchone()


def _unknown(conn: sqlite3.Connection, code: str) -> NoReturn:
    if conn.execute("SELECT 1 FROM rates LIMIT 1").fetchone() is None:
        raise NoData("the database is empty; run `ticker backfill` first")
    known = ", ".join(c for (c,) in conn.execute("SELECT DISTINCT code FROM rates ORDER BY code"))
    raise NoData(f"no {code} rates in the database (it has {known})")


def previous(conn: sqlite3.Connection, quote_: Rate) -> Rate | None:
    """The last rate before `quote_` that differs from it, compared in BYN per unit."""
    row = conn.execute(
        f"SELECT {COLUMNS} FROM rates_byn"
        " WHERE code = :code AND date < :day AND byn_per_unit <> ("
        "   SELECT byn_per_unit FROM rates_byn WHERE code = :code AND date = :day)"
        " ORDER BY date DESC LIMIT 1",
        {"code": quote_.code, "day": quote_.date.isoformat()},
    ).fetchone()
    return _rate(row) if row else None


@dataclass(frozen=True)
class Series:
    """BYN per `scale` units of `code` on every calendar day from `days[0]`; NaN where no rate is stored."""

    code: str
    scale: int  # the scale in force on the last stored day, so the label reads "BYN per 100 RUB"
    days: list[date]
    values: list[float]


def series(conn: sqlite3.Connection, code: str, first: date, last: date) -> Series:
    """One value a day in [first, last], normalised to BYN across the redenominations.

    Raises NoData when the currency is not in the database or has no rate in the window.
    """
    rows = conn.execute(
        f"SELECT {COLUMNS} FROM rates WHERE code = ? AND date BETWEEN ? AND ? ORDER BY date",
        [code, first.isoformat(), last.isoformat()],
    ).fetchall()
    if not rows:
        if not conn.execute("SELECT 1 FROM rates WHERE code = ? LIMIT 1", [code]).fetchone():
            _unknown(conn, code)
        raise NoData(f"no {code} rates from {first} to {last} in the database; run `ticker backfill`")
    quotes = {q.date: q for q in map(_rate, rows)}
    scale = rows[-1]["scale"]
    days_ = list(each_day(first, last))
    # Exact decimals, one rounding to float: 3.6709 per 100 stays 3.6709, 11900 BYR becomes 1.19.
    values = [float(quotes[d].byn_per_unit * scale) if d in quotes else math.nan for d in days_]
    return Series(code, scale, days_, values)


def coverage(conn: sqlite3.Connection) -> list[sqlite3.Row]:
    """Per currency: rows, first and last date, days missing between its first and last daily rate,
    monthly rates stored, and `until`: the last day a stored rate is in force (a monthly one, to the
    end of the month it was set in)."""
    return conn.execute(
        "SELECT code, count(*) AS rows, min(date) AS first, max(date) AS last,"
        " coalesce(CAST(julianday(max(CASE WHEN periodicity = 0 THEN date END))"
        " - julianday(min(CASE WHEN periodicity = 0 THEN date END)) + 1 - sum(periodicity = 0) AS INTEGER), 0)"
        " AS missing, sum(periodicity = 1) AS monthly,"
        " max(CASE WHEN periodicity = 0 THEN date ELSE date(date, 'start of month', '+1 month', '-1 day') END)"
        " AS until FROM rates GROUP BY code ORDER BY code"
    ).fetchall()


def quoted_on(conn: sqlite3.Connection, day: date) -> list[str]:
    """Currencies the cached catalogue says NBRB quotes on `day`, in its daily or its monthly list."""
    return [code for (code,) in conn.execute(
        "SELECT DISTINCT code FROM currencies WHERE date_start <= :d AND date_end >= :d"
        " ORDER BY code", {"d": day.isoformat()})]


def last_fetch(conn: sqlite3.Connection, status: str) -> sqlite3.Row | None:
    """The last fetch or backfill to end with `status`; catalogue reads nest inside those."""
    return conn.execute(
        "SELECT id, kind, detail, started_at, finished_at, rows_new, rows_changed, error FROM fetches"
        " WHERE status = ? AND kind <> 'catalogue' ORDER BY id DESC LIMIT 1", [status]
    ).fetchone()


HISTORY = "date, code, scale, rate_text, unit, cur_id, periodicity"


def history(conn: sqlite3.Connection, codes=(), since: date | None = None, until: date | None = None):
    """Stored rows as plain tuples (HISTORY's columns) in date then code order, streamed from the cursor:
    those dated `since` to `until`, and a monthly rate set earlier in `since`'s month (in force on `since`).

    Named codes the database has never seen raise NoData before the first row.
    """
    for code in codes:
        if not conn.execute("SELECT 1 FROM rates WHERE code = ? LIMIT 1", [code]).fetchone():
            _unknown(conn, code)
    since = since or date.min
    where = ["date BETWEEN ? AND ?", f"(date >= ? OR periodicity = {MONTHLY})"]
    args = [set_from(MONTHLY, since).isoformat(), (until or date.max).isoformat(), since.isoformat()]
    if codes:
        where.append(f"code IN ({', '.join('?' * len(codes))})")
        args += list(codes)
    cursor = conn.cursor()
    cursor.row_factory = None  # tuples: the export loop is the hot path
    return cursor.execute(f"SELECT {HISTORY} FROM rates WHERE {' AND '.join(where)} ORDER BY date, code", args)


def ended(conn: sqlite3.Connection, day: date) -> dict[str, str]:
    """Currencies the cached catalogue says NBRB stopped quoting (in either list) before `day`: code -> last day."""
    return dict(conn.execute(
        "SELECT code, max(date_end) FROM currencies GROUP BY code HAVING max(date_end) < ?"
        " ORDER BY code", [day.isoformat()]).fetchall())


def rates_from(conn: sqlite3.Connection, code: str, day: date) -> list[Rate]:
    """The rates of `code` in force on `day` and later, in date order, after the last one stored
    before `day` (what the first is compared with); [] when none is stored from `day` on."""
    rows = conn.execute(
        f"SELECT {COLUMNS} FROM rates WHERE code = :code AND date >= coalesce("
        "(SELECT max(date) FROM rates WHERE code = :code AND date < :day), :day) ORDER BY date",
        {"code": code, "day": day.isoformat()},
    ).fetchall()
    rates = [_rate(row) for row in rows]
    return rates if rates and rates[-1].date >= day else []


def last_day(conn: sqlite3.Connection, codes) -> date | None:
    """The last day every one of `codes` has a rate stored for; None when one has none."""
    lasts = [conn.execute("SELECT max(date) FROM rates WHERE code = ?", [code]).fetchone()[0] for code in codes]
    return None if not lasts or None in lasts else date.fromisoformat(min(lasts))
