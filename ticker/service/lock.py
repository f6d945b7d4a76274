"""One writer per database: an exclusive flock on `<database>.lock`, freed by the kernel when the holder dies."""

import fcntl
import os
from pathlib import Path

from ..errors import AlreadyRunning, NotWritable
from ..store import access


def shown(path: Path) -> str:
    """A path as a person typed it: relative to the working folder when inside it."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def hold(database: Path) -> int:
    """Take the lock beside `database` for this process's lifetime; returns its descriptor.

    The lock file is never deleted: removing it would let a second process lock a new file
    while the first still holds the old one.
    """
    path = Path(f"{database}.lock")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise NotWritable(access.problem(Path(database)) or f"{path}: {exc.strerror}") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
        os.close(fd)
        raise AlreadyRunning(f"another ticker daemon (pid {holder}) is writing {shown(database)}") from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    return fd
