"""One daemon per database: an exclusive flock on `<database>.lock`, freed by the kernel when the holder dies."""

import os
from pathlib import Path

from .. import files
from ..errors import AlreadyRunning, NotWritable
from ..store import access


def shown(path: Path) -> str:
    """A path as a person typed it: relative to the working folder when inside it."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def hold(database: Path) -> int:
    """Take the lock beside `database` for this process's lifetime and write this pid into it;
    returns its descriptor. AlreadyRunning names the daemon holding it."""
    path = Path(f"{database}.lock")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = files.lock(path, wait=False)
    except OSError as exc:
        raise NotWritable(access.problem(Path(database)) or f"{path}: {exc.strerror}") from None
    if fd is None:
        try:
            holder = path.read_text(errors="replace")[:32].strip() or "unknown"
        except OSError:
            holder = "unknown"
        raise AlreadyRunning(f"another ticker daemon (pid {holder}) is writing {shown(database)}")
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    return fd
