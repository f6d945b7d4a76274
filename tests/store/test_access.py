"""Permissions, as a user who may not write (real processes; the tests run as root in CI, so the
child drops to `nobody`): writers say in one line which path needs which permission, readers
still answer from a folder they may not write."""

import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from support import minsk, write_config

from ticker import config as configuration
from ticker.sync import Sync

TICKER = str(Path(sys.executable).with_name("ticker"))
NOBODY = 65534


def as_nobody(*args: str) -> subprocess.CompletedProcess:
    """Run a command as a user who may not write the test folders: root can write anything, so as
    root the command runs as `nobody` (util-linux's setpriv); any other user already cannot."""
    drop = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"] if os.geteuid() == 0 else []
    return subprocess.run([*drop, *args], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "HOME": "/nonexistent"})


@pytest.fixture
def folder():
    """A folder everyone may read and only its owner (root, or the user running the tests) may write.

    pytest's own tmp_path is private (0700), out of the other user's reach."""
    path = Path(tempfile.mkdtemp(prefix="ticker-access-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path)


@pytest.fixture
def database(folder, nbrb):
    """The daemon's database, written by the owner and closed cleanly (no -wal file left)."""
    config = configuration.load(write_config(folder, nbrb.url, track={"currencies": '["USD", "EUR"]',
                                                                      "since": "2026-03-10"}))
    with minsk("2026-03-17 18:51"):
        sync = Sync(config)
        sync.backfill(until=__import__("datetime").date(2026, 3, 17))
        sync.store.close()
    for path in folder.iterdir():
        path.chmod(0o644)
    assert not (folder / "rates.sqlite-wal").exists()
    return folder / "rates.sqlite"


def whoami():
    return "nobody" if os.geteuid() == 0 else __import__("pwd").getpwuid(os.geteuid()).pw_name


@pytest.mark.parametrize("command", [["run"], ["fetch"], ["backfill"]])
def test_a_folder_the_writer_may_not_write_is_one_line(database, command):
    done = as_nobody(TICKER, "--config", str(database.parent / "config.toml"), *command)
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == (f"Error: Cannot write: {database.parent}: the user running ticker ({whoami()}) needs write "
                           "permission on this folder, where the database, its -wal and -shm files and its lock file "
                           "are created\n")


def test_a_folder_that_cannot_be_created_is_one_line(folder):
    done = as_nobody(TICKER, "--db", str(folder / "db" / "rates.sqlite"), "backfill")
    assert (done.returncode, done.stderr) == (1, f"Error: Cannot write: {folder / 'db'}: cannot be created; the user "
                                                 f"running ticker ({whoami()}) needs write permission on the folder "
                                                 f"{folder}\n")
    assert list(folder.iterdir()) == []


def test_a_database_file_or_wal_owned_by_another_user_is_one_line(database):
    database.parent.chmod(0o777)  # the folder is writable, the file is not
    done = as_nobody(TICKER, "--config", str(database.parent / "config.toml"), "fetch")
    assert done.returncode == 1
    assert done.stderr == (f"Error: Cannot write: {database}: the user running ticker ({whoami()}) needs read and "
                           f"write permission on this file (it belongs to {'root' if os.geteuid() == 0 else whoami()})\n")


def test_readers_answer_from_a_folder_they_may_not_write(database, folder):
    rate = as_nobody(TICKER, "--db", str(database), "rate", "USD", "--date", "2026-03-17")
    assert (rate.returncode, rate.stdout, rate.stderr) == (0, "2026-03-17  1 USD = 2.9463 BYN  (NBRB Cur_ID 431)\n", "")
    api = as_nobody(sys.executable, "-c", "import sys; from ticker import Rates; "
                    "print(Rates(sys.argv[1]).on('EUR', '2026-03-10'))", str(database))
    assert (api.returncode, api.stdout) == (0, "3.3727\n"), api.stderr
    # Nothing was created beside the database.
    assert sorted(p.name for p in folder.iterdir()) == ["config.toml", "rates.sqlite"]


def test_readers_refuse_an_immutable_read_that_would_miss_changes(database):
    conn = sqlite3.connect(database)  # changes left in a -wal, as after a crash
    conn.execute("PRAGMA wal_autocheckpoint = 0")
    conn.execute("UPDATE rates SET rate_text = '2.9999' WHERE code = 'USD' AND date = '2026-03-17'")
    conn.commit()
    (database.parent / "rates.sqlite-shm").unlink()
    assert (database.parent / "rates.sqlite-wal").stat().st_size > 0
    rate = as_nobody(TICKER, "--db", str(database), "rate", "USD", "--date", "2026-03-17")
    conn.close()
    assert rate.returncode == 1 and rate.stdout == ""
    assert rate.stderr == (f"Error: Database error: {database}-wal holds changes not yet in the database, and reading "
                           f"them needs the -shm file beside it: the user running ticker ({whoami()}) needs write "
                           "permission on this folder, where the database, its -wal and -shm files and its lock file "
                           "are created; or start the daemon, which folds them in\n")
