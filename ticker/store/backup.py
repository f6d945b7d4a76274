"""A consistent copy of the live database: SQLite's online backup API, checked, then renamed into place.

A copy of the bare file misses what the -wal file still holds (everything since the last
checkpoint, and a reader's open transaction holds checkpoints back), and a copy taken while the
daemon writes may be torn. The backup API copies every page as of one read transaction, WAL
included, and neither the daemon nor the readers wait for it.
"""

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from ..errors import BackupError
from . import reader


@dataclass(frozen=True)
class Backup:
    path: Path
    rates: int  # rows of `rates` in the copy
    size: int  # bytes


def backup(database: Path, target: Path | str) -> Backup:
    """Copy `database` into `target`, replacing it atomically once the copy passed integrity_check.

    The copy is one self-contained file (rollback journal, no -wal to carry along). Raises
    BackupError for a target that is a folder, in a missing folder, or the database itself (or
    its -wal, -shm or lock file); NoData for a missing database.
    """
    if str(target).endswith(os.sep):
        raise BackupError(f"{target}: a folder; give the backup's file name")
    target = Path(target)
    database = Path(database)
    if target.is_dir():
        raise BackupError(f"{target}: a folder; give the backup's file name")
    if not target.parent.is_dir():
        raise BackupError(f"{target}: no folder {target.parent}")
    live = database.resolve()
    if target.resolve() in {live, *(live.with_name(live.name + end) for end in ("-wal", "-shm", ".lock"))}:
        raise BackupError(f"{target}: that is the live database's own file; back up into another file")
    source = reader.connect(database)
    temporary = target.parent / f".{target.name}.{os.getpid()}.tmp"
    try:
        try:
            os.close(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))
        except OSError as exc:
            raise BackupError(f"{target}: cannot write in {target.parent.absolute()}: {exc.strerror}") from None
        copy = sqlite3.connect(temporary)
        try:
            # One step (-1 pages): the whole database as of one read transaction, whatever writes meanwhile.
            source.backup(copy)
            copy.execute("PRAGMA journal_mode = DELETE")  # one file: a restore is a copy of it
            problems = [row[0] for row in copy.execute("PRAGMA integrity_check")]
            if problems != ["ok"]:
                raise BackupError(f"{target}: the copy failed integrity_check: {'; '.join(problems[:3])}")
            (rates,) = copy.execute("SELECT count(*) FROM rates").fetchone()
        finally:
            copy.close()
        with open(temporary, "rb+") as out:
            os.fsync(out.fileno())
        os.replace(temporary, target)
        folder = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(folder)  # the rename itself survives a power cut
        finally:
            os.close(folder)
    except (sqlite3.Error, OSError) as exc:  # a full disk, say: the old backup stays as it was
        _remove(temporary)
        raise BackupError(f"{target}: {exc}") from None
    except BaseException:
        _remove(temporary)
        raise
    finally:
        source.close()
    return Backup(target, rates, target.stat().st_size)


def _remove(temporary: Path) -> None:
    for leftover in (temporary, Path(f"{temporary}-journal")):
        leftover.unlink(missing_ok=True)
