"""Read-only access with the stdlib sqlite3 module, so read commands start fast."""

import sqlite3
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from urllib.parse import quote

from .days import PER_BYN
from .errors import NoData


@dataclass(frozen=True)
class Quote:
    """A stored rate: `rate` (exact) in `unit` per `scale` units of `code`, in force on `date`."""

    code: str
    date: date
    scale: int
    rate: Decimal
    unit: str
    cur_id: int

    @property
    def byn_per_unit(self) -> Decimal:
        return self.rate / self.scale / PER_BYN[self.unit]

    @classmethod
    def from_row(cls, row) -> "Quote":
        return cls(row["code"], date.fromisoformat(row["date"]), row["scale"], Decimal(row["rate_text"]),
                   row["unit"], row["cur_id"])


def connect(path: Path) -> sqlite3.Connection:
    """Open the database read-only; a missing or foreign file is a user error."""
    if not Path(path).is_file():
        raise NoData(f"no database at {path}; run `ticker backfill` first")
    conn = sqlite3.connect(f"file:{quote(str(Path(path).resolve()))}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA busy_timeout = 10000")
    if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'rates'").fetchone():
        raise NoData(f"{path} has no rates table; run `ticker backfill` first")
    return conn


COLUMNS = "code, date, scale, rate_text, unit, cur_id"


def rate(conn: sqlite3.Connection, code: str, day: date) -> Quote:
    """The rate in force on `day`, or a NoData that says what to run."""
    row = conn.execute(f"SELECT {COLUMNS} FROM rates WHERE code = ? AND date = ?", [code, day.isoformat()]).fetchone()
    if row:
        return Quote.from_row(row)
    first, last = conn.execute("SELECT min(date), max(date) FROM rates WHERE code = ?", [code]).fetchone()
    if last is None:
        if conn.execute("SELECT 1 FROM rates LIMIT 1").fetchone() is None:
            raise NoData("the database is empty; run `ticker backfill` first")
        known = ", ".join(c for (c,) in conn.execute("SELECT DISTINCT code FROM rates ORDER BY code"))
        raise NoData(f"no {code} rates in the database (it has {known})")
    if day.isoformat() > last:
        raise NoData(f"no {code} rate for {day} in the database yet (latest: {last}); run `ticker fetch`")
    if day.isoformat() < first:
        raise NoData(f"no {code} rate before {first} in the database; run `ticker backfill --since {day}`")
    raise NoData(f"the {code} rate for {day} is missing from the database; run `ticker backfill`")


def previous(conn: sqlite3.Connection, quote_: Quote) -> Quote | None:
    """The last rate before `quote_` that differs from it, compared in BYN per unit."""
    row = conn.execute(
        f"SELECT {COLUMNS} FROM rates_byn"
        " WHERE code = :code AND date < :day AND byn_per_unit <> ("
        "   SELECT byn_per_unit FROM rates_byn WHERE code = :code AND date = :day)"
        " ORDER BY date DESC LIMIT 1",
        {"code": quote_.code, "day": quote_.date.isoformat()},
    ).fetchone()
    return Quote.from_row(row) if row else None


def coverage(conn: sqlite3.Connection) -> list[sqlite3.Row]:
    """Per currency: rows, first and last date, and days missing between them."""
    return conn.execute(
        "SELECT code, count(*) AS rows, min(date) AS first, max(date) AS last,"
        " CAST(julianday(max(date)) - julianday(min(date)) + 1 - count(*) AS INTEGER) AS missing"
        " FROM rates GROUP BY code ORDER BY code"
    ).fetchall()


def quoted_on(conn: sqlite3.Connection, day: date) -> list[str]:
    """Daily currencies the cached catalogue says NBRB quotes on `day`."""
    return [code for (code,) in conn.execute(
        "SELECT DISTINCT code FROM currencies WHERE periodicity = 0 AND date_start <= :d AND date_end >= :d"
        " ORDER BY code", {"d": day.isoformat()})]


def last_fetch(conn: sqlite3.Connection, status: str) -> sqlite3.Row | None:
    return conn.execute(
        "SELECT id, kind, detail, started_at, finished_at, rows_new, rows_changed, error FROM fetches"
        " WHERE status = ? ORDER BY finished_at DESC, id DESC LIMIT 1", [status]
    ).fetchone()
