"""The daemon's health: the one-row `daemon` table, written by `ticker run`, read and judged by
`ticker status`. Stdlib only, so `status` stays a fast read-only command."""

import os
import sqlite3
from contextlib import closing
from datetime import date, datetime, timezone

from .. import __version__
from ..days import parse_stamp

HEARTBEAT = 60  # seconds between two writes of the row while the daemon runs
STALE_AFTER = 180  # seconds without a heartbeat before the daemon is stale: three missed beats


def _connect(path):
    conn = sqlite3.connect(path, timeout=10)
    # A heartbeat lost to a power cut costs nothing: spare the disk a sync per beat (WAL keeps
    # the file consistent either way).
    conn.execute("PRAGMA synchronous = NORMAL")
    return closing(conn)


def started(path, now: str) -> None:
    """A new row for this process: running, started and beating now."""
    with _connect(path) as conn, conn:
        conn.execute(
            "INSERT OR REPLACE INTO daemon (id, pid, version, state, started_at, heartbeat_at)"
            " VALUES (1, ?, ?, 'running', ?, ?)",
            [os.getpid(), __version__, now, now],
        )


def write(path, **fields) -> None:
    """Rewrite some columns of the row (a fresh connection: callers are in several threads)."""
    with _connect(path) as conn, conn:
        conn.execute(f"UPDATE daemon SET {', '.join(f'{k} = ?' for k in fields)} WHERE id = 1", list(fields.values()))


def read(conn: sqlite3.Connection) -> sqlite3.Row | None:
    """The `ticker run` daemon's row: None when none has run on this database."""
    if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'daemon'").fetchone():
        return None
    return conn.execute("SELECT * FROM daemon WHERE id = 1").fetchone()


def stale(row: sqlite3.Row | None, now: datetime) -> str | None:
    """Why the daemon counts as stale (stopped, or no heartbeat for over STALE_AFTER seconds), or None."""
    if row is None:
        return None
    if row["state"] == "stopped":
        return f"the daemon stopped at {row['stopped_at']}"
    beat = parse_stamp(row["heartbeat_at"])
    if (now - beat).total_seconds() <= STALE_AFTER:
        return None
    return f"no heartbeat from the daemon (pid {row['pid']}) since {row['heartbeat_at']}"


def verdict(today: date, last: dict[str, str], tracked: list[str], ended: dict[str, str], succeeded: bool,
            daemon: str | None, bank: str | None = None) -> tuple[bool, str]:
    """`ticker status`'s one verdict: (whether all is well, the line that says so or why not).

    Not well when the database has no rates, no fetch ever succeeded, a tracked currency that
    has not ended lacks today's rate (`last`: code -> its last stored day), or `daemon` (from
    `stale`) says why the daemon is not keeping it current, or `bank` (from `job_failing`) why the
    bank poll is failing.
    """
    problems = []
    if not last:
        problems.append("the database has no rates")
    if not succeeded:
        problems.append("no fetch has ever succeeded")
    missing = [code for code in tracked if code not in ended and last.get(code, "") < today.isoformat()]
    if missing and last:
        problems.append(f"no rate for {today}: {', '.join(missing)}")
    problems += [reason for reason in (daemon, bank) if reason]
    if problems:
        return False, "stale: " + "; ".join(problems)
    current = [code for code in tracked if code not in ended]
    return True, f"up to date: {len(current)} currencies through {max(last[c] for c in current)}"


def report(conn: sqlite3.Connection, config) -> dict:
    """What `ticker status --json` prints (and `ticker serve`'s /api/status answers): the verdict,
    `ok`, coverage per currency, the last fetches, the daemon's row and the bank poll's health."""
    from .. import days
    from ..store import reader

    today = days.today()
    rows = reader.coverage(conn)
    # The last day each has a rate in force, up to today: a monthly rate counts to the end of its month.
    last = {r["code"]: min(r["until"], max(r["last"], today.isoformat())) for r in rows}
    ended = reader.ended(conn, today)
    tracked = list(config.track.currencies)
    if config.track.all:
        tracked = reader.quoted_on(conn, today) or list(last)
    ok, error = reader.last_fetch(conn, "ok"), reader.last_fetch(conn, "error")
    daemon = read(conn)
    silent = stale(daemon, datetime.now(timezone.utc))
    bank = _bank_status(conn, config)
    well, said = verdict(today, last, tracked, ended, ok is not None, silent, bank and bank["failing"])
    found = {
        "verdict": said,
        "ok": well,
        "database": str(config.database.path),
        "today": today.isoformat(),
        "currencies": [dict(r) for r in rows],
        "last_success": dict(ok) if ok else None,
        "last_error": dict(error) if error else None,
        "stale": [code for code in tracked if code not in ended and last.get(code, "") < today.isoformat()],
        "ended": {code: ended[code] for code in sorted(ended) if code in tracked or code in last},
        "daemon": dict(daemon) if daemon else None,
        "daemon_stale": silent,
    }
    if bank:
        found["bank"] = bank
    return found


def _bank_status(conn: sqlite3.Connection, config) -> dict | None:
    """The bank poll's data and health (issue 11): None when it is disabled and has never stored anything."""
    from ..store import reader

    last = reader.bank_last_poll(conn)
    job = next((dict(row) for row in jobs(conn) if row["job"] == "belarusbank"), None)
    if not config.belarusbank.enabled and last is None:
        return None
    failing = job_failing(job) if job and config.belarusbank.enabled else None
    return {"enabled": config.belarusbank.enabled, "last_answer": last, "job": job, "failing": failing}


# -- jobs with a health of their own (the bank poll): the `daemon_jobs` table -------------------

FAILING_AFTER = 3  # failed runs in a row before a job counts as failing: 90 minutes of 30-minute polls


def job_write(path, job: str, **fields) -> None:
    """Create or rewrite some columns of a job's row (a fresh connection: callers are in several threads)."""
    names = ", ".join(fields)
    with _connect(path) as conn, conn:
        conn.execute(
            f"INSERT INTO daemon_jobs (job, {names}) VALUES (?, {', '.join('?' * len(fields))})"
            f" ON CONFLICT (job) DO UPDATE SET {', '.join(f'{k} = excluded.{k}' for k in fields)}",
            [job, *fields.values()],
        )


def job_failed(path, job: str, at: str, error: str, next_run: str | None) -> None:
    """A failed run: its error, one more failure in a row, idle again."""
    with _connect(path) as conn, conn:
        conn.execute("INSERT OR IGNORE INTO daemon_jobs (job) VALUES (?)", [job])
        conn.execute("UPDATE daemon_jobs SET running_since = NULL, next_run = ?, last_error_at = ?, last_error = ?,"
                     " failures = failures + 1 WHERE job = ?", [next_run, at, error, job])


def jobs(conn: sqlite3.Connection) -> list[sqlite3.Row]:
    """Every job row, by name; [] when no daemon has run with such a job here."""
    if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'daemon_jobs'").fetchone():
        return []
    return conn.execute("SELECT * FROM daemon_jobs ORDER BY job").fetchall()


def job_failing(row: sqlite3.Row) -> str | None:
    """Why a job counts as failing (FAILING_AFTER failed runs in a row), or None."""
    if row["failures"] < FAILING_AFTER:
        return None
    return (f"the {row['job']} poll failed {row['failures']} times in a row, last at {row['last_error_at']}:"
            f" {row['last_error']}")
