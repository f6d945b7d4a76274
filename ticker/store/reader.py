"""Reading the store: read-only queries with the stdlib sqlite3 module, so read commands start fast."""

import math
import sqlite3
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import NamedTuple
from urllib.parse import quote

from ..days import each_day, minsk, minsk_day, minsk_midnight, sql_minsk_day
from ..errors import DatabaseError, NoData
from ..model import E16, MONTHLY, Rate, in_force_until, set_from
from . import access


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
    problem = access.foreign(conn, path)
    if problem:
        conn.close()
        raise DatabaseError(problem)
    access.warn_if_newer(conn, path)
    if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'rates'").fetchone():
        raise NoData(f"{path} has no rates table; run `ticker backfill` first")
    if not conn.execute("SELECT 1 FROM pragma_table_info('rates') WHERE name = 'byn_per_unit_e16'").fetchone():
        # Migrations run when a writer opens the file: the daemon at start, fetch, backfill.
        raise NoData(f"{path} was written by an older ticker; `ticker fetch` (or restarting `ticker run`) "
                     "brings it up to date")
    return conn


def _connect(path: Path, mode: str) -> sqlite3.Connection:
    conn = sqlite3.connect(f"file:{quote(str(path))}?{mode}", uri=True)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA busy_timeout = 10000")
    conn.execute("SELECT count(*) FROM sqlite_master").fetchone()  # the first read opens -wal and -shm
    return conn


COLUMNS = "code, date, scale, rate_text, unit, cur_id"


def find(conn: sqlite3.Connection, code: str, day: date) -> Rate | None:
    """The rate in force on `day`, for a monthly currency the one set that month on or before `day`
    (its `date` is the day it was set); None when it is not stored."""
    row = conn.execute(f"SELECT {COLUMNS}, periodicity FROM rates WHERE code = ? AND date = ?",
                       [code, day.isoformat()]).fetchone() or monthly(conn, code, day)
    return _rate(row) if row else None


# Each currency stored, one seek on the primary key each (a loose index scan): no scan of the table.
CODES = ("WITH RECURSIVE codes (code) AS (SELECT min(code) FROM rates UNION ALL SELECT (SELECT min(code)"
         " FROM rates WHERE code > codes.code) FROM codes WHERE codes.code IS NOT NULL) ")


def codes(conn: sqlite3.Connection) -> list[str]:
    """Every currency stored, in order."""
    return [c for (c,) in conn.execute(CODES + "SELECT code FROM codes WHERE code IS NOT NULL")]


def has(conn: sqlite3.Connection, code: str) -> bool:
    """Whether any rate of `code` is stored."""
    return conn.execute("SELECT 1 FROM rates WHERE code = ? LIMIT 1", [code]).fetchone() is not None


def stored_range(conn: sqlite3.Connection, code: str) -> tuple[str | None, str | None]:
    """The first and last day stored of `code` (None, None when it has none)."""
    return tuple(conn.execute("SELECT min(date), max(date) FROM rates WHERE code = ?", [code]).fetchone())


class Catalogued(NamedTuple):
    """What NBRB's cached catalogue says of a currency: its first and last day quoted (an open
    record ends 2050-01-01) and the lists (Cur_Periodicity) of its records."""

    start: str
    end: str
    lists: tuple[int, ...]


def catalogued(conn: sqlite3.Connection, code: str) -> Catalogued | None:
    """The catalogue's record of `code`; None when it does not list it (or was never read)."""
    start, end, lists = conn.execute("SELECT min(date_start), max(date_end), group_concat(DISTINCT periodicity)"
                                     " FROM currencies WHERE code = ?", [code]).fetchone()
    if start is None:
        return None
    return Catalogued(start, end, tuple(sorted(int(n) for n in lists.split(","))))


def has_catalogue(conn: sqlite3.Connection) -> bool:
    return conn.execute("SELECT 1 FROM currencies LIMIT 1").fetchone() is not None


def quoted(conn: sqlite3.Connection, code: str, day: date) -> bool:
    """Whether the catalogue has a record of `code` valid on `day`."""
    return conn.execute("SELECT 1 FROM currencies WHERE code = :c AND date_start <= :d AND date_end >= :d",
                        {"c": code, "d": day.isoformat()}).fetchone() is not None


def daily_since(conn: sqlite3.Connection) -> str | None:
    """The first day of NBRB's daily list, by the catalogue."""
    return conn.execute("SELECT min(date_start) FROM currencies WHERE periodicity = 0").fetchone()[0]


def monthly(conn: sqlite3.Connection, code: str, day: date) -> sqlite3.Row | None:
    """The row of the monthly rate in force on `day`: the last one set from the first of its month
    to `day` (ticker.model.in_force_until); None when none is stored."""
    return conn.execute(
        f"SELECT {COLUMNS}, periodicity FROM rates WHERE code = ? AND periodicity = {MONTHLY}"
        " AND date BETWEEN ? AND ? ORDER BY date DESC LIMIT 1",
        [code, set_from(MONTHLY, day).isoformat(), day.isoformat()]).fetchone()


def previous(conn: sqlite3.Connection, rate: Rate) -> Rate | None:
    """The last rate before `rate` that differs from it: compared exactly in BYN per one unit, so
    a new scale with the same value (0.7000 per 10, then 7.0000 per 100) is no change."""
    row = conn.execute(
        f"SELECT {COLUMNS} FROM rates"
        " WHERE code = :code AND date < :day AND byn_per_unit_e16 <> :exact ORDER BY date DESC LIMIT 1",
        {"code": rate.code, "day": rate.date.isoformat(), "exact": rate.byn_per_unit_e16},
    ).fetchone()
    return _rate(row) if row else None


@dataclass(frozen=True)
class Series:
    """BYN per `scale` units of `code` on every calendar day from `days[0]`: `exact` as decimals
    (None where no rate is stored) for comparing, `values` as floats (NaN there) for drawing."""

    code: str
    scale: int  # the scale in force on the last stored day, so the label reads "BYN per 100 RUB"
    days: list[date]
    values: list[float]
    exact: list[Decimal | None]


def series(conn: sqlite3.Connection, code: str, first: date, last: date) -> Series | None:
    """One value a day in [first, last], normalised to BYN across the redenominations; a monthly
    rate fills every day it is in force (to the end of its month), a daily one its own day. None
    when no rate of `code` is in force in the window.
    """
    where, args = _where([code], first, last)
    rows = conn.execute(f"SELECT {COLUMNS}, periodicity FROM rates WHERE {where} ORDER BY date", args).fetchall()
    if not rows:
        return None
    quotes = {}
    for q in map(_rate, rows):
        for day in each_day(max(q.date, first), min(in_force_until(q.periodicity, q.date), last)):
            quotes[day] = q  # a monthly rate set later in the same month replaces it from its day
    scale = rows[-1]["scale"]
    days_ = list(each_day(first, last))
    # Exact decimals, one rounding to float: 3.6709 per 100 stays 3.6709, 11900 BYR becomes 1.19.
    exact = [quotes[d].byn_per_unit * scale if d in quotes else None for d in days_]
    return Series(code, scale, days_, [math.nan if v is None else float(v) for v in exact], exact)


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


def gaps(conn: sqlite3.Connection, code: str, since: date, until: date) -> list[tuple[date, date]]:
    """The runs of days from `since` to `until` on which NBRB's cached catalogue quotes `code` (in
    either list) and no stored rate of that list is in force: what a backfill would fill. Counts
    first, so that a complete record costs a few index seeks and no rows read."""
    from ..days import runs
    from ..model import days_in_force

    missing: list[date] = []
    for start, end, periodicity in conn.execute(
            "SELECT date_start, date_end, periodicity FROM currencies WHERE code = ? AND date_start <= ?"
            " AND date_end >= ? ORDER BY date_start", [code, until.isoformat(), since.isoformat()]).fetchall():
        first, last = max(since, date.fromisoformat(start)), min(until, date.fromisoformat(end))
        if periodicity == 0:
            (count,) = conn.execute("SELECT count(*) FROM rates WHERE code = ? AND date BETWEEN ? AND ?"
                                    " AND periodicity = 0", [code, first.isoformat(), last.isoformat()]).fetchone()
            if count == (last - first).days + 1:
                continue
        set_days = [date.fromisoformat(d) for (d,) in conn.execute(
            "SELECT date FROM rates WHERE code = ? AND date BETWEEN ? AND ? AND periodicity = ?",
            [code, set_from(periodicity, first).isoformat(), last.isoformat(), periodicity])]
        covered = days_in_force(periodicity, set_days)
        missing += [day for day in each_day(first, last) if day not in covered]
    return list(runs(sorted(set(missing))))


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
    """
    where, args = _where(codes, since, until)
    cursor = conn.cursor()
    cursor.row_factory = None  # tuples: the export loop is the hot path
    return cursor.execute(f"SELECT {HISTORY} FROM rates WHERE {where} ORDER BY date, code", args)


def _where(codes, since, until) -> tuple[str, list]:
    since = since or date.min
    where = ["date BETWEEN ? AND ?", f"(date >= ? OR periodicity = {MONTHLY})"]
    args = [set_from(MONTHLY, since).isoformat(), (until or date.max).isoformat(), since.isoformat()]
    if codes:
        where.append(f"code IN ({', '.join('?' * len(codes))})")
        args += list(codes)
    return " AND ".join(where), args


def on_day(conn: sqlite3.Connection, on: date) -> list[Rate]:
    """Every stored currency's rate in force on `on`, by code, monthly rates included (the one set
    that month on or before `on`); [] when none is stored."""
    rows = conn.execute(
        CODES + f"SELECT {', '.join('r.' + c for c in COLUMNS.split(', '))}, r.periodicity FROM codes"
        " JOIN rates AS r ON r.code = codes.code AND r.date = (SELECT max(date) FROM rates WHERE code = codes.code"
        f" AND (date = :on OR (periodicity = {MONTHLY} AND date BETWEEN :month AND :on))) ORDER BY r.code",
        {"on": on.isoformat(), "month": set_from(MONTHLY, on).isoformat()})
    return [_rate(row) for row in rows]


def after(conn: sqlite3.Connection, on: date) -> list[date]:
    """The days after `on` with a stored rate, in order (any currency)."""
    rows = conn.execute(CODES + "SELECT DISTINCT r.date FROM codes JOIN rates AS r ON r.code = codes.code"
                        " AND r.date > ? ORDER BY r.date", [on.isoformat()])
    return [date.fromisoformat(d) for (d,) in rows]


def names(conn: sqlite3.Connection, cur_ids) -> dict[int, str]:
    """Cur_ID -> the currency's English name in NBRB's catalogue (absent when not cached)."""
    ids = list(dict.fromkeys(cur_ids))
    query = f"SELECT cur_id, name_eng FROM currencies WHERE cur_id IN ({', '.join('?' * len(ids))})"
    return dict(conn.execute(query, ids).fetchall()) if ids else {}


def extent(conn: sqlite3.Connection) -> tuple[str | None, str | None]:
    """The first and last day stored, any currency (None, None when empty)."""
    return tuple(conn.execute("SELECT min(date), max(date) FROM rates").fetchone())


def stored(conn: sqlite3.Connection, codes=(), since: date | None = None, until: date | None = None) -> bool:
    """Whether any row matches what `history` would stream."""
    where, args = _where(codes, since, until)
    return conn.execute(f"SELECT 1 FROM rates WHERE {where} LIMIT 1", args).fetchone() is not None


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
    banks: tuple[str, ...] = ()  # source ids of the banks whose points there quote it, in order

    def vs_official(self, best: BankBest | None) -> Decimal | None:
        """How far `best` is from the official rate, in percent (exact); None without both."""
        if best is None or self.official is None:
            return None
        official = self.official.byn_per_unit
        return (best.rate / best.scale - official) * 100 / official


def has_banks(conn: sqlite3.Connection) -> bool:
    """Whether the database holds any good bank answer."""
    return bool(conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'bank_point_sets'").fetchone() and
                conn.execute("SELECT 1 FROM bank_polls WHERE status = 'ok' LIMIT 1").fetchone())


def bank_cities(conn: sqlite3.Connection) -> list[tuple[str, int]]:
    """(city, points) of every city with bank rates now, the most points first (points whose feed
    names no city, and a bank's rates for the whole bank, are in none)."""
    return [(city, n) for city, n in conn.execute(
        "SELECT p.city, count(*) AS n FROM bank_point_sets AS ps INDEXED BY bank_point_sets_open"
        " JOIN bank_points AS p ON p.id = ps.point WHERE ps.last_poll IS NULL AND ps.rate_set IS NOT NULL"
        " AND p.city <> '' GROUP BY p.city ORDER BY n DESC, p.city")]


def bank_city(conn: sqlite3.Connection, city: str) -> str:
    """The city as the banks write it, whatever the case given; NoData naming the cities there are."""
    cities = {name.casefold(): name for (name,) in conn.execute("SELECT DISTINCT city FROM bank_points WHERE city <> ''")}
    if city.casefold() not in cities:
        known = bank_cities(conn)
        shown = ", ".join(name for name, _ in known[:8]) + (f" and {len(known) - 8} more" if len(known) > 8 else "")
        raise NoData(f"no bank rates for the city {city!r} (cities are named as the bank writes them: {shown})")
    return cities[city.casefold()]


# The values a city's answers compare, of every bank: cash (or a feed that does not say), the tier a
# typical exchange gets (Belgazprombank's from 0), at a point in the city. Non-cash rates (MTBank's
# card rates) are another market, and a bank's rates for the whole bank (Alfa-Bank's) are at no point.
COUNTED = "v.typical = 1 AND v.channel <> 'non-cash'"
# The rates against BYN that the points of a city quote: now (their open rows in bank_point_sets),
# or in the last good answer of each bank at or before a moment (the row covering that poll).
BANK_ROWS = """SELECT p.bank, p.point_id, p.label, p.address, p.hours, p.id AS point, ps.first_poll,
       v.id AS value, v.code, v.side, v.scale, v.rate_text, v.per_unit_e16, v.checked, s.effective_at, {as_of} AS as_of
FROM {polls}bank_points AS p
JOIN bank_point_sets AS ps {span}
JOIN bank_sets AS s ON s.id = ps.rate_set
JOIN bank_set_values AS m ON m.rate_set = ps.rate_set
JOIN bank_values AS v ON v.id = m.value
WHERE p.city = :city AND v.against = 'BYN' AND v.code IN ({codes}) AND """ + COUNTED + "{banks}"
NOW = {"as_of": "p.last_seen", "polls": "",
       "span": "INDEXED BY bank_point_sets_open ON ps.point = p.id AND ps.last_poll IS NULL"}
AT = {"as_of": "polls.seen",
      # The polls first (CROSS JOIN keeps them there), so that each point's row is one seek.
      "polls": "(SELECT bank, max(id) AS poll, max(finished_at) AS seen FROM bank_polls"
               " WHERE status = 'ok' AND finished_at <= :at GROUP BY bank) AS polls CROSS JOIN ",
      "span": "ON ps.point = p.id AND p.bank = polls.bank AND ps.first_poll = (SELECT max(first_poll) FROM bank_point_sets"
              " WHERE point = p.id AND first_poll <= polls.poll) AND coalesce(ps.last_poll, polls.poll) >= polls.poll"}


def _banks(banks) -> tuple[str, dict]:
    """SQL and parameters keeping the rows of `banks` (source ids) only; every bank's when empty."""
    names = {f"bank{n}": bank for n, bank in enumerate(banks)}
    return (f" AND p.bank IN ({', '.join(':' + n for n in names)})" if names else ""), names


def _bank_rows(conn: sqlite3.Connection, city: str, codes: list[str], at: str | None, banks=()) -> list[sqlite3.Row]:
    names = [f":code{n}" for n in range(len(codes))]
    which, kept = _banks(banks)
    query = BANK_ROWS.format(codes=", ".join(names), banks=which, **(NOW if at is None else AT))
    return conn.execute(query, {"city": city, "at": at, **kept,
                                **dict(zip((n[1:] for n in names), codes))}).fetchall()


def bank_rates(conn: sqlite3.Connection, code: str, city: str, at: str | None = None, banks=()) -> BankRates:
    """The best buy and sell rates of `code` against BYN in `city` (as the banks write it, any case),
    across every bank (or only `banks`, source ids), now or as the last successful poll of each bank
    at or before the UTC stamp `at` saw them: cash rates, of the tier a typical exchange gets.

    Raises NoData naming what is there when the city or the currency has no bank rates.
    """
    city = bank_city(conn, city)
    found = bank_rates_of(conn, [code], city, at, banks)
    if code not in found:
        which, kept = _banks(banks)
        quoted = ", ".join(c for (c,) in conn.execute(
            "SELECT DISTINCT v.code FROM bank_points AS p JOIN bank_point_sets AS ps INDEXED BY bank_point_sets_open"
            " ON ps.point = p.id AND ps.last_poll IS NULL JOIN bank_set_values AS m ON m.rate_set = ps.rate_set"
            " JOIN bank_values AS v ON v.id = m.value WHERE p.city = :city AND v.against = 'BYN'" + which
            + " ORDER BY v.code", {"city": city, **kept}))
        of = f" of {', '.join(banks)}" if banks else ""
        when = f" at {at}" if at else ""
        raise NoData(f"no bank rates{of} for {code} in {city}{when} (quoted there now: {quoted or 'nothing'})")
    return found[code]


def bank_rates_of(conn: sqlite3.Connection, codes, city: str, at: str | None = None, banks=()) -> dict[str, BankRates]:
    """`bank_rates` of each of `codes` that `city` (as the banks write it) has rates for; {} when none."""
    rows = _bank_rows(conn, city, list(codes), at, banks)
    by_code: dict[str, list] = {}
    for row in rows:
        by_code.setdefault(row["code"], []).append(row)
    found = {}
    for code, code_rows in by_code.items():
        as_of = max(row["as_of"] for row in code_rows)
        sides = {side: _best(conn, side, [row for row in code_rows if row["side"] == side]) for side in ("buy", "sell")}
        found[code] = BankRates(code, city, as_of, sides["buy"], sides["sell"], find(conn, code, minsk_day(as_of)),
                                tuple(sorted({row["bank"] for row in code_rows})))
    return found


def bank_elsewhere(conn: sqlite3.Connection, code: str, banks=()) -> list[BankRates]:
    """Each bank's best buy and sell rates of `code` against BYN now at its points in no city, by
    bank (city ""): the branches of a feed that names no city (Belgazprombank's, Dabrabyt's) and a
    bank's rates for the whole bank (Alfa-Bank's, at the point model.BANK_WIDE). No city's answer
    counts them: nothing says where they hold. [] when there are none (of `banks`, when given)."""
    rows = _bank_rows(conn, "", [code], None, banks)
    found = []
    for bank in sorted({row["bank"] for row in rows}):
        of_bank = [row for row in rows if row["bank"] == bank]
        sides = {side: _best(conn, side, [row for row in of_bank if row["side"] == side]) for side in ("buy", "sell")}
        as_of = max(row["as_of"] for row in of_bank)
        found.append(BankRates(code, "", as_of, sides["buy"], sides["sell"], find(conn, code, minsk_day(as_of)),
                               (bank,)))
    return found


def _best(conn: sqlite3.Connection, side: str, rows: list) -> BankBest | None:
    if not rows:
        return None
    # Exact integers per one unit: the bank buys at the highest rate and sells at the lowest that is best for a client.
    best = (max if side == "buy" else min)(row["per_unit_e16"] for row in rows)
    at_best = [row for row in rows if row["per_unit_e16"] == best]
    points = sorted((BankPoint(row["bank"], row["point_id"], row["label"], row["address"], row["hours"],
                               row["effective_at"], _since(conn, row)) for row in at_best),
                    key=lambda p: (p.address, p.label, p.point_id))
    first = at_best[0]
    return BankBest(side, Decimal(first["rate_text"]), first["scale"], all(row["checked"] for row in at_best),
                    points, len(rows))


def _since(conn: sqlite3.Connection, row) -> str:
    """When the point began quoting the value of `row` without a break: walking back over its rows in
    bank_point_sets (which follow each other without a gap) while each quoted the same value."""
    start = row["first_poll"]
    for first_poll, quoted in conn.execute(
            "SELECT first_poll, EXISTS (SELECT 1 FROM bank_set_values WHERE rate_set = ps.rate_set AND value = ?)"
            " FROM bank_point_sets AS ps WHERE point = ? AND first_poll < ? ORDER BY first_poll DESC",
            [row["value"], row["point"], start]):
        if not quoted:
            break
        start = first_poll
    return conn.execute("SELECT finished_at FROM bank_polls WHERE id = ?", [start]).fetchone()[0]


def bank_on_day(conn: sqlite3.Connection, codes, city: str, day: date) -> dict[str, BankRates]:
    """`bank_rates` of each of `codes` as the last answer seen on the Minsk day `day` (the latest
    answer, for today) saw them; codes without bank rates that day are left out, and with no bank
    rates at all (none stored, an unknown city) the answer is {}: bank rates beside the official
    ones are never a reason to fail."""
    from ..days import stamp, today

    city = _bank_city_or_none(conn, city)
    if city is None:
        return {}
    at = None if day >= today() else stamp(datetime.combine(day, time.max, minsk()))
    found = bank_rates_of(conn, codes, city, at)
    return {code: rates for code, rates in found.items() if minsk_day(rates.as_of) == day}


@dataclass(frozen=True)
class BankDays:
    """A city's best bank buy and sell rates of `code` on each calendar day from `days[0]`, as the
    last answer seen that day (Minsk time) had them: the rates in force at the day's end, as an
    official rate is a day's. BYN per `scale` units, exact; None on a day without such an answer."""

    code: str
    city: str
    scale: int  # the scale of the last day's rates: "BYN per 100 RUB"
    days: list[date]
    buy: list[Decimal | None]
    sell: list[Decimal | None]
    # Source ids of the banks offering each day's best (several at one rate), () on a day without it.
    buy_banks: list[tuple[str, ...]] = ()
    sell_banks: list[tuple[str, ...]] = ()

    @property
    def banks(self) -> tuple[str, ...]:
        """Every bank whose rate is a best of some day in the window, in order."""
        return tuple(sorted({bank for day in (*self.buy_banks, *self.sell_banks) for bank in day}))


# The best rate of each currency and side among the values a city's points quoted in the answer
# of each bucket (a day, through its last answer, or one answer): one seek per point and bucket
# finds the row of bank_point_sets in force then, and points quoting one set (most of a city) read
# its values once.
BANK_BUCKETS = """WITH buckets (bank, bucket, poll) AS ({buckets}),
quoted AS (SELECT DISTINCT b.bucket, b.bank, ps.rate_set FROM buckets AS b
           CROSS JOIN bank_points AS p ON p.bank = b.bank AND p.city = :city
           JOIN bank_point_sets AS ps ON ps.point = p.id AND ps.first_poll = (
               SELECT max(first_poll) FROM bank_point_sets WHERE point = p.id AND first_poll <= b.poll)
           WHERE ps.rate_set IS NOT NULL AND coalesce(ps.last_poll, b.poll) >= b.poll)
SELECT q.bucket, q.bank, v.code, v.side, v.scale, v.rate_text, v.per_unit_e16,
       max(CASE v.side WHEN 'buy' THEN v.per_unit_e16 ELSE -v.per_unit_e16 END)
FROM quoted AS q JOIN bank_set_values AS m ON m.rate_set = q.rate_set
JOIN bank_values AS v ON v.id = m.value AND v.against = 'BYN' AND """ + COUNTED + """{codes}
GROUP BY q.bucket, q.bank, v.code, v.side ORDER BY q.bucket"""
DAY_BUCKETS = (f"SELECT bank, {sql_minsk_day('finished_at')}, max(id) FROM bank_polls"
               " WHERE status = 'ok' AND finished_at >= :since AND finished_at < :until GROUP BY bank, 2")
# Each answer from `since` on, and each bank's last one before it (what the city quoted then).
ANSWERS = ("FROM bank_polls AS a WHERE status = 'ok' AND id >= coalesce((SELECT max(id) FROM bank_polls AS e"
           " WHERE e.status = 'ok' AND e.bank = a.bank AND e.finished_at < :since), 0)")
ANSWER_BUCKETS = "SELECT bank, id, id " + ANSWERS


class Bucketed(NamedTuple):
    """The best rate of one side in a bucket: BYN per one unit x 10^16, as published, and the banks offering it."""

    per_unit: int
    text: str
    scale: int
    banks: tuple[str, ...]


def _buckets(conn: sqlite3.Connection, buckets: str, city: str, window: dict, code: str | None = None
             ) -> dict[tuple, Bucketed]:
    """{(bucket, code, side): Bucketed}: the best of each side, of every bank in the city."""
    best: dict[tuple, Bucketed] = {}
    query = BANK_BUCKETS.format(buckets=buckets, codes=" AND v.code = :code" if code else "")
    for bucket, bank, code_, side, scale, text, per_unit, _ in conn.execute(
            query, {**window, "city": city, "code": code}):
        kept = best.get((bucket, code_, side))
        if kept is None or (per_unit > kept.per_unit if side == "buy" else per_unit < kept.per_unit):
            best[bucket, code_, side] = Bucketed(per_unit, text, scale, (bank,))
        elif per_unit == kept.per_unit and bank not in kept.banks:
            best[bucket, code_, side] = kept._replace(banks=tuple(sorted((*kept.banks, bank))))
    return best


def _bank_city_or_none(conn: sqlite3.Connection, city: str) -> str | None:
    if not has_banks(conn):
        return None
    try:
        return bank_city(conn, city)
    except NoData:
        return None


def bank_days(conn: sqlite3.Connection, city: str, first: date, last: date, code: str | None = None
              ) -> dict[str, BankDays]:
    """Each currency's (or only `code`'s) best buy and sell against BYN in `city` on each day from
    `first` to `last` (Minsk days), exact; the currencies without any in that window are left out,
    and an unknown city or no bank rates at all give {}."""
    from ..days import stamp

    city = _bank_city_or_none(conn, city)
    if city is None:
        return {}
    best = _buckets(conn, DAY_BUCKETS, city, {
        "since": stamp(minsk_midnight(first)), "until": stamp(minsk_midnight(last + timedelta(days=1)))}, code)
    days_ = list(each_day(first, last))
    found = {}
    for code_ in sorted({key[1] for key in best}):
        scale = best[max(key for key in best if key[1] == code_)][2]  # the last day's

        def per_scale(day: date, side: str) -> Decimal | None:
            rate = best.get((day.isoformat(), code_, side))
            if rate is None:
                return None
            if rate.scale == scale:
                return Decimal(rate.text)
            return (Decimal(rate.per_unit) * scale / E16).normalize()  # exact: scales are powers of ten

        def banks(day: date, side: str) -> tuple[str, ...]:
            rate = best.get((day.isoformat(), code_, side))
            return rate.banks if rate else ()

        found[code_] = BankDays(code_, city, scale, days_, [per_scale(d, "buy") for d in days_],
                                [per_scale(d, "sell") for d in days_], [banks(d, "buy") for d in days_],
                                [banks(d, "sell") for d in days_])
    return found


def bank_answers(conn: sqlite3.Connection, code: str, city: str, side: str,
                 since: str) -> list[tuple[str, Decimal, str, int]]:
    """The city's best `side` rate of `code` against BYN across banks after each good answer seen from
    the UTC stamp `since` on, and after each bank's last one before it: (the answer's time, BYN per
    ONE unit exactly, the rate as published, its scale), oldest first. After an answer the city's
    best is the best of every bank's latest answer; an answer after which no point of the city
    quotes it is left out; [] when there is none (or no bank rates at all)."""
    city = _bank_city_or_none(conn, city)
    if city is None:
        return []
    best = _buckets(conn, ANSWER_BUCKETS, city, {"since": since}, code)
    polls = sorted(poll for (poll,) in conn.execute("SELECT id " + ANSWERS, {"since": since}))
    seen = {poll: (bank, at) for poll, bank, at in conn.execute(
        f"SELECT id, bank, finished_at FROM bank_polls WHERE id IN ({', '.join(map(str, polls))})")}
    latest: dict[str, Bucketed] = {}  # bank -> its latest answer's best, if it quotes one
    found = []
    for poll in polls:
        bank, at = seen[poll]
        latest[bank] = best.get((poll, code, side))
        offered = [value for value in latest.values() if value is not None]
        if offered:
            top = (max if side == "buy" else min)(offered, key=lambda value: value.per_unit)
            found.append((at, Decimal(top.per_unit) / E16, top.text, top.scale))
    return found


def bank_extent(conn: sqlite3.Connection, bank: str | None = None) -> tuple[date, date] | None:
    """The first and last Minsk day with a good answer of `bank` (of any bank when None); None before any."""
    if not has_banks(conn):
        return None
    first, last = conn.execute("SELECT min(finished_at), max(finished_at) FROM bank_polls WHERE status = 'ok'"
                               " AND (:bank IS NULL OR bank = :bank)", {"bank": bank}).fetchone()
    return (minsk_day(first), minsk_day(last)) if first else None


def bank_codes(conn: sqlite3.Connection, bank: str | None = None) -> list[str]:
    """The currencies `bank` (any bank when None) quotes against BYN now, sorted; [] before any answer."""
    if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'bank_rates_now'").fetchone():
        return []
    return [c for (c,) in conn.execute("SELECT DISTINCT code FROM bank_rates_now WHERE against = 'BYN'"
                                       " AND (:bank IS NULL OR bank = :bank) ORDER BY code", {"bank": bank})]


def bank_city_names(conn: sqlite3.Connection) -> list[str]:
    """Every city any bank point was ever listed in, as the bank writes it, in order."""
    return [city for (city,) in conn.execute("SELECT DISTINCT city FROM bank_points ORDER BY city")]


def bank_last_poll(conn: sqlite3.Connection, bank: str | None = None) -> dict | None:
    """The last answer of `bank` (of any bank when None) stored: bank, finished_at, points, quotes,
    changed, ended, refused; None before any."""
    if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'bank_polls'").fetchone():
        return None
    row = conn.execute("SELECT bank, finished_at, points, quotes, changed, ended, refused FROM bank_polls"
                       " WHERE status = 'ok' AND (:bank IS NULL OR bank = :bank) ORDER BY id DESC LIMIT 1",
                       {"bank": bank}).fetchone()
    return dict(row) if row else None
