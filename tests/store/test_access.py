"""Permissions, as a user who may not write (real processes): writers say in one line which path
needs which permission, readers still answer from a folder they may not write.

The tests run as root in CI, and root ignores permission bits: its child processes here keep
uid 0 but lose the capabilities that override them (util-linux's setpriv), so the folders' bits
bind them as they bind anyone, while the checkout and its venv stay reachable wherever CI clones
them."""

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
from ticker.sync.official import Sync

TICKER = str(Path(sys.executable).with_name("ticker"))
NOBODY = 65534


ROOT = os.geteuid() == 0
BOUND = ["setpriv", "--inh-caps=-all", "--bounding-set=-dac_override,-dac_read_search,-fowner,-chown"]


def bound(*args: str) -> subprocess.CompletedProcess:
    """Run a command bound by the files' permission bits (as root: without root's overrides)."""
    return subprocess.run([*(BOUND if ROOT else []), *args], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "HOME": "/nonexistent"})


@pytest.fixture
def folder():
    """A folder everyone may read and only its owner (root, or the user running the tests) may write.

    pytest's own tmp_path is private (0700), out of the other user's reach."""
    path = Path(tempfile.mkdtemp(prefix="ticker-access-"))
    path.chmod(0o755)
    yield path
    path.chmod(0o755)
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
    folder.chmod(0o555)  # nobody may create files in it: its owner neither
    return folder / "rates.sqlite"


def whoami():
    return __import__("pwd").getpwuid(os.geteuid()).pw_name


@pytest.mark.parametrize("command", [["run"], ["fetch"], ["backfill"]])
def test_a_folder_the_writer_may_not_write_is_one_line(database, command):
    done = bound(TICKER, "--config", str(database.parent / "config.toml"), *command)
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == (f"Error: Cannot write: {database.parent}: the user running ticker ({whoami()}) needs write "
                           "permission on this folder, where the database, its -wal and -shm files and its lock file "
                           "are created\n")


def test_a_folder_that_cannot_be_created_is_one_line(folder):
    folder.chmod(0o555)
    done = bound(TICKER, "--db", str(folder / "db" / "rates.sqlite"), "backfill")
    assert (done.returncode, done.stderr) == (1, f"Error: Cannot write: {folder / 'db'}: cannot be created; the user "
                                                 f"running ticker ({whoami()}) needs write permission on the folder "
                                                 f"{folder}\n")
    assert list(folder.iterdir()) == []


def test_a_database_file_owned_by_another_user_is_one_line(database):
    database.parent.chmod(0o777)  # the folder is writable, the file is not
    if ROOT:
        os.chown(database, NOBODY, NOBODY)  # another user's file, 0644: others may only read it
    else:
        database.chmod(0o444)  # the best a user who may not chown can do: a file nobody may write
    done = bound(TICKER, "--config", str(database.parent / "config.toml"), "fetch")
    assert done.returncode == 1
    assert done.stderr == (f"Error: Cannot write: {database}: the user running ticker ({whoami()}) needs read and "
                           f"write permission on this file (it belongs to {'nobody' if ROOT else whoami()})\n")


def test_readers_answer_from_a_folder_they_may_not_write(database, folder):
    rate = bound(TICKER, "--db", str(database), "rate", "USD", "--date", "2026-03-17")
    assert (rate.returncode, rate.stdout, rate.stderr) == (0, "2026-03-17  1 USD = 2.9463 BYN  (NBRB Cur_ID 431)\n", "")
    api = bound(sys.executable, "-c", "import sys; from ticker import Rates; "
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
    rate = bound(TICKER, "--db", str(database), "rate", "USD", "--date", "2026-03-17")
    conn.close()
    assert rate.returncode == 1 and rate.stdout == ""
    assert rate.stderr == (f"Error: Database error: {database}-wal holds changes not yet in the database, and reading "
                           f"them needs the -shm file beside it: the user running ticker ({whoami()}) needs write "
                           "permission on this folder, where the database, its -wal and -shm files and its lock file "
                           "are created; or start the daemon, which folds them in\n")
