"""Reading the store: read-only queries with the stdlib sqlite3 module, so read commands start fast."""

import math
import sqlite3
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import NoReturn
from urllib.parse import quote

from ..days import each_day, minsk
from ..errors import NoData
from ..model import Rate


def _rate(row) -> Rate:
    return Rate(row["code"], date.fromisoformat(row["date"]), row["scale"], Decimal(row["rate_text"]),
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


def rate(conn: sqlite3.Connection, code: str, day: date) -> Rate:
    """The rate in force on `day`, or a NoData that says what to run."""
    row = conn.execute(f"SELECT {COLUMNS} FROM rates WHERE code = ? AND date = ?", [code, day.isoformat()]).fetchone()
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
    """The last fetch or backfill to end with `status`; catalogue reads nest inside those."""
    return conn.execute(
        "SELECT id, kind, detail, started_at, finished_at, rows_new, rows_changed, error FROM fetches"
        " WHERE status = ? AND kind <> 'catalogue' ORDER BY id DESC LIMIT 1", [status]
    ).fetchone()


HISTORY = "date, code, scale, rate_text, unit, cur_id"


def history(conn: sqlite3.Connection, codes=(), since: date | None = None, until: date | None = None):
    """Stored rows as plain tuples (HISTORY's columns) in date then code order, streamed from the cursor.

    Named codes the database has never seen raise NoData before the first row.
    """
    for code in codes:
        if not conn.execute("SELECT 1 FROM rates WHERE code = ? LIMIT 1", [code]).fetchone():
            _unknown(conn, code)
    where, args = ["date BETWEEN ? AND ?"], [(since or date.min).isoformat(), (until or date.max).isoformat()]
    if codes:
        where.append(f"code IN ({', '.join('?' * len(codes))})")
        args += list(codes)
    cursor = conn.cursor()
    cursor.row_factory = None  # tuples: the export loop is the hot path
    return cursor.execute(f"SELECT {HISTORY} FROM rates WHERE {' AND '.join(where)} ORDER BY date, code", args)


# -- commercial banks' buy and sell rates -----------------------------------------------------


@dataclass(frozen=True)
class BankPoint:
    """Where a bank rate is offered."""

    bank: str  # the source id: belarusbank
    point_id: str  # the bank's id for the point
    label: str
    address: str
    hours: str
    effective_at: str | None  # when the bank's rate set took effect, as published (Minsk time), or None
    since: str  # UTC stamp: the first answer that quoted this value here


@dataclass(frozen=True)
class BankBest:
    """The best rate on one side in a city: BYN per `scale` units, and every point offering it."""

    side: str  # buy (the bank buys the currency: the highest is best) or sell (it sells: the lowest is best)
    rate: Decimal
    scale: int
    checked: bool  # False when no official rate was there to check its scale against
    points: list[BankPoint]
    quoting: int  # points in the city quoting this side at all


@dataclass(frozen=True)
class BankRates:
    """A city's best bank buy and sell rates for one currency at one moment, and NBRB's rate beside them."""

    code: str
    city: str
    as_of: str  # UTC stamp of the answer these rates come from
    buy: BankBest | None
    sell: BankBest | None
    official: Rate | None  # NBRB's rate in force on the Minsk day of `as_of`, when stored

    def vs_official(self, best: BankBest | None) -> Decimal | None:
        """How far `best` is from the official rate, in percent (exact); None without both."""
        if best is None or self.official is None:
            return None
        official = self.official.byn_per_unit
        return (best.rate / best.scale - official) * 100 / official


def _banks_stored(conn: sqlite3.Connection) -> None:
    if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'bank_rates'").fetchone() or \
            not conn.execute("SELECT 1 FROM bank_polls WHERE status = 'ok' LIMIT 1").fetchone():
        raise NoData("no bank rates in the database; run `ticker bank-fetch`, or enable [belarusbank] for `ticker run`")


def bank_cities(conn: sqlite3.Connection) -> list[tuple[str, int]]:
    """(city, points) of every city with bank rates now, the most points first."""
    _banks_stored(conn)
    return [(city, n) for city, n in conn.execute(
        "SELECT p.city, count(DISTINCT p.id) AS n FROM bank_rates AS r INDEXED BY bank_rates_open"
        " JOIN bank_points AS p ON p.id = r.point WHERE r.last_seen IS NULL GROUP BY p.city ORDER BY n DESC, p.city")]


def bank_rates(conn: sqlite3.Connection, code: str, city: str, at: str | None = None) -> BankRates:
    """The best buy and sell rates of `code` against BYN in `city` (as the bank writes it, any case),
    now or as the last successful poll at or before the UTC stamp `at` saw them.

    Raises NoData naming what is there when the city or the currency has no bank rates.
    """
    _banks_stored(conn)
    cities = {name.casefold(): name for (name,) in conn.execute("SELECT DISTINCT city FROM bank_points")}
    if city.casefold() not in cities:
        known = bank_cities(conn)
        shown = ", ".join(name for name, _ in known[:8]) + (f" and {len(known) - 8} more" if len(known) > 8 else "")
        raise NoData(f"no bank rates for the city {city!r} (cities are named as the bank writes them: {shown})")
    city = cities[city.casefold()]
    columns = ("p.bank, p.point_id, p.label, p.address, p.hours, r.id, r.side, r.scale, r.rate_text, r.checked,"
               " r.effective_at, r.first_seen")
    where = "p.city = :city AND r.code = :code AND r.against = 'BYN'"
    if at is None:
        rows = conn.execute(f"SELECT {columns}, p.last_seen AS as_of FROM bank_points AS p"
                            f" JOIN bank_rates AS r INDEXED BY bank_rates_open ON r.point = p.id"
                            f" WHERE {where} AND r.last_seen IS NULL",
                            {"city": city, "code": code}).fetchall()
    else:
        # The rows the bank's last good answer at or before `at` quoted: seen from first_seen to
        # last_seen (the point's while still quoted). Same-second polls: the newest row wins below.
        rows = conn.execute(
            f"WITH polls AS (SELECT bank, max(finished_at) AS seen FROM bank_polls"
            f"               WHERE status = 'ok' AND finished_at <= :at GROUP BY bank)"
            f" SELECT {columns}, polls.seen AS as_of FROM bank_points AS p JOIN polls ON polls.bank = p.bank"
            f" JOIN bank_rates AS r ON r.point = p.id"
            f" WHERE {where} AND r.first_seen <= polls.seen AND coalesce(r.last_seen, p.last_seen) >= polls.seen",
            {"city": city, "code": code, "at": at}).fetchall()
    newest = {}
    for row in sorted(rows, key=lambda row: (row["first_seen"], row["id"])):
        newest[row["bank"], row["point_id"], row["side"]] = row
    if not newest:
        quoted = ", ".join(c for (c,) in conn.execute(
            "SELECT DISTINCT r.code FROM bank_rates AS r INDEXED BY bank_rates_open JOIN bank_points AS p"
            " ON p.id = r.point WHERE p.city = ? AND r.against = 'BYN' AND r.last_seen IS NULL ORDER BY r.code", [city]))
        when = f" at {at}" if at else ""
        raise NoData(f"no bank rates for {code} in {city}{when} (quoted there now: {quoted or 'nothing'})")
    as_of = max(row["as_of"] for row in newest.values())
    sides = {side: _best(side, [row for row in newest.values() if row["side"] == side]) for side in ("buy", "sell")}
    official = None
    minsk_day = datetime.fromisoformat(as_of.replace("Z", "+00:00")).astimezone(minsk()).date()
    row = conn.execute(f"SELECT {COLUMNS} FROM rates WHERE code = ? AND date = ?",
                       [code, minsk_day.isoformat()]).fetchone()
    if row:
        official = _rate(row)
    return BankRates(code, city, as_of, sides["buy"], sides["sell"], official)


def _best(side: str, rows: list) -> BankBest | None:
    if not rows:
        return None
    # Exact decimals: the bank buys at the highest rate and sells at the lowest that is best for a client.
    rates = [(Decimal(row["rate_text"]) / row["scale"], row) for row in rows]
    best = (max if side == "buy" else min)(per_unit for per_unit, _ in rates)
    at_best = [row for per_unit, row in rates if per_unit == best]
    points = sorted((BankPoint(row["bank"], row["point_id"], row["label"], row["address"], row["hours"],
                               row["effective_at"], row["first_seen"]) for row in at_best),
                    key=lambda p: (p.address, p.label, p.point_id))
    first = at_best[0]
    return BankBest(side, Decimal(first["rate_text"]), first["scale"], all(row["checked"] for row in at_best),
                    points, len(rows))


def bank_last_poll(conn: sqlite3.Connection) -> dict | None:
    """The last bank answer stored (bank, finished_at, points, quotes, rows_new, refused), or None."""
    if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'bank_polls'").fetchone():
        return None
    row = conn.execute("SELECT bank, finished_at, points, quotes, rows_new, refused FROM bank_polls"
                       " WHERE status = 'ok' ORDER BY id DESC LIMIT 1").fetchone()
    return dict(row) if row else None
