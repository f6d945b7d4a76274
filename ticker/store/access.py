"""Who may write and read the database file: the one line that says what permission is missing.

Stdlib only: the lock, the writer and the read-only side all use it.
"""

import os
from pathlib import Path


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
