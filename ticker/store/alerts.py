"""Alerts in the store: `alert_events` (what a rule fired on, once per rule and day) and
`alert_deliveries` (each event's delivery to each target: attempts, when delivered, the last error).

Every change is committed at once: a delivery made is recorded before the next one is tried, so a
restart never sends it again.
"""

import sqlite3
from datetime import date

from ..days import utcnow


def _rows(conn: sqlite3.Connection, sql: str, params=()) -> list[sqlite3.Row]:
    cursor = conn.cursor()
    cursor.row_factory = sqlite3.Row
    return cursor.execute(sql, params).fetchall()


def last_announced(conn: sqlite3.Connection, source: str, rule: str) -> date | None:
    """The last day a `published` rule's events have announced; None before the first."""
    (day,) = conn.execute("SELECT max(last_date) FROM alert_events WHERE source = ? AND rule = ?",
                          [source, rule]).fetchone()
    return date.fromisoformat(day) if day else None


def record(conn: sqlite3.Connection, source: str, kind: str, rule: str, code: str | None, first: date, last: date,
           figure: tuple, title: str, message: str, targets: list[str]) -> bool:
    """Record an event with a delivery per target, unless the rule already fired for `first`;
    whether it was new. `figure` is the rate that fired: (scale, rate_text, unit), Nones for none."""
    with conn:
        cursor = conn.execute(
            "INSERT OR IGNORE INTO alert_events (source, kind, rule, code, date, last_date, scale, rate_text,"
            " unit, title, message, fired_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [source, kind, rule, code, first.isoformat(), last.isoformat(), *figure, title, message, utcnow()],
        )
        if cursor.rowcount:
            conn.executemany("INSERT OR IGNORE INTO alert_deliveries (event_id, target) VALUES (?, ?)",
                             [(cursor.lastrowid, target) for target in targets])
    return bool(cursor.rowcount)


def pending(conn: sqlite3.Connection) -> list[sqlite3.Row]:
    """Every delivery not made yet, oldest event first: event_id, target, attempts, and its event's
    rule, date, title and message."""
    return _rows(conn, "SELECT d.event_id, d.target, d.attempts, e.rule, e.date, e.title, e.message"
                       " FROM alert_deliveries AS d JOIN alert_events AS e ON e.id = d.event_id"
                       " WHERE d.delivered_at IS NULL ORDER BY d.event_id, d.rowid")


def attempted(conn: sqlite3.Connection, event_id: int, target: str, error: str | None) -> None:
    """One delivery attempt: delivered now when `error` is None, else its error kept for the next run."""
    now = utcnow()
    with conn:
        conn.execute("UPDATE alert_deliveries SET attempts = attempts + 1, last_attempt_at = ?, delivered_at = ?,"
                     " error = ? WHERE event_id = ? AND target = ?",
                     [now, None if error else now, error, event_id, target])


def set_aside(conn: sqlite3.Connection, event_id: int, target: str, why: str) -> None:
    """A delivery that will not be tried (its target left the config): left undelivered, marked why."""
    with conn:
        conn.execute("UPDATE alert_deliveries SET error = ? WHERE event_id = ? AND target = ?", [why, event_id, target])


def recent(conn: sqlite3.Connection, limit: int) -> list[tuple[sqlite3.Row, list[sqlite3.Row]]]:
    """The last `limit` events, newest first, each with its deliveries; [] before any was recorded."""
    if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'alert_events'").fetchone():
        return []
    events = _rows(conn, "SELECT * FROM alert_events ORDER BY id DESC LIMIT ?", [limit])
    return [(e, _rows(conn, "SELECT * FROM alert_deliveries WHERE event_id = ? ORDER BY rowid", [e["id"]]))
            for e in events]
