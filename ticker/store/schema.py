"""The database schema, public API: migrations (additions only, never a rename), and opening a writer."""

import sqlite3
from contextlib import contextmanager
from pathlib import Path

from sqlite_utils import Database, Migrations

from ..errors import NotWritable
from . import access

MIGRATIONS = Migrations("ticker")

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
SELECT code, date, date AS until, scale, rate, rate_text, unit, cur_id, periodicity
FROM rates WHERE periodicity = 0
UNION ALL
SELECT m.code, m.date,
       min(date(m.date, 'start of month', '+1 month', '-1 day'),  -- the end of the month it was set in,
           coalesce((SELECT date(min(n.date), '-1 day') FROM rates AS n  -- or the day before the next one
                     WHERE n.code = m.code AND n.periodicity = 1 AND n.date > m.date), '9999-12-31')) AS until,
       m.scale, m.rate, m.rate_text, m.unit, m.cur_id, m.periodicity
FROM rates AS m WHERE m.periodicity = 1""",
]


@MIGRATIONS(name="0006_monthly")
def _monthly(db):
    for statement in MONTHLY:
        db.execute(statement)


def open_db(path: Path | str) -> Database:
    """Open (creating and migrating as needed) with WAL, so readers never wait for the writer.

    Safe when several processes open a new or old database at once: the migrations run inside
    one write transaction, and whoever comes second finds them applied. A folder or file this
    process may not write raises NotWritable, naming the path and the permission needed.
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
    except (OSError, sqlite3.OperationalError) as exc:
        problem = access.problem(Path(path))
        if problem:
            raise NotWritable(problem) from None
        raise


def _open(path) -> Database:
    db = Database(path)
    db.execute("PRAGMA busy_timeout = 10000")
    db.execute("PRAGMA journal_mode = WAL")
    # In WAL mode NORMAL never corrupts; a power cut may drop the last batches, which the next
    # catch-up fetches again. FULL would fsync every batch of a backfill.
    db.execute("PRAGMA synchronous = NORMAL")
    if MIGRATIONS.pending(db):
        with immediate(db):
            MIGRATIONS.apply(db)
    return db


def schema_sql() -> str:
    """The SQL of a freshly created database: what `ticker schema` prints."""
    db = open_db(":memory:")
    rows = db.execute("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY rowid").fetchall()
    return "".join(f"{sql};\n\n" for (sql,) in rows).rstrip() + "\n"
