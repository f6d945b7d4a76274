"""The SQLite store: schema and migrations, idempotent batched writes, the fetch log."""

from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlite_utils import Database, Migrations

from .days import utcnow
from .nbrb import Currency, Rate

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


def open_db(path: Path | str) -> Database:
    """Open (creating and migrating as needed) with WAL, so readers never wait for the writer."""
    if str(path) != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    db = Database(path)
    db.execute("PRAGMA busy_timeout = 10000")
    db.execute("PRAGMA journal_mode = WAL")
    # In WAL mode NORMAL never corrupts; a power cut may drop the last batches, which the next
    # catch-up fetches again. FULL would fsync every batch of a backfill.
    db.execute("PRAGMA synchronous = NORMAL")
    MIGRATIONS.apply(db)
    return db


def schema_sql() -> str:
    """The SQL of a freshly created database: what `ticker schema` prints."""
    db = open_db(":memory:")
    rows = db.execute("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY rowid").fetchall()
    return "".join(f"{sql};\n\n" for (sql,) in rows).rstrip() + "\n"


@dataclass
class Attempt:
    """One row of `fetches` while it runs."""

    id: int
    new: int = 0
    changed: int = 0


class Store:
    def __init__(self, path: Path | str):
        self.path = path
        self.db = open_db(path)

    def close(self):
        self.db.close()

    # -- the catalogue ------------------------------------------------------------------

    def catalogue(self) -> tuple[list[Currency], str | None]:
        """The cached catalogue and when it was read (None when never)."""
        rows = self.db.execute(
            "SELECT cur_id, parent_id, code, num_code, name, name_eng, scale, periodicity,"
            " date_start, date_end, fetched_at FROM currencies ORDER BY cur_id"
        ).fetchall()
        records = [
            Currency(*row[:8], date.fromisoformat(row[8]), date.fromisoformat(row[9])) for row in rows
        ]
        return records, min((row[10] for row in rows), default=None)

    def save_catalogue(self, records: list[Currency]):
        now = utcnow()
        with self.db.atomic():
            self.db.execute("DELETE FROM currencies")
            self.db.conn.executemany(
                "INSERT INTO currencies VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(*r[:8], r.start.isoformat(), r.end.isoformat(), now) for r in records],
            )

    # -- rates --------------------------------------------------------------------------

    def last_date(self, codes: list[str] | None = None) -> date | None:
        """The last day stored for every one of `codes` (for any code when None); None if one has none."""
        if not codes:
            lasts = [self.db.execute("SELECT max(date) FROM rates").fetchone()[0]]
        else:
            query = "SELECT max(date) FROM rates WHERE code = ?"
            lasts = [self.db.execute(query, [code]).fetchone()[0] for code in codes]
        return None if None in lasts else date.fromisoformat(min(lasts))

    def stored_dates(self, code: str, first: date, last: date) -> set[date]:
        rows = self.db.execute(
            "SELECT date FROM rates WHERE code = ? AND date BETWEEN ? AND ?",
            [code, first.isoformat(), last.isoformat()],
        )
        return {date.fromisoformat(day) for (day,) in rows}

    def write(self, rates: list[Rate], attempt: Attempt) -> tuple[list[Rate], list[tuple[Rate, str]]]:
        """Store a batch in one transaction: new rows inserted, differing ones revised, equal ones left.

        Returns the new rates and the changed ones with their old text.
        """
        if not rates:
            return [], []
        now = utcnow()
        rows = [(r, r.date.isoformat(), format(r.rate, "f")) for r in rates]
        existing = {}
        for code in {r.code for r in rates}:
            days = [day for r, day, _ in rows if r.code == code]
            existing.update(
                ((code, day), (scale, text))
                for day, scale, text in self.db.execute(
                    "SELECT date, scale, rate_text FROM rates WHERE code = ? AND date BETWEEN ? AND ?",
                    [code, min(days), max(days)],
                )
            )
        new, changed = [], []
        for row in rows:
            r, day, text = row
            old = existing.get((r.code, day))
            if old is None:
                new.append(row)
            elif old != (r.scale, text):
                changed.append((*row, old))
        with self.db.atomic():
            self.db.conn.executemany(
                "INSERT INTO rates (code, date, scale, rate, rate_text, unit, cur_id, fetched_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [(r.code, day, r.scale, float(r.rate), text, r.unit, r.cur_id, now) for r, day, text in new],
            )
            for r, day, text, (old_scale, old_text) in changed:
                self.db.execute(
                    "INSERT INTO revisions (code, date, old_scale, old_rate_text, new_scale, new_rate_text,"
                    " revised_at, fetch_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [r.code, day, old_scale, old_text, r.scale, text, now, attempt.id],
                )
                self.db.execute(
                    "UPDATE rates SET scale = ?, rate = ?, rate_text = ?, unit = ?, cur_id = ?, fetched_at = ?"
                    " WHERE code = ? AND date = ?",
                    [r.scale, float(r.rate), text, r.unit, r.cur_id, now, r.code, day],
                )
        attempt.new += len(new)
        attempt.changed += len(changed)
        return [r for r, _, _ in new], [(r, old[1]) for r, _, _, old in changed]

    # -- the fetch log ------------------------------------------------------------------

    @contextmanager
    def attempt(self, kind: str, detail: str):
        """Record one fetch attempt in `fetches`, committed before and after the work."""
        with self.db.atomic():
            cursor = self.db.execute(
                "INSERT INTO fetches (kind, detail, started_at, status) VALUES (?, ?, ?, 'running')",
                [kind, detail, utcnow()],
            )
        attempt = Attempt(cursor.lastrowid)
        status, error = "ok", None
        try:
            yield attempt
        except BaseException as exc:
            status, error = "error", str(exc) or type(exc).__name__
            raise
        finally:
            with self.db.atomic():
                self.db.execute(
                    "UPDATE fetches SET finished_at = ?, status = ?, rows_new = ?, rows_changed = ?, error = ?"
                    " WHERE id = ?",
                    [utcnow(), status, attempt.new, attempt.changed, error, attempt.id],
                )
