"""The daemon's health in the store: the one-row `daemon` table and `daemon_jobs` (a row per job with
a health of its own, the bank polls), written by `ticker run`, read by `ticker status`.

The writers open a connection of their own per write: the daemon writes from several threads.
"""

import os
import sqlite3
from contextlib import closing

from .. import __version__


def _writer(path):
    from .schema import open_db

    return closing(open_db(path))


def started(path, now: str) -> None:
    """A new row for this process: running, started and beating now."""
    with _writer(path) as db, db.conn:
        db.execute(
            "INSERT OR REPLACE INTO daemon (id, pid, version, state, started_at, heartbeat_at)"
            " VALUES (1, ?, ?, 'running', ?, ?)",
            [os.getpid(), __version__, now, now],
        )


def write(path, **fields) -> None:
    """Rewrite some columns of the daemon row."""
    with _writer(path) as db, db.conn:
        db.execute(f"UPDATE daemon SET {', '.join(f'{k} = ?' for k in fields)} WHERE id = 1", list(fields.values()))


def read(conn: sqlite3.Connection) -> sqlite3.Row | None:
    """The `ticker run` daemon's row: None when none has run on this database."""
    if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'daemon'").fetchone():
        return None
    return conn.execute("SELECT * FROM daemon WHERE id = 1").fetchone()


def job_write(path, job: str, **fields) -> None:
    """Create or rewrite some columns of a job's row."""
    names = ", ".join(fields)
    with _writer(path) as db, db.conn:
        db.execute(
            f"INSERT INTO daemon_jobs (job, {names}) VALUES (?, {', '.join('?' * len(fields))})"
            f" ON CONFLICT (job) DO UPDATE SET {', '.join(f'{k} = excluded.{k}' for k in fields)}",
            [job, *fields.values()],
        )


def job_failed(path, job: str, at: str, error: str, next_run: str | None) -> None:
    """A failed run: its error, one more failure in a row, idle again."""
    with _writer(path) as db, db.conn:
        db.execute("INSERT OR IGNORE INTO daemon_jobs (job) VALUES (?)", [job])
        db.execute("UPDATE daemon_jobs SET running_since = NULL, next_run = ?, last_error_at = ?, last_error = ?,"
                   " failures = failures + 1 WHERE job = ?", [next_run, at, error, job])


def jobs(conn: sqlite3.Connection) -> list[sqlite3.Row]:
    """Every job row, by name; [] when no daemon has run with such a job here."""
    if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'daemon_jobs'").fetchone():
        return []
    return conn.execute("SELECT * FROM daemon_jobs ORDER BY job").fetchall()
