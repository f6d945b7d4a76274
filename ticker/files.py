"""Files: written so that readers (web servers, scripts) see them whole and old or whole and new,
with the modes a person expects, and the one way ticker locks a file between processes.

Modes follow the umask, as a file written by any program does, and a file replaced keeps its mode:
a private 0600 export stays private, a page under umask 077 and its charts alike are the owner's.
"""

import fcntl
import os
from contextlib import contextmanager
from pathlib import Path


def umask() -> int:
    """This process's umask, read without changing it (os.umask sets it, which races other threads)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)  # no /proc (not Linux): the only other way to read it
    os.umask(mask)
    return mask


def mode_for(path: Path, folder: bool = False) -> int:
    """The mode a new `path` gets: the one it has, when it exists; else what open() or mkdir() would give."""
    try:
        return Path(path).stat().st_mode & 0o7777
    except FileNotFoundError:
        return (0o777 if folder else 0o666) & ~umask()


@contextmanager
def replacing(path: Path, mode: str = "wb", **open_args):
    """A file beside `path` that replaces it once the block ends without error: written in
    pieces (an export streams through it), it is still never seen half-written."""
    import tempfile  # 10 ms of imports that `ticker line` without --write never needs

    path = Path(path)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, mode, **open_args) as out:
            yield out
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, mode_for(path))  # mkstemp's 0600 would hide a page from its web server
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_bytes(path: Path, data: bytes) -> None:
    """Write beside the target, flush to disk, then rename over it: never a half-written file."""
    with replacing(path) as out:
        out.write(data)


def write_text(path: Path, text: str) -> None:
    write_bytes(path, text.encode("utf-8"))


def lock(path: Path, wait: bool = True) -> int | None:
    """An exclusive flock on `path` (created if missing, never deleted: removing it would let a second
    process lock a new file while the first holds the old one), held until the descriptor is closed
    or the process ends, kill -9 included. Without `wait`, None when another process holds it."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


@contextmanager
def locked(path: Path):
    """The block runs holding `lock(path)`; other processes wait for it."""
    fd = lock(path)
    try:
        yield fd
    finally:
        os.close(fd)
