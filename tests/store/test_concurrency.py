"""Writers never collide: real `ticker` processes writing one database at once."""

import sqlite3
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from support import write_config
from support.nbrb_data import synthetic_server

from ticker.store.schema import MIGRATIONS

TICKER = str(Path(sys.executable).with_name("ticker"))
UNTIL = "2026-03-17"
CODES = '["USD", "EUR", "RUB", "PLN", "CNY"]'


def together(commands: list[list[str]], timeout: float = 120) -> list[subprocess.CompletedProcess]:
    """Start every command at once, then wait for all; each result with its output."""
    procs = [subprocess.Popen(c, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for c in commands]
    results = []
    for command, proc in zip(commands, procs):
        out, err = proc.communicate(timeout=timeout)
        results.append(subprocess.CompletedProcess(command, proc.returncode, out, err))
    return results


def rows(path: Path, sql: str):
    with sqlite3.connect(path) as conn:
        return conn.execute(sql).fetchall()


@pytest.fixture(scope="module")
def server():
    with synthetic_server(codes=30, since="2019-01-01", until=UNTIL) as fake:
        yield fake


@pytest.fixture(scope="module")
def reference(tmp_path_factory, server):
    """What one backfill alone stores."""
    folder = tmp_path_factory.mktemp("alone")
    config = write_config(folder, server.url, track={"currencies": CODES, "since": "2019-01-01"})
    done = subprocess.run([TICKER, "--config", str(config), "backfill", "--until", UNTIL],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return rows(folder / "rates.sqlite", "SELECT code, date, scale, rate_text, unit, cur_id FROM rates ORDER BY 1, 2")


def backfills(config: Path, n: int, *extra: str) -> list[list[str]]:
    return [[TICKER, "--config", str(config), "backfill", "--until", UNTIL, *extra]] * n


def test_five_backfills_at_once_on_a_new_database(tmp_path, server, reference):
    config = write_config(tmp_path, server.url, track={"currencies": CODES, "since": "2019-01-01"})
    results = together(backfills(config, 5))
    assert [(r.returncode, r.stderr) for r in results] == [(0, "")] * 5
    database = tmp_path / "rates.sqlite"
    stored = rows(database, "SELECT code, date, scale, rate_text, unit, cur_id FROM rates ORDER BY 1, 2")
    assert stored == reference and len(stored) == 5 * ((date(2026, 3, 17) - date(2019, 1, 1)).days + 1)
    assert rows(database, "SELECT count(*) FROM revisions") == [(0,)]
    assert rows(database, "SELECT status, count(*) FROM fetches WHERE kind = 'backfill' GROUP BY 1") == [("ok", 5)]
    # Every row was stored by exactly one of them.
    assert rows(database, "SELECT sum(rows_new) FROM fetches WHERE kind = 'backfill'") == [(len(reference),)]
    # Each migration was applied once, by one of them.
    applied = rows(database, "SELECT name FROM _sqlite_migrations ORDER BY id")
    assert applied == [(m.name,) for m in MIGRATIONS._migrations] and applied[:2] == [("0001_initial",), ("0002_daemon",)]


def test_five_writers_at_once_on_an_existing_database_with_gaps(tmp_path, server, reference):
    config = write_config(tmp_path, server.url, track={"currencies": CODES, "since": "2019-01-01"})
    first = together(backfills(config, 1))
    assert first[0].returncode == 0, first[0].stderr
    database = tmp_path / "rates.sqlite"
    with sqlite3.connect(database) as conn:
        conn.execute("DELETE FROM rates WHERE date BETWEEN '2020-02-01' AND '2021-09-30' OR code = 'CNY'")
    results = together(backfills(config, 3) + backfills(config, 2, "--currency", "CNY"))
    assert [(r.returncode, r.stderr) for r in results] == [(0, "")] * 5
    assert rows(database, "SELECT code, date, scale, rate_text, unit, cur_id FROM rates ORDER BY 1, 2") == reference
    assert rows(database, "SELECT count(*) FROM revisions") == [(0,)]
    assert rows(database, "SELECT count(*) FROM fetches WHERE status <> 'ok'") == [(0,)]
