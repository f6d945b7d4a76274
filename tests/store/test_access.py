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


# -- whose file it is: another program's is refused untouched, a newer ticker's is a warning ----------

MARK = 0x544B5231  # "TKR1": ticker's PRAGMA application_id


def foreign_file(path: Path, kind: str) -> bytes:
    """Another program's SQLite file (a notes app's): its bytes."""
    conn = sqlite3.connect(path)
    conn.executescript("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);"
                       "CREATE TABLE tags (note INTEGER, tag TEXT);"
                       "INSERT INTO notes (body) VALUES ('buy milk'), ('call mum');")
    if kind == "its own application_id":
        conn.execute("PRAGMA application_id = 1234567")
    elif kind == "its own sqlite-utils migrations":
        conn.executescript('CREATE TABLE "_sqlite_migrations" (id INTEGER PRIMARY KEY, migration_set TEXT, name TEXT,'
                           " applied_at TEXT);"
                           "INSERT INTO _sqlite_migrations (migration_set, name) VALUES ('notes', '0001_initial');")
    conn.commit()
    conn.close()
    return path.read_bytes()


@pytest.mark.parametrize("kind", ["no application_id", "its own application_id", "its own sqlite-utils migrations"])
@pytest.mark.parametrize("command", [["fetch"], ["backfill"], ["run"], ["rate", "USD"], ["status"], ["export"],
                                     ["table"], ["bank-fetch"]])
def test_another_programs_sqlite_file_is_refused_in_one_line_and_left_byte_for_byte(tmp_path, nbrb, kind, command):
    from support.daemon import PINNED

    path = tmp_path / "notes.sqlite"
    before = foreign_file(path, kind)
    config = write_config(tmp_path, nbrb.url, database={"path": '"notes.sqlite"'}, schedule={"poll": '"0 3 1 1 *"'})
    done = subprocess.run([*PINNED, "--config", str(config), *command], capture_output=True, text=True, timeout=60,
                          stdin=subprocess.DEVNULL)
    which = "application_id 0x12d687, " if kind == "its own application_id" else ""
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == (f"Error: Database error: {path} is not a ticker database ({which}a table 'notes' of another"
                           " program, and no ticker migrations); ticker leaves it as it is: give --db or [database]"
                           " path a file of ticker's, or a new one\n")
    assert path.read_bytes() == before  # not even the journal mode changed
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.toml", "notes.sqlite"]  # no -wal, -shm or lock
    assert nbrb.requests == []  # refused before anything is asked


def test_a_newer_tickers_database_gives_one_warning_and_is_used(tmp_path, nbrb):
    from support.daemon import PINNED

    config = write_config(tmp_path, nbrb.url, track={"currencies": '["USD"]', "since": "2026-03-16"})
    with minsk("2026-03-17 18:51"):
        sync = Sync(configuration.load(config))
        sync.backfill(until=__import__("datetime").date(2026, 3, 16))
        sync.store.db.execute("INSERT INTO _sqlite_migrations (migration_set, name, applied_at)"
                              " VALUES ('ticker', '0099_from_the_future', '2027-01-01')")
        sync.store.close()
    warning = (f"{tmp_path / 'rates.sqlite'} was written by a newer ticker (migrations 0099_from_the_future unknown"
               " here): this one may misread it; upgrade ticker")
    for command, out in [(["rate", "USD", "--date", "2026-03-16"], "2026-03-16  1 USD = 2.9332 BYN  (NBRB Cur_ID 431)\n"),
                         (["fetch", "--date", "2026-03-17"], "2026-03-17  1 USD = 2.9463 BYN  new\n")]:
        done = subprocess.run([*PINNED, "--config", str(config), *command], capture_output=True, text=True,
                              timeout=60, stdin=subprocess.DEVNULL)
        assert (done.returncode, done.stdout, done.stderr) == (0, out, f"Warning: {warning}\n")


def test_a_new_database_and_an_old_tickers_get_the_application_id(tmp_path):
    from sqlite_utils import Database

    from ticker.store import schema
    from ticker.store.writer import Store

    Store(tmp_path / "new.sqlite").close()
    old = Database(tmp_path / "old.sqlite")  # written by a ticker from before the mark: migrations, no id
    schema.MIGRATIONS.apply(old, stop_before="0008_job_since")
    old.close()
    assert sqlite3.connect(tmp_path / "old.sqlite").execute("PRAGMA application_id").fetchone() == (0,)
    from ticker.store import reader

    reader.connect(tmp_path / "old.sqlite").close()  # a reader takes it as ticker's, and changes nothing
    assert sqlite3.connect(tmp_path / "old.sqlite").execute("PRAGMA application_id").fetchone() == (0,)
    Store(tmp_path / "old.sqlite").close()  # its first writer marks it, with the migrations it lacked
    for name in ("new.sqlite", "old.sqlite"):
        conn = sqlite3.connect(tmp_path / name)
        assert conn.execute("PRAGMA application_id").fetchone() == (MARK,), name
        assert conn.execute("SELECT count(*) FROM _sqlite_migrations WHERE name = '0008_job_since'").fetchone() == (1,)
        conn.close()
