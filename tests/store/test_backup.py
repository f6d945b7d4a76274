"""`ticker backup`: a consistent, checked copy of the live database, renamed into place; bad targets refused.

Beside a running daemon and a reader holding a transaction: tests/service/test_daemon_run.py.
"""

import os
import sqlite3

from click.testing import CliRunner

from ticker.cli import cli
from ticker.store.backup import backup

COLUMNS = "code, date, scale, rate_text, unit, cur_id"


def rows(path):
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        return conn.execute(f"SELECT {COLUMNS} FROM rates ORDER BY code, date").fetchall()


def invoke(*args):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_backup_copies_every_row_into_one_checked_file(recorded_db, tmp_path):
    target = tmp_path / "copy.sqlite"
    result = invoke("--db", str(recorded_db), "backup", str(target))
    expected = rows(recorded_db)
    size = target.stat().st_size
    assert (result.exit_code, result.output) == (
        0, f"{target}: {len(expected)} rates, {size / 1000:.1f} kB, integrity_check ok\n")
    assert rows(target) == expected and len(expected) > 500
    with sqlite3.connect(target) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("delete",)  # self-contained: no -wal to carry
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        # The whole database, not only the rates: the catalogue, the fetches, the migrations.
        assert conn.execute("SELECT count(*) FROM currencies").fetchone()[0] > 30
    assert sorted(p.name for p in tmp_path.iterdir()) == ["copy.sqlite"]  # no temporary file left


def test_backup_replaces_an_existing_file_whole(recorded_db, tmp_path):
    target = tmp_path / "copy.sqlite"
    target.write_text("last week's notes, not a database")
    done = backup(recorded_db, target)
    assert (done.path, done.rates, done.size) == (target, len(rows(recorded_db)), target.stat().st_size)
    assert rows(target) == rows(recorded_db)


def test_backup_refuses_the_live_database_folders_and_missing_folders(recorded_db, tmp_path, monkeypatch):
    before = recorded_db.stat().st_mtime_ns
    monkeypatch.chdir(recorded_db.parent)
    (tmp_path / "link.sqlite").symlink_to(recorded_db)
    for target, message in [
        (recorded_db.name, f"{recorded_db.name}: that is the live database's own file; back up into another file"),
        (str(tmp_path / "link.sqlite"), f"{tmp_path / 'link.sqlite'}: that is the live database's own file;"
                                        " back up into another file"),
        (f"{recorded_db}-wal", f"{recorded_db}-wal: that is the live database's own file; back up into another file"),
        (str(tmp_path), f"{tmp_path}: a folder; give the backup's file name"),
        (f"{tmp_path}/new/", f"{tmp_path}/new/: a folder; give the backup's file name"),
        (str(tmp_path / "no" / "such.sqlite"), f"{tmp_path / 'no' / 'such.sqlite'}: no folder {tmp_path / 'no'}"),
    ]:
        result = invoke("--db", str(recorded_db), "backup", target)
        assert (result.exit_code, result.output) == (1, f"Error: Could not back up: {message}\n")
    assert recorded_db.stat().st_mtime_ns == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.sqlite"]


def test_backup_of_a_missing_database_is_one_line(tmp_path):
    result = invoke("--db", str(tmp_path / "none.sqlite"), "backup", str(tmp_path / "copy.sqlite"))
    assert (result.exit_code, result.output) == (
        1, f"Error: No data: no database at {tmp_path / 'none.sqlite'}; run `ticker backfill` first\n")
    assert list(tmp_path.iterdir()) == []


def test_a_folder_it_may_not_write_is_one_line_and_the_old_backup_stays(recorded_db, tmp_path):
    import subprocess
    import sys

    target = tmp_path / "copy.sqlite"
    backup(recorded_db, target)
    old = target.read_bytes()
    os.chmod(tmp_path, 0o555)
    try:
        # As root, bound by the permission bits all the same (without the capabilities that override them).
        bound = ["setpriv", "--inh-caps=-all", "--bounding-set=-dac_override,-dac_read_search,-fowner"]
        done = subprocess.run([*(bound if os.geteuid() == 0 else []), sys.executable, "-m", "ticker",
                               "--db", str(recorded_db), "backup", str(target)],
                              capture_output=True, text=True, timeout=60)
    finally:
        os.chmod(tmp_path, 0o755)
    assert (done.returncode, done.stdout, done.stderr) == (
        1, "", f"Error: Could not back up: {target}: cannot write in {tmp_path}: Permission denied\n")
    assert target.read_bytes() == old
    assert sorted(p.name for p in tmp_path.iterdir()) == ["copy.sqlite"]
