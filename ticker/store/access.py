"""Whose the database file is and who may write and read it: ticker's mark in it, and the one line
that says what is wrong (another program's file, a permission missing).

Stdlib only: the lock, the writer and the read-only side all use it.
"""

import os
import sqlite3
from pathlib import Path

# "TKR1": ticker's mark in the file's header (PRAGMA application_id), so that a file is known for
# ticker's without reading its tables.
APPLICATION_ID = 0x544B5231
MIGRATION_SET = "ticker"  # the name of ticker's migrations in _sqlite_migrations (store.schema)
# Every migration this ticker has, in order: a file that records another was written by a newer
# one. (tests/store/test_schema.py holds it to store.schema's.)
KNOWN_MIGRATIONS = ("0001_initial", "0002_daemon", "0004_exact_views", "0005_alerts", "0006_monthly", "0007_banks",
                    "0008_job_since", "0009_banks_across")


def foreign(conn: sqlite3.Connection, path) -> str | None:
    """Why the SQLite file behind `conn` is not ticker's (another program's, given by mistake), in
    one line naming a table it has; None when it is ticker's, or empty. Reads only."""
    (marked,) = conn.execute("PRAGMA application_id").fetchone()
    if marked == APPLICATION_ID:
        return None
    tables = [name for (name,) in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
    if not tables:
        return None  # a new, empty file: ticker's to fill
    ours = "_sqlite_migrations" in tables and conn.execute(
        "SELECT 1 FROM _sqlite_migrations WHERE migration_set = ? LIMIT 1", [MIGRATION_SET]).fetchone()
    if marked == 0 and ours:
        return None  # written by a ticker from before the mark
    which = f"application_id {marked:#x}, " if marked else ""
    shown = next((t for t in tables if t != "_sqlite_migrations"), tables[0])
    return (f"{path} is not a ticker database ({which}a table {shown!r} of another program, and no ticker"
            f" migrations); ticker leaves it as it is: give --db or [database] path a file of ticker's, or a new one")


def warn_if_newer(conn: sqlite3.Connection, path) -> None:
    """One warning when the file records migrations this ticker does not know: a newer one wrote it."""
    if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = '_sqlite_migrations'").fetchone():
        return
    newer = [name for (name,) in conn.execute("SELECT name FROM _sqlite_migrations WHERE migration_set = ?"
                                              " ORDER BY rowid", [MIGRATION_SET]) if name not in KNOWN_MIGRATIONS]
    if newer:
        import logging

        log = logging.getLogger("ticker")
        # The daemon's log says WARNING itself; a command's stderr line says it as its others do.
        prefix = "" if log.hasHandlers() else "Warning: "
        log.warning("%s%s was written by a newer ticker (migrations %s unknown here): this one may misread it;"
                    " upgrade ticker", prefix, path, ", ".join(newer))


def _user() -> str:
    import pwd

    try:
        return pwd.getpwuid(os.geteuid()).pw_name
    except KeyError:
        return f"uid {os.geteuid()}"


def _owner(path: Path) -> str:
    import pwd

    uid = path.stat().st_uid
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"


def problem(database: Path) -> str | None:
    """Why this process cannot write `database` (its folder, the file, its -wal, -shm and lock
    files), as one line naming the path and the permission needed; None when nothing is missing."""
    database = Path(database).absolute()
    who = f"the user running ticker ({_user()})"
    folder = database.parent
    if not folder.exists():
        ancestor = next((p for p in folder.parents if p.exists()), Path("/"))
        if not os.access(ancestor, os.W_OK | os.X_OK):
            return f"{folder}: cannot be created; {who} needs write permission on the folder {ancestor}"
        return None
    if not folder.is_dir():
        return f"{folder}: not a folder; the database needs a folder to live in"
    if not os.access(folder, os.W_OK | os.X_OK):
        return (f"{folder}: {who} needs write permission on this folder, where the database, its -wal and -shm "
                "files and its lock file are created")
    for path in (database, Path(f"{database}-wal"), Path(f"{database}-shm"), Path(f"{database}.lock")):
        if path.exists() and not os.access(path, os.R_OK | os.W_OK):
            return f"{path}: {who} needs read and write permission on this file (it belongs to {_owner(path)})"
    return None


def immutable_safe(database: Path) -> bool:
    """Whether reading `database` with SQLite's immutable=1 misses nothing: no -wal file holds
    changes not yet folded into it (a daemon that stopped cleanly leaves none)."""
    wal = Path(f"{database}-wal")
    return not wal.exists() or wal.stat().st_size == 0
