"""The database schema, public API: migrations (additions only, never a rename), and opening a writer."""

import sqlite3
from contextlib import contextmanager
from pathlib import Path

from sqlite_utils import Database, Migrations

from ..days import sql_minsk_day
from ..errors import DatabaseError, NotWritable
from . import access

MIGRATIONS = Migrations(access.MIGRATION_SET)

# The schema is public API: people query it directly. Comments inside the CREATE
# statements survive into sqlite_master, so `ticker schema` shows them too.
SCHEMA_1 = [
    """CREATE TABLE rates (
    code TEXT NOT NULL,        -- ISO 4217 letters: USD, EUR, RUB ...
    date TEXT NOT NULL,        -- YYYY-MM-DD, the Minsk day the rate is in force
    scale INTEGER NOT NULL,    -- the rate is per this many units of `code` (RUB 100, KZT 1000)
    rate REAL NOT NULL,        -- the published value: `unit` per `scale` units of `code`
    rate_text TEXT NOT NULL,   -- the same value exactly as published, trailing zeros kept
    unit TEXT NOT NULL CHECK (unit IN ('BYN', 'BYR', 'BYB')),  -- BYR before 2016-07-01, BYB before 2000
    cur_id INTEGER NOT NULL,   -- NBRB's Cur_ID valid on that day (see currencies)
    fetched_at TEXT NOT NULL,  -- UTC ISO-8601, when this value was first stored or last revised
    PRIMARY KEY (code, date)
) WITHOUT ROWID""",
    """CREATE TABLE currencies (
    cur_id INTEGER PRIMARY KEY,  -- NBRB Cur_ID: one row per Cur_ID period
    parent_id INTEGER NOT NULL,  -- Cur_ParentID: the same for every period of one currency
    code TEXT NOT NULL,          -- Cur_Abbreviation
    num_code TEXT NOT NULL,      -- Cur_Code, ISO 4217 numeric
    name TEXT NOT NULL,          -- Cur_Name (Russian)
    name_eng TEXT NOT NULL,      -- Cur_Name_Eng
    scale INTEGER NOT NULL,      -- Cur_Scale in this period
    periodicity INTEGER NOT NULL,  -- 0 daily, 1 monthly
    date_start TEXT NOT NULL,    -- first day of this Cur_ID's validity
    date_end TEXT NOT NULL,      -- last day (2050-01-01 while open)
    fetched_at TEXT NOT NULL     -- UTC ISO-8601, when the catalogue was read
)""",
    "CREATE INDEX currencies_code ON currencies (code, date_start)",
    """CREATE TABLE fetches (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,          -- catalogue, fetch or backfill
    detail TEXT NOT NULL,        -- what was asked: dates, currencies
    started_at TEXT NOT NULL,    -- UTC ISO-8601
    finished_at TEXT,            -- UTC ISO-8601; NULL while running or if the process died
    status TEXT NOT NULL CHECK (status IN ('running', 'ok', 'error')),
    rows_new INTEGER NOT NULL DEFAULT 0,
    rows_changed INTEGER NOT NULL DEFAULT 0,
    error TEXT                   -- the one-line error, when status is error
)""",
    """CREATE TABLE revisions (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL,
    date TEXT NOT NULL,
    old_scale INTEGER NOT NULL,
    old_rate_text TEXT NOT NULL,
    new_scale INTEGER NOT NULL,
    new_rate_text TEXT NOT NULL,
    revised_at TEXT NOT NULL,    -- UTC ISO-8601
    fetch_id INTEGER NOT NULL REFERENCES fetches (id)
)""",
    "CREATE INDEX revisions_code_date ON revisions (code, date)",
    """CREATE VIEW rates_byn AS
SELECT code, date, scale, rate, rate_text, unit, cur_id,
       rate / scale / CASE unit WHEN 'BYR' THEN 10000.0 WHEN 'BYB' THEN 10000000.0 ELSE 1.0 END
           AS byn_per_unit  -- BYN per 1 unit of `code`, comparable across the redenominations
FROM rates""",
    """CREATE VIEW latest AS
SELECT cur.code, cur.date, cur.scale, cur.rate, cur.unit,
       prev.date AS prev_date,  -- last day of the previous distinct rate
       round(prev.byn_per_unit * cur.scale, 6) AS prev_rate,  -- per the current scale, in BYN
       round(cur.byn_per_unit * cur.scale - prev.byn_per_unit * cur.scale, 6) AS change,
       round(100.0 * (cur.byn_per_unit - prev.byn_per_unit) / prev.byn_per_unit, 4) AS change_pct
FROM rates_byn AS cur
LEFT JOIN rates_byn AS prev ON prev.code = cur.code AND prev.date = (
    SELECT p.date FROM rates_byn AS p
    WHERE p.code = cur.code AND p.date < cur.date AND p.byn_per_unit <> cur.byn_per_unit
    ORDER BY p.date DESC LIMIT 1)
WHERE cur.date = (SELECT max(date) FROM rates WHERE code = cur.code)""",
]


@MIGRATIONS(name="0001_initial")
def _initial(db):
    for statement in SCHEMA_1:
        db.execute(statement)


DAEMON = """CREATE TABLE daemon (
    id INTEGER PRIMARY KEY CHECK (id = 1),  -- one row: the daemon (`ticker run`) that last ran here
    pid INTEGER NOT NULL,         -- its process id
    version TEXT NOT NULL,        -- ticker's version
    state TEXT NOT NULL CHECK (state IN ('running', 'stopped')),
    started_at TEXT NOT NULL,     -- UTC ISO-8601
    heartbeat_at TEXT NOT NULL,   -- UTC ISO-8601, rewritten every minute while it runs
    stopped_at TEXT,              -- UTC ISO-8601 of a clean stop; NULL while running or after a crash
    job TEXT,                     -- the job running now (catch-up or poll); NULL when idle
    next_poll TEXT,               -- UTC ISO-8601: the next poll that will ask NBRB for new rates
    next_catchup TEXT,            -- UTC ISO-8601: the next catch-up (a retry after an error, or the daily one)
    last_success_at TEXT,         -- UTC ISO-8601
    last_success TEXT,            -- what the last successful job did
    last_error_at TEXT,           -- UTC ISO-8601
    last_error TEXT               -- the one-line error of the last failed job
)"""


@MIGRATIONS(name="0002_daemon")
def _daemon(db):
    db.execute(DAEMON)


@contextmanager
def immediate(db: Database):
    """One write transaction that takes the write lock at its start (BEGIN IMMEDIATE).

    Everything that reads, compares and then writes runs in one: with a deferred transaction, a
    writer that committed in between would make the write fail ("database is locked") or act on
    what it read before (a UNIQUE error). Other writers wait for it (busy_timeout).
    """
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        if db.conn.in_transaction:
            db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


@contextmanager
def logged(db: Database, table: str, values: dict, outcome):
    """One attempt logged in `table` (fetches, bank_polls): a 'running' row committed before the work
    (its id is yielded), then 'ok', or 'error' with the one-line error ('interrupted' for Ctrl-C),
    and the columns `outcome()` returns, committed after whatever happened."""
    from ..days import utcnow

    columns = {**values, "started_at": utcnow(), "status": "running"}
    with immediate(db):
        row = db.execute(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
                         list(columns.values())).lastrowid
    status, error = "ok", None
    try:
        yield row
    except BaseException as exc:
        status = "error"
        error = "interrupted" if isinstance(exc, KeyboardInterrupt) else str(exc) or type(exc).__name__
        raise
    finally:
        done = {"finished_at": utcnow(), **outcome(), "status": status, "error": error}
        with immediate(db):
            db.execute(f"UPDATE {table} SET {', '.join(f'{k} = ?' for k in done)} WHERE id = ?", [*done.values(), row])


# Migration 0004: BYN per one unit as an exact integer beside the REALs, and views that compare it.
# (SQLite splices an added column in after the last one, before that one's trailing comment.)
EXACT = ("ALTER TABLE rates ADD COLUMN byn_per_unit_e16 INTEGER"
         " /* BYN per ONE unit of `code` x 10^16, exact: compare and subtract this, never `rate` */"
         " CHECK (byn_per_unit_e16 > 0)")


def _changes(where: str) -> str:
    """A view of each currency's rows matching `where` (on `cur.date` and `today.day`), each beside
    its previous distinct rate, all compared and subtracted as exact integers.

    Every step is a seek on the primary key: `codes` walks the distinct codes one seek each (a
    loose index scan), then each code's rows and the previous distinct one are range searches.
    """
    return f"""
WITH RECURSIVE codes (code) AS (
    SELECT min(code) FROM rates
    UNION ALL
    SELECT (SELECT min(code) FROM rates WHERE code > codes.code) FROM codes WHERE codes.code IS NOT NULL
),
today (day) AS (SELECT {sql_minsk_day("'now'")})  -- today in Minsk: UTC+3 all year, no daylight saving
SELECT cur.code, cur.date, cur.scale, cur.rate, cur.unit,
       prev.date AS prev_date,  -- last day of the previous distinct rate
       round(prev.byn_per_unit_e16 * cur.scale / 1e16, 6) AS prev_rate,  -- per the current scale, in BYN
       round((cur.byn_per_unit_e16 - prev.byn_per_unit_e16) * cur.scale / 1e16, 6) AS change,
       round(100.0 * (cur.byn_per_unit_e16 - prev.byn_per_unit_e16) / prev.byn_per_unit_e16, 4) AS change_pct,
       cur.rate_text,  -- the rate exactly as published
       CASE WHEN prev.date IS NULL THEN 'none'
            WHEN cur.byn_per_unit_e16 > prev.byn_per_unit_e16 THEN 'up' ELSE 'down' END AS direction
FROM codes
JOIN today
JOIN rates AS cur ON cur.code = codes.code AND {where}
LEFT JOIN rates AS prev ON prev.code = cur.code AND prev.date = (
    SELECT p.date FROM rates AS p
    WHERE p.code = cur.code AND p.date < cur.date AND p.byn_per_unit_e16 <> cur.byn_per_unit_e16
    ORDER BY p.date DESC LIMIT 1)"""


EXACT_VIEWS = [
    "DROP VIEW rates_byn",
    """CREATE VIEW rates_byn AS
SELECT code, date, scale, rate, rate_text, unit, cur_id,
       rate / scale / CASE unit WHEN 'BYR' THEN 10000.0 WHEN 'BYB' THEN 10000000.0 ELSE 1.0 END
           AS byn_per_unit,  -- BYN per 1 unit of `code`, comparable across the redenominations
       byn_per_unit_e16  -- the same, exact: an integer of 10^-16 BYN
FROM rates""",
    "DROP VIEW latest",
    # The rates in force today in Minsk, as `ticker line` shows them; nothing for a currency
    # whose rate for today is not stored.
    "CREATE VIEW latest AS" + _changes("cur.date = today.day"),
    # The days NBRB has already published after today (Thursday's session sets Friday to Sunday).
    "CREATE VIEW upcoming AS" + _changes("cur.date > today.day"),
]


@MIGRATIONS(name="0004_exact_views")
def _exact_views(db):
    from decimal import Decimal

    from ..model import per_unit_e16

    db.execute(EXACT)
    rows = db.execute("SELECT code, date, rate_text, scale, unit FROM rates").fetchall()
    db.conn.executemany(
        "UPDATE rates SET byn_per_unit_e16 = ? WHERE code = ? AND date = ?",
        [(per_unit_e16(Decimal(text), scale, unit), code, day) for code, day, text, scale, unit in rows],
    )
    for statement in EXACT_VIEWS:
        db.execute(statement)


# Alerts ([[alerts]] in the config): what fired once, and its delivery to each target. `source`
# names where the watched rate comes from, so that rules on other sources' rates (commercial
# banks' buy and sell) record their events here too.
ALERTS = [
    """CREATE TABLE alert_events (
    id INTEGER PRIMARY KEY,
    source TEXT NOT NULL,        -- where the rate comes from: nbrb (the official rates)
    kind TEXT NOT NULL,          -- above, below, move or published
    rule TEXT NOT NULL,          -- the rule in words: USD above 3.00, USD moves 1.0%, published
    code TEXT,                   -- the currency; NULL for published
    date TEXT NOT NULL,          -- YYYY-MM-DD, the day in force the event is about (published: the first new day)
    last_date TEXT NOT NULL,     -- YYYY-MM-DD, the last such day: `date`, or the last day published together
    scale INTEGER,               -- the rate that fired, as published: `rate_text` `unit` per `scale` `code`
    rate_text TEXT,
    unit TEXT,
    title TEXT NOT NULL,         -- the message as delivered
    message TEXT NOT NULL,
    fired_at TEXT NOT NULL,      -- UTC ISO-8601, when the event was recorded
    UNIQUE (source, rule, date)  -- each rule fires once for a day
)""",
    """CREATE TABLE alert_deliveries (
    event_id INTEGER NOT NULL REFERENCES alert_events (id),
    target TEXT NOT NULL,        -- the Apprise URL with its credentials masked
    attempts INTEGER NOT NULL DEFAULT 0,
    last_attempt_at TEXT,        -- UTC ISO-8601
    delivered_at TEXT,           -- UTC ISO-8601; NULL until delivered (then it is never sent again)
    error TEXT,                  -- the one-line error of the last attempt; NULL once delivered
    PRIMARY KEY (event_id, target)
)""",
]


@MIGRATIONS(name="0005_alerts")
def _alerts(db):
    for statement in ALERTS:
        db.execute(statement)


# Migration 0006: NBRB's monthly list. A monthly rate is one row, dated the day NBRB set it, and is
# in force from then to the end of that month (ticker.model.in_force_until); `rates_in_force` gives
# every row the days it answers for, daily and monthly alike.
MONTHLY = [
    # (SQLite splices an added column in after the last one, before that one's trailing comment.)
    "ALTER TABLE rates ADD COLUMN periodicity INTEGER NOT NULL DEFAULT 0"
    " /* 0: a daily rate, in force on `date`; 1: a monthly rate, set on `date` (see rates_in_force) */"
    " CHECK (periodicity IN (0, 1))",
    """CREATE VIEW rates_in_force AS
SELECT code, date, date AS until, scale, rate, rate_text, unit, cur_id, periodicity, byn_per_unit_e16
FROM rates WHERE periodicity = 0
UNION ALL
SELECT m.code, m.date,
       min(date(m.date, 'start of month', '+1 month', '-1 day'),  -- the end of the month it was set in,
           coalesce((SELECT date(min(n.date), '-1 day') FROM rates AS n  -- or the day before the next one
                     WHERE n.code = m.code AND n.periodicity = 1 AND n.date > m.date), '9999-12-31')) AS until,
       m.scale, m.rate, m.rate_text, m.unit, m.cur_id, m.periodicity, m.byn_per_unit_e16
FROM rates AS m WHERE m.periodicity = 1""",
]


@MIGRATIONS(name="0006_monthly")
def _monthly(db):
    for statement in MONTHLY:
        db.execute(statement)


# Commercial banks' buy and sell rates (issue 11). Rates are identical across many points (a rate
# set is published for a region at once), so each distinct value is stored once (`bank_values`),
# each distinct rate set once (`bank_sets`, its values in `bank_set_values`), and a point's row in
# `bank_point_sets` changes only when the set it quotes changes: a year of polls every 30 minutes
# is tens of MB where a row per point, currency and side was 1.8 GB (bench/bench_banks.py).
QUOTED = """CASE WHEN v.against = 'BYN' THEN 'BYN per ' || v.scale || ' ' || v.code
            WHEN v.side = 'buy' THEN v.against || ' per 1 ' || v.code
            ELSE v.code || ' per 1 ' || v.against END"""


def _lacks(span: str) -> str:
    """SQL: the point set `span` does not quote the value `m.value` (a NULL set quotes nothing)."""
    return f"NOT EXISTS (SELECT 1 FROM bank_set_values WHERE rate_set = {span}.rate_set AND value = m.value)"


# The first poll of the run of point sets, ending with `ps`, that all quote the value `m.value`:
# spans of one point follow each other without a gap (a NULL set stands for the polls that quoted
# nothing), so the run starts after the last earlier span that lacks the value.
RUN_START = f"""(SELECT r.first_poll FROM bank_point_sets AS r WHERE r.point = ps.point AND r.first_poll > coalesce(
        (SELECT b.first_poll FROM bank_point_sets AS b WHERE b.point = ps.point AND b.first_poll < ps.first_poll
         AND {_lacks('b')} ORDER BY b.first_poll DESC LIMIT 1), -1)
     ORDER BY r.first_poll LIMIT 1)"""
# The first later span of the point that lacks the value: where the run starting at `ps` ends.
RUN_END = f"""(SELECT z.first_poll FROM bank_point_sets AS z WHERE z.point = ps.point AND z.first_poll > ps.first_poll
     AND {_lacks('z')} ORDER BY z.first_poll LIMIT 1)"""

BANKS = [
    """CREATE TABLE bank_points (
    id INTEGER PRIMARY KEY,       -- ticker's number for the point, what bank_point_sets.point refers to
    bank TEXT NOT NULL,           -- the source: belarusbank
    point_id TEXT NOT NULL,       -- the bank's own id for it (Belarusbank's filial_id)
    city TEXT NOT NULL,           -- the locality, as the bank writes it: Минск
    city_type TEXT NOT NULL,      -- its kind, as written: г., г.п., агрогородок; '' when not given
    address TEXT NOT NULL,        -- street type, street and house, as written: пр. Партизанский 8-49
    label TEXT NOT NULL,          -- the point's name: Отделение 100/212
    hours TEXT NOT NULL,          -- opening hours, readable: Пн-Пт 09:00-19:00, Сб 09:00-15:00
    hours_text TEXT NOT NULL,     -- opening hours exactly as published
    first_seen TEXT NOT NULL,     -- UTC ISO-8601: the first answer that listed it
    last_seen TEXT NOT NULL,      -- UTC ISO-8601: the last answer that listed it (and did not refuse it)
    changed_at TEXT NOT NULL,     -- UTC ISO-8601: when its details above last changed
    UNIQUE (bank, point_id)
)""",
    "CREATE INDEX bank_points_city ON bank_points (city)",
    """CREATE TABLE bank_polls (
    id INTEGER PRIMARY KEY,       -- in the order the polls started; bank_point_sets counts in these
    bank TEXT NOT NULL,           -- the source: belarusbank
    started_at TEXT NOT NULL,     -- UTC ISO-8601
    finished_at TEXT,             -- UTC ISO-8601, the time its rates were seen at; NULL while running or if the process died
    status TEXT NOT NULL CHECK (status IN ('running', 'ok', 'error')),  -- ok: its answer is stored
    points INTEGER NOT NULL DEFAULT 0,    -- points listed in the cities kept, and not refused
    quotes INTEGER NOT NULL DEFAULT 0,    -- non-zero rates accepted
    changed INTEGER NOT NULL DEFAULT 0,   -- rates new or changed at a point since the answer before
    ended INTEGER NOT NULL DEFAULT 0,     -- rates a point quoted in the answer before and no longer does
    refused INTEGER NOT NULL DEFAULT 0,   -- points and values refused (each logged in one line)
    error TEXT                    -- the one-line error, when status is error
)""",
    "CREATE INDEX bank_polls_bank ON bank_polls (bank, status, finished_at)",
    """CREATE TABLE bank_values (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL,           -- the currency the bank buys or sells: USD
    against TEXT NOT NULL,        -- what it pays or asks for it: BYN, or the second currency of a cross rate
    side TEXT NOT NULL CHECK (side IN ('buy', 'sell')),  -- buy: the bank buys `code` (Belarusbank's _in); sell: it sells it (_out)
    scale INTEGER NOT NULL,       -- against BYN: the rate is BYN per this many units of `code` (RUB 100); crosses: 1
    rate_text TEXT NOT NULL,      -- the value exactly as published, trailing zeros kept; a cross rate is what the client gets for 1 unit given (db/README.md)
    per_unit_e16 INTEGER NOT NULL CHECK (per_unit_e16 > 0),  -- the same per ONE unit of `code` x 10^16, exact: compare and subtract this
    rate REAL NOT NULL,           -- the published value as a float, for display and averages only
    checked INTEGER NOT NULL CHECK (checked IN (0, 1)),  -- 1: within a factor of 10 of NBRB's official rate; 0: none to check against
    -- per_unit_e16 first: finds the points at a best rate, and never tempts a view into a currency's history
    UNIQUE (per_unit_e16, code, against, side, scale, rate_text, checked)
)""",
    """CREATE TABLE bank_sets (
    id INTEGER PRIMARY KEY,
    effective_at TEXT,            -- when the bank's rate set took effect, as published (Minsk time, no zone); NULL when not given
    digest INTEGER NOT NULL       -- a hash of effective_at and the values, by which ticker finds a set already stored
)""",
    "CREATE INDEX bank_sets_digest ON bank_sets (digest)",
    """CREATE TABLE bank_set_values (
    rate_set INTEGER NOT NULL REFERENCES bank_sets (id),
    value INTEGER NOT NULL REFERENCES bank_values (id),
    PRIMARY KEY (rate_set, value)
) WITHOUT ROWID""",
    """CREATE TABLE bank_point_sets (
    point INTEGER NOT NULL REFERENCES bank_points (id),
    first_poll INTEGER NOT NULL REFERENCES bank_polls (id),  -- the first answer in which the point quoted this set
    rate_set INTEGER REFERENCES bank_sets (id),  -- NULL: it quoted nothing (every value 0, refused, or not listed)
    last_poll INTEGER REFERENCES bank_polls (id),  -- the last answer in which it did; NULL while it still does
    PRIMARY KEY (point, first_poll)
) WITHOUT ROWID""",
    # The sets quoted now: what the views and each poll read, never the history behind them.
    "CREATE INDEX bank_point_sets_open ON bank_point_sets (point, rate_set) WHERE last_poll IS NULL",
    """CREATE TABLE daemon_jobs (
    job TEXT PRIMARY KEY,         -- a job of `ticker run` with a health of its own: belarusbank (its poll)
    running_since TEXT,           -- UTC ISO-8601 while it runs; NULL when idle
    next_run TEXT,                -- UTC ISO-8601: its next scheduled run
    last_success_at TEXT,         -- UTC ISO-8601
    last_success TEXT,            -- what its last successful run did
    last_error_at TEXT,           -- UTC ISO-8601
    last_error TEXT,              -- the one-line error of its last failed run
    failures INTEGER NOT NULL DEFAULT 0  -- failed runs in a row; 0 after a success
)""",
    f"""CREATE VIEW bank_rates_now AS
SELECT p.bank, p.point_id, p.city, p.address, p.label, p.hours,
       v.code, v.against, v.side, v.scale, v.rate, v.rate_text, v.per_unit_e16,
       {QUOTED} AS quoted,  -- what `rate` counts
       s.effective_at, v.checked,
       (SELECT finished_at FROM bank_polls WHERE id = {RUN_START}) AS first_seen,  -- since when the point quotes this value
       p.last_seen  -- the last answer, which quoted it
FROM bank_point_sets AS ps INDEXED BY bank_point_sets_open  -- the sets quoted now: never the history behind them
JOIN bank_points AS p ON p.id = ps.point
LEFT JOIN bank_sets AS s ON s.id = ps.rate_set  -- LEFT: left out when effective_at is not asked for
JOIN bank_set_values AS m ON m.rate_set = ps.rate_set
JOIN bank_values AS v ON v.id = m.value
WHERE ps.last_poll IS NULL""",
    """CREATE VIEW bank_best AS
SELECT city, code, against, side, scale, rate, rate_text, per_unit_e16, quoted,
       (SELECT count(*) FROM bank_rates_now AS n WHERE n.city = b.city AND n.code = b.code AND n.against = b.against
        AND n.side = b.side AND n.per_unit_e16 = b.per_unit_e16) AS points,  -- points offering this best rate
       quoting,  -- points quoting this side at all
       as_of     -- the answer it comes from
FROM (SELECT city, code, against, side, scale, rate, rate_text, per_unit_e16, quoted, last_seen AS as_of,
             count(*) AS quoting,
             -- best for the client, compared exactly: the most it gets, or the fewest BYN it pays
             -- when the bank sells; the one max() makes the other columns come from that row
             max(CASE WHEN side = 'sell' AND against = 'BYN' THEN -per_unit_e16 ELSE per_unit_e16 END)
      FROM bank_rates_now GROUP BY city, code, against, side) AS b""",
    f"""CREATE VIEW bank_spread AS
SELECT b.city, b.code, b.scale,
       (SELECT n.rate_text FROM bank_rates_now AS n WHERE n.city = b.city AND n.code = b.code AND n.against = 'BYN'
        AND n.side = 'buy' AND n.per_unit_e16 = b.buy_e16 LIMIT 1) AS buy,    -- the best (highest) buy rate
       (SELECT n.rate_text FROM bank_rates_now AS n WHERE n.city = b.city AND n.code = b.code AND n.against = 'BYN'
        AND n.side = 'sell' AND n.per_unit_e16 = b.sell_e16 LIMIT 1) AS sell,  -- the best (lowest) sell rate
       o.date AS official_date,
       o.rate_text AS official,  -- NBRB's rate as published, per `official_scale` units
       o.scale AS official_scale,
       round(100.0 * (b.buy_e16 - o.byn_per_unit_e16) / o.byn_per_unit_e16, 2) AS buy_pct,    -- below 0: the bank buys under the official rate
       round(100.0 * (b.sell_e16 - o.byn_per_unit_e16) / o.byn_per_unit_e16, 2) AS sell_pct,  -- above 0: it sells over it
       b.as_of
FROM (SELECT city, code, max(scale) AS scale,
             max(CASE side WHEN 'buy' THEN per_unit_e16 END) AS buy_e16,    -- compared and subtracted exactly
             min(CASE side WHEN 'sell' THEN per_unit_e16 END) AS sell_e16,
             max(last_seen) AS as_of
      FROM bank_rates_now WHERE against = 'BYN' GROUP BY city, code) AS b
LEFT JOIN rates AS o ON o.code = b.code AND o.date = {sql_minsk_day('b.as_of')}""",
    # Each value a point quoted, once per run of answers that quoted it without a break: when it
    # was first and last seen there. Read it for a point (point_id), or a city and a currency.
    f"""CREATE VIEW bank_history AS
SELECT p.bank, p.point_id, p.city, p.address, p.label,
       v.code, v.against, v.side, v.scale, v.rate, v.rate_text, v.per_unit_e16, {QUOTED} AS quoted,
       s.effective_at,  -- of the set in which the point first quoted this value
       v.checked,
       f.finished_at AS first_seen,  -- the first answer that quoted this value here
       coalesce((SELECT l.finished_at FROM bank_point_sets AS e JOIN bank_polls AS l ON l.id = e.last_poll
                 WHERE e.point = ps.point AND e.first_poll < {RUN_END} ORDER BY e.first_poll DESC LIMIT 1),
                p.last_seen) AS last_seen,  -- the last answer that quoted it
       {RUN_END} IS NULL AS current  -- 1 while it is quoted now
FROM bank_points AS p
CROSS JOIN bank_point_sets AS ps ON ps.point = p.id  -- the points first: a point's history is a range
JOIN bank_set_values AS m ON m.rate_set = ps.rate_set
JOIN bank_values AS v ON v.id = m.value
LEFT JOIN bank_sets AS s ON s.id = ps.rate_set
JOIN bank_polls AS f ON f.id = ps.first_poll
WHERE NOT EXISTS (  -- a run starts here: the point's row before did not quote this value
    SELECT 1 FROM bank_point_sets AS b JOIN bank_set_values AS bm ON bm.rate_set = b.rate_set AND bm.value = v.id
    WHERE b.point = ps.point AND b.first_poll = (
        SELECT max(first_poll) FROM bank_point_sets WHERE point = ps.point AND first_poll < ps.first_poll))""",
]


@MIGRATIONS(name="0007_banks")
def _banks(db):
    for statement in BANKS:
        db.execute(statement)


# Migration 0008: since when the daemon's job runs, so that `ticker status` can tell one that hangs.
JOB_SINCE = ("ALTER TABLE daemon ADD COLUMN job_since TEXT"
             " /* UTC ISO-8601: since when `job` runs; NULL when idle */")


@MIGRATIONS(name="0008_job_since")
def _job_since(db):
    db.execute(JOB_SINCE)


# Migration 0009: every bank in one record (issue 19). A value now says which channel it is of (cash
# or non-cash), which tier of amounts it applies to, and, for a cross rate's sell side, which way it
# is quoted; points say where they are. bank_values is rebuilt (SQLite alters no UNIQUE constraint),
# its ids kept, so every set, every point's run and every alert stays as it was; what Belarusbank
# stored before is its cash rates. The views answer across banks and name the bank.
QUOTED_PER = """CASE WHEN v.against = 'BYN' THEN 'BYN per ' || v.scale || ' ' || v.code
            WHEN v.side = 'buy' OR v.per <> '' THEN v.against || ' per 1 ' || v.code
            ELSE v.code || ' per 1 ' || v.against END"""
ACROSS = [
    "DROP VIEW bank_rates_now", "DROP VIEW bank_best", "DROP VIEW bank_spread", "DROP VIEW bank_history",
    """CREATE TABLE bank_values_0009 (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL,           -- the currency the bank buys or sells: USD
    against TEXT NOT NULL,        -- what it pays or asks for it: BYN, or the second currency of a cross rate
    side TEXT NOT NULL CHECK (side IN ('buy', 'sell')),  -- buy: the bank buys `code` (Belarusbank's _in); sell: it sells it (_out)
    scale INTEGER NOT NULL,       -- against BYN: the rate is BYN per this many units of `code` (RUB 100); crosses: 1
    rate_text TEXT NOT NULL,      -- the value exactly as published, trailing zeros kept; a cross rate: see `per` and db/README.md
    per_unit_e16 INTEGER NOT NULL CHECK (per_unit_e16 > 0),  -- the same per ONE unit of `code` x 10^16, exact: compare and subtract this
    rate REAL NOT NULL,           -- the published value as a float, for display and averages only
    checked INTEGER NOT NULL CHECK (checked IN (0, 1)),  -- 1: within a factor of 10 of NBRB's official rate; 0: none to check against
    channel TEXT NOT NULL DEFAULT '' CHECK (channel IN ('', 'cash', 'non-cash')),  -- at a cash desk, or by card or account; '' when the bank does not say
    min_amount TEXT NOT NULL DEFAULT '',  -- a tiered rate: the least amount of `code` it applies to, as published; '' untiered
    max_amount TEXT NOT NULL DEFAULT '',  -- the most, both ends included; '' untiered or no upper bound
    typical INTEGER NOT NULL DEFAULT 1 CHECK (typical IN (0, 1)),  -- 1: untiered, or the tier from 0 that a typical exchange gets
    per TEXT NOT NULL DEFAULT '',  -- a cross rate's sell side quoted like its buy side: `against` per 1 `code`; '' Belarusbank's way
    -- per_unit_e16 first: finds the points at a best rate, and never tempts a view into a currency's history
    UNIQUE (per_unit_e16, code, against, side, scale, rate_text, checked, channel, min_amount, max_amount, per)
)""",
    # Every value before this migration was Belarusbank's, and its rates are the cash desks'.
    "INSERT INTO bank_values_0009 (id, code, against, side, scale, rate_text, per_unit_e16, rate, checked, channel)"
    " SELECT id, code, against, side, scale, rate_text, per_unit_e16, rate, checked, 'cash' FROM bank_values",
    "DROP TABLE bank_values",
    "ALTER TABLE bank_values_0009 RENAME TO bank_values",
    "ALTER TABLE bank_points ADD COLUMN latitude TEXT /* degrees, as published (MTBank's y); NULL when not given */",
    "ALTER TABLE bank_points ADD COLUMN longitude TEXT /* degrees, as published (MTBank's x); NULL when not given */",
    f"""CREATE VIEW bank_rates_now AS
SELECT p.bank, p.point_id, p.city, p.address, p.label, p.hours,
       v.code, v.against, v.side, v.scale, v.rate, v.rate_text, v.per_unit_e16,
       {QUOTED_PER} AS quoted,  -- what `rate` counts
       v.channel, v.min_amount, v.max_amount, v.typical, v.per,
       s.effective_at, v.checked,
       (SELECT finished_at FROM bank_polls WHERE id = {RUN_START}) AS first_seen,  -- since when the point quotes this value
       p.last_seen,  -- the last answer, which quoted it
       p.latitude, p.longitude
FROM bank_point_sets AS ps INDEXED BY bank_point_sets_open  -- the sets quoted now: never the history behind them
JOIN bank_points AS p ON p.id = ps.point
LEFT JOIN bank_sets AS s ON s.id = ps.rate_set  -- LEFT: left out when effective_at is not asked for
JOIN bank_set_values AS m ON m.rate_set = ps.rate_set
JOIN bank_values AS v ON v.id = m.value
WHERE ps.last_poll IS NULL""",
    """CREATE VIEW bank_best AS
SELECT city, code, against, side, channel, per, scale, rate, rate_text, per_unit_e16, quoted,
       (SELECT group_concat(bank) FROM (SELECT DISTINCT n.bank FROM bank_rates_now AS n WHERE n.city = b.city
        AND n.code = b.code AND n.against = b.against AND n.side = b.side AND n.channel = b.channel AND n.per = b.per
        AND n.typical = 1 AND n.per_unit_e16 = b.per_unit_e16 ORDER BY n.bank)) AS banks,  -- the banks offering it
       (SELECT count(*) FROM bank_rates_now AS n WHERE n.city = b.city AND n.code = b.code AND n.against = b.against
        AND n.side = b.side AND n.channel = b.channel AND n.per = b.per AND n.typical = 1
        AND n.per_unit_e16 = b.per_unit_e16) AS points,  -- points offering this best rate
       quoting,  -- points quoting this side at all
       as_of     -- the answer it comes from
FROM (SELECT city, code, against, side, channel, per, scale, rate, rate_text, per_unit_e16, quoted, last_seen AS as_of,
             count(*) AS quoting,
             -- best for the client, compared exactly: the most it gets, or the least it pays (a sell
             -- side against BYN, or quoted like its buy side); the one max() makes the other columns
             -- come from that row. Each channel apart; the tier a typical exchange gets; a city's points.
             max(CASE WHEN side = 'sell' AND (against = 'BYN' OR per <> '') THEN -per_unit_e16 ELSE per_unit_e16 END)
      FROM bank_rates_now WHERE typical = 1 AND city <> '' GROUP BY city, code, against, side, channel, per) AS b""",
    f"""CREATE VIEW bank_spread AS
SELECT b.city, b.code, b.scale,
       (SELECT n.rate_text FROM bank_rates_now AS n WHERE n.city = b.city AND n.code = b.code AND n.against = 'BYN'
        AND n.side = 'buy' AND n.typical = 1 AND n.channel <> 'non-cash' AND n.per_unit_e16 = b.buy_e16
        LIMIT 1) AS buy,    -- the best (highest) buy rate, of any bank
       (SELECT group_concat(bank) FROM (SELECT DISTINCT n.bank FROM bank_rates_now AS n WHERE n.city = b.city
        AND n.code = b.code AND n.against = 'BYN' AND n.side = 'buy' AND n.typical = 1 AND n.channel <> 'non-cash'
        AND n.per_unit_e16 = b.buy_e16 ORDER BY n.bank)) AS buy_banks,  -- the banks offering it
       (SELECT n.rate_text FROM bank_rates_now AS n WHERE n.city = b.city AND n.code = b.code AND n.against = 'BYN'
        AND n.side = 'sell' AND n.typical = 1 AND n.channel <> 'non-cash' AND n.per_unit_e16 = b.sell_e16
        LIMIT 1) AS sell,  -- the best (lowest) sell rate, of any bank
       (SELECT group_concat(bank) FROM (SELECT DISTINCT n.bank FROM bank_rates_now AS n WHERE n.city = b.city
        AND n.code = b.code AND n.against = 'BYN' AND n.side = 'sell' AND n.typical = 1 AND n.channel <> 'non-cash'
        AND n.per_unit_e16 = b.sell_e16 ORDER BY n.bank)) AS sell_banks,
       o.date AS official_date,
       o.rate_text AS official,  -- NBRB's rate as published, per `official_scale` units
       o.scale AS official_scale,
       round(100.0 * (b.buy_e16 - o.byn_per_unit_e16) / o.byn_per_unit_e16, 2) AS buy_pct,    -- below 0: the bank buys under the official rate
       round(100.0 * (b.sell_e16 - o.byn_per_unit_e16) / o.byn_per_unit_e16, 2) AS sell_pct,  -- above 0: it sells over it
       b.as_of
FROM (SELECT city, code, max(scale) AS scale,
             max(CASE side WHEN 'buy' THEN per_unit_e16 END) AS buy_e16,    -- compared and subtracted exactly
             min(CASE side WHEN 'sell' THEN per_unit_e16 END) AS sell_e16,
             max(last_seen) AS as_of
      FROM bank_rates_now WHERE against = 'BYN' AND typical = 1 AND channel <> 'non-cash' AND city <> ''
      GROUP BY city, code) AS b
LEFT JOIN rates AS o ON o.code = b.code AND o.date = {sql_minsk_day('b.as_of')}""",
    f"""CREATE VIEW bank_history AS
SELECT p.bank, p.point_id, p.city, p.address, p.label,
       v.code, v.against, v.side, v.scale, v.rate, v.rate_text, v.per_unit_e16, {QUOTED_PER} AS quoted,
       v.channel, v.min_amount, v.max_amount, v.typical, v.per,
       s.effective_at,  -- of the set in which the point first quoted this value
       v.checked,
       f.finished_at AS first_seen,  -- the first answer that quoted this value here
       coalesce((SELECT l.finished_at FROM bank_point_sets AS e JOIN bank_polls AS l ON l.id = e.last_poll
                 WHERE e.point = ps.point AND e.first_poll < {RUN_END} ORDER BY e.first_poll DESC LIMIT 1),
                p.last_seen) AS last_seen,  -- the last answer that quoted it
       {RUN_END} IS NULL AS current  -- 1 while it is quoted now
FROM bank_points AS p
CROSS JOIN bank_point_sets AS ps ON ps.point = p.id  -- the points first: a point's history is a range
JOIN bank_set_values AS m ON m.rate_set = ps.rate_set
JOIN bank_values AS v ON v.id = m.value
LEFT JOIN bank_sets AS s ON s.id = ps.rate_set
JOIN bank_polls AS f ON f.id = ps.first_poll
WHERE NOT EXISTS (  -- a run starts here: the point's row before did not quote this value
    SELECT 1 FROM bank_point_sets AS b JOIN bank_set_values AS bm ON bm.rate_set = b.rate_set AND bm.value = v.id
    WHERE b.point = ps.point AND b.first_poll = (
        SELECT max(first_poll) FROM bank_point_sets WHERE point = ps.point AND first_poll < ps.first_poll))""",
]


@MIGRATIONS(name="0009_banks_across")
def _banks_across(db):
    for statement in ACROSS:
        db.execute(statement)


def open_db(path: Path | str) -> Database:
    """Open (creating and migrating as needed) with WAL, so readers never wait for the writer.

    Safe when several processes open a new or old database at once: the migrations run inside
    one write transaction, and whoever comes second finds them applied. A folder or file this
    process may not write raises NotWritable, naming the path and the permission needed; a
    file of another program raises DatabaseError before anything in it changes (not even its
    journal mode).
    """
    if str(path) == ":memory:":
        return _open(path)
    # SQLite opens a file it may not write read-only, without a word: ask before the first write.
    problem = access.problem(Path(path))
    if problem:
        raise NotWritable(problem)
    try:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        return _open(path)
    except (OSError, sqlite3.OperationalError):
        problem = access.problem(Path(path))
        if problem:
            raise NotWritable(problem) from None
        raise


# The -wal file is cut back to this after a checkpoint, so that a backfill beside a reader does not
# leave it at its peak for as long as the daemon runs.
JOURNAL_LIMIT = 4 * 2**20


def _open(path) -> Database:
    db = Database(path)
    db.execute("PRAGMA busy_timeout = 10000")
    problem = access.foreign(db.conn, path)
    if problem:
        db.close()
        raise DatabaseError(problem)
    access.warn_if_newer(db.conn, path)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute(f"PRAGMA journal_size_limit = {JOURNAL_LIMIT}")
    # In WAL mode NORMAL never corrupts; a power cut may drop the last batches, which the next
    # catch-up fetches again. FULL would fsync every batch of a backfill.
    db.execute("PRAGMA synchronous = NORMAL")
    if MIGRATIONS.pending(db) or db.execute("PRAGMA application_id").fetchone()[0] != access.APPLICATION_ID:
        with immediate(db):
            db.execute(f"PRAGMA application_id = {access.APPLICATION_ID}")
            MIGRATIONS.apply(db)
    return db


def checkpoint(db: Database) -> tuple[int, int] | None:
    """Fold the -wal into the database and truncate it, unless a reader's transaction still needs
    it (then nothing waits: the next checkpoint does it). (frames left, frames in the -wal), or None
    when a reader blocked it."""
    db.execute("PRAGMA busy_timeout = 0")  # a reader in the way is no reason to wait
    try:
        busy, frames, done = db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    finally:
        db.execute("PRAGMA busy_timeout = 10000")
    return None if busy else (frames - done, frames)


def schema_sql() -> str:
    """The SQL of a freshly created database: what `ticker schema` prints."""
    db = open_db(":memory:")
    rows = db.execute("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY rowid").fetchall()
    return "".join(f"{sql};\n\n" for (sql,) in rows).rstrip() + "\n"
