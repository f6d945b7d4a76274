"""The real `ticker run` process against a real local NBRB fake: catch-up, signals, faults, kill -9, lock, readers.

A subprocess cannot share time_machine's pinned clock, so these tests serve synthetic rates ending
today (Minsk) and keep the schedule's own runs out of the way (January 1st, 03:00); the catch-up at
start and its retries are what they exercise.
"""

import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import date, timedelta
from pathlib import Path

import pytest
from support import write_config
from support.nbrb_data import synthetic_server
from support.nbrb_server import JSON

from ticker import config as configuration
from ticker import days
from ticker.service.hooks import HOOKS
from ticker.sync import Sync

TICKER = str(Path(sys.executable).with_name("ticker"))
COLUMNS = "code, date, scale, rate_text, unit, cur_id"
NEVER = '"0 3 1 1 *"'  # the schedule's own runs stay out of the tests' way
# A successful catch-up's last step: its last hook.
REFRESHED = rf"^(INFO refreshed|ERROR refreshing) {HOOKS[-1][0]}"


class Running:
    """A `ticker run` process; its stderr lines are collected as they come."""

    def __init__(self, config: Path, *args, env=None):
        self.proc = subprocess.Popen([TICKER, "--config", str(config), "run", *args], stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                                     env={**os.environ, **(env or {})})
        self.lines: list[str] = []
        self._closed = False
        self._changed = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stderr:
            with self._changed:
                self.lines.append(line.rstrip("\n"))
                self._changed.notify_all()
        with self._changed:
            self._closed = True
            self._changed.notify_all()

    def wait_for(self, pattern: str, timeout: float = 60) -> str:
        """The first log line matching `pattern`, waiting for it while the process lives."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = next((line for line in self.lines if re.search(pattern, line)), None)
                if found is not None:
                    return found
                left = deadline - time.monotonic()
                if self._closed or left <= 0:
                    raise AssertionError(f"no log line matching {pattern!r}; the log:\n" + "\n".join(self.lines))
                self._changed.wait(left)

    def stop(self, signum=signal.SIGTERM, within: float = 5) -> int:
        self.proc.send_signal(signum)
        return self.proc.wait(timeout=within)

    @property
    def log(self) -> str:
        return "\n".join(self.lines)


@pytest.fixture
def launch():
    started = []

    def start(config, *args, **kwargs) -> Running:
        started.append(Running(config, *args, **kwargs))
        return started[-1]

    yield start
    for run in started:
        if run.proc.poll() is None:
            run.proc.kill()
            run.proc.wait()


def daemon_config(folder: Path, server, since: date, codes='["USD", "EUR", "RUB"]', **nbrb) -> Path:
    return write_config(
        folder, server.url,
        nbrb={"base_url": f'"{server.url}"', "timeout": "1", "retries": "2", "backoff": "0.02", **nbrb},
        track={"currencies": codes, "since": since.isoformat()},
        schedule={"poll": NEVER, "catchup": NEVER, "retry": "0.02"},
        charts={"currencies": '["USD"]', "windows": "[7]"},  # the refresh after a catch-up, kept short
    )


def query(config: Path, sql: str, *params):
    with sqlite3.connect(config.parent / "rates.sqlite") as conn:
        return conn.execute(sql, params).fetchall()


def stored_rows(config: Path, at_least: int) -> int:
    """Wait until the daemon has stored `at_least` rates; their number."""
    while True:
        if (config.parent / "rates.sqlite").exists():
            tables = query(config, "SELECT count(*) FROM sqlite_master WHERE name IN ('rates', 'daemon')")
            if tables == [(2,)]:
                (count,), = query(config, "SELECT count(*) FROM rates")
                if count >= at_least:
                    return count
        time.sleep(0.02)


def reference(tmp_path: Path, server, config: Path):
    """The rows one uninterrupted, fault-free catch-up stores: what every run must end with."""
    folder = tmp_path / "reference"
    folder.mkdir()
    (folder / "config.toml").write_text(config.read_text())  # its paths are relative to its folder
    sync = Sync(configuration.load(folder / "config.toml"))
    sync.backfill()
    sync.fetch()
    rows = sync.store.db.execute(f"SELECT {COLUMNS} FROM rates ORDER BY code, date").fetchall()
    sync.store.close()
    return rows


def today():
    return days.today()


@pytest.fixture
def systemd(tmp_path):
    """A datagram socket where systemd would listen for sd_notify messages."""
    path = tmp_path / "notify"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(str(path))
        sock.settimeout(10)
        yield sock


def test_run_catches_up_then_sigterm_exits_0_with_the_data_complete(tmp_path, launch, systemd):
    since = today() - timedelta(days=40)
    with synthetic_server(since=since.isoformat(), until=today().isoformat()) as server:
        config = daemon_config(tmp_path, server, since)
        run = launch(config, env={"NOTIFY_SOCKET": systemd.getsockname()})
        assert systemd.recv(100) == b"READY=1"
        run.wait_for(r"^INFO catch-up: 123 new, 0 revised, through ")
        run.wait_for(REFRESHED)
        assert run.proc.poll() is None
        row = query(config, "SELECT pid, state, job FROM daemon")
        assert row == [(run.proc.pid, "running", None)]
        assert run.stop() == 0
        assert systemd.recv(100) == b"STOPPING=1"
        stored = query(config, f"SELECT {COLUMNS} FROM rates ORDER BY code, date")
        assert stored == reference(tmp_path, server, config)
    assert len(stored) == 41 * 3
    assert run.lines[-2:] == ["INFO SIGTERM: stopping", "INFO stopped"]
    assert re.match(rf"^INFO ticker \S+ started \(pid {run.proc.pid}\) on .*rates.sqlite: polls '0 3 1 1 \*'",
                    run.lines[0])
    assert query(config, "SELECT state, stopped_at IS NOT NULL FROM daemon") == [("stopped", 1)]


def test_network_faults_never_stop_it_and_a_later_run_completes_exactly(tmp_path, launch):
    since = today() - timedelta(days=20)
    faults = [
        ((500, {}, b"oops"), (503, {}, b"busy"), (500, {}, b"oops")),
        ((429, {"Retry-After": "1"}, b""), (503, {}, b"busy"), (429, {"Retry-After": "0"}, b"")),
        (("delay", 1.2),) * 3,
        ("reset",) * 3,
        ((200, {"Content-Type": JSON}, b'[{"Cur_ID":431,"Date":"2024'),),
        ((200, {"Content-Type": "text/html"}, b"<html><body>Service Unavailable</body></html>"),),
        ((200, {"Content-Type": JSON}, b"[]"),),
    ]
    with synthetic_server(since=since.isoformat(), until=today().isoformat()) as server:
        server.script("/exrates/rates/dynamics/", *[response for fault in faults for response in fault])
        config = daemon_config(tmp_path, server, since, timeout="0.3")
        run = launch(config)
        run.wait_for(r"^INFO catch-up: 63 new, 0 revised", timeout=60)
        run.wait_for(REFRESHED)
        assert run.proc.poll() is None
        stored = query(config, f"SELECT {COLUMNS} FROM rates ORDER BY code, date")
        assert stored == reference(tmp_path, server, config)
        assert run.stop() == 0
    errors = [e for (e,) in query(config, "SELECT error FROM fetches WHERE status = 'error' ORDER BY id")]
    expected = ["HTTP 500, still after retries", "HTTP 429, still after retries", "no answer within 0.3 s",
                "connection closed by the server", "malformed JSON", "expected JSON, got text/html",
                "no USD rates (Cur_ID 431)"]
    assert len(errors) == len(expected)
    for error, problem in zip(errors, expected):
        assert problem in error
    assert len(re.findall(r"^ERROR catch-up failed: ", run.log, re.M)) == len(expected)
    assert query(config, "SELECT last_error LIKE 'catch-up: NBRB sent a response that cannot be used: no USD rates%'"
                         " FROM daemon") == [(1,)]


def test_sigterm_mid_backfill_stops_between_batches_and_the_next_start_finishes(tmp_path, launch):
    since = today() - timedelta(days=3 * 365)
    with synthetic_server(since=since.isoformat(), until=today().isoformat()) as server:
        server.script("/exrates/rates/dynamics/", *[("delay", 0.3)] * 6)
        config = daemon_config(tmp_path, server, since)
        run = launch(config)
        stored_rows(config, 1)
        assert run.stop() == 0
        assert "INFO catch-up interrupted: the daemon is stopping" in run.lines
        ends = {q["enddate"] for path, q in server.requests if "/dynamics/" in path}
        for code, first, last, count in query(config, "SELECT code, min(date), max(date), count(*) FROM rates"
                                                      " GROUP BY code"):
            assert first == since.isoformat() and last in ends, "whole batches only"
            assert count == (date.fromisoformat(last) - since).days + 1
        assert query(config, "SELECT status, error FROM fetches WHERE kind = 'backfill'") == [
            ("error", "Interrupted: the daemon is stopping")]

        again = launch(config)
        again.wait_for(r"^INFO catch-up: \d+ new")
        again.wait_for(REFRESHED)
        assert again.stop() == 0
        assert query(config, f"SELECT {COLUMNS} FROM rates ORDER BY code, date") == reference(tmp_path, server, config)


def test_kill_9_mid_backfill_then_a_restart_leaves_the_database_whole_and_exact(tmp_path, launch):
    since = date(2016, 7, 1)
    with synthetic_server(since=since.isoformat(), until=today().isoformat()) as server:
        server.script("/exrates/rates/dynamics/", *[("delay", 0.2)] * 12)
        config = daemon_config(tmp_path, server, since)
        run = launch(config)
        stored_rows(config, 2 * 365)
        run.proc.kill()
        assert run.proc.wait(timeout=5) == -signal.SIGKILL
        assert query(config, "PRAGMA integrity_check") == [("ok",)]
        assert query(config, "SELECT state FROM daemon") == [("running",)]  # it never said goodbye
        assert query(config, "SELECT count(*) FROM fetches WHERE status = 'running'") == [(1,)]
        partial = query(config, "SELECT count(*) FROM rates")[0][0]

        again = launch(config)  # the kernel freed the dead daemon's lock
        again.wait_for(r"^INFO catch-up: \d+ new")
        again.wait_for(REFRESHED)
        assert again.stop() == 0
        assert query(config, "PRAGMA integrity_check") == [("ok",)]
        stored = query(config, f"SELECT {COLUMNS} FROM rates ORDER BY code, date")
        assert stored == reference(tmp_path, server, config)
    assert 0 < partial < len(stored) == 3 * ((today() - since).days + 1)


def test_a_second_daemon_is_refused_while_the_first_runs_and_sighup_reloads(tmp_path, launch):
    since = today() - timedelta(days=10)
    with synthetic_server(since=since.isoformat(), until=today().isoformat()) as server:
        config = daemon_config(tmp_path, server, since)
        first = launch(config)
        first.wait_for(REFRESHED)
        second = subprocess.run([TICKER, "--config", str(config), "run"], capture_output=True, text=True, timeout=30)
        assert second.returncode == 1
        assert second.stderr == (f"Error: Already running: another ticker daemon (pid {first.proc.pid}) is writing "
                                 f"{tmp_path / 'rates.sqlite'}\n")
        assert first.proc.poll() is None

        good = config.read_text()
        config.write_text(good.replace("[schedule]\n", '[schedule]\ntimezone = "Mars/Olympus"\n'))
        first.proc.send_signal(signal.SIGHUP)
        line = first.wait_for(r"SIGHUP")
        assert line == (f"ERROR SIGHUP: kept the running configuration: Bad configuration: {config}: "
                        "[schedule] timezone: expected a time zone name like Europe/Minsk, got 'Mars/Olympus'")
        config.write_text(good.replace(NEVER + "\nretry", '"*/5 * * * *"\nretry'))
        first.proc.send_signal(signal.SIGHUP)
        assert first.wait_for(r"SIGHUP: reloaded") == f"INFO SIGHUP: reloaded {config}"
        assert first.proc.poll() is None
        assert first.stop() == 0


READER = """
import json, os, sqlite3, sys, time
path, flag = sys.argv[1], sys.argv[2]
errors, answers, deadline = [], 0, time.monotonic() + 120
conn = sqlite3.connect(path, timeout=0)  # no busy handler, like the sqlite3 shell
while not os.path.exists(flag) and time.monotonic() < deadline:
    try:
        conn.execute("SELECT count(*) FROM rates").fetchone()
        conn.execute("SELECT code, date, rate FROM latest").fetchall()
        answers += 1
    except sqlite3.Error as exc:
        errors.append(str(exc))
print(json.dumps({"answers": answers, "errors": errors}))
"""


def test_a_reader_querying_during_a_full_backfill_is_never_locked_out(tmp_path, launch):
    since = date(2016, 7, 1)
    codes = '["USD", "EUR", "RUB", "CNY", "PLN"]'
    with synthetic_server(since=since.isoformat(), until=today().isoformat()) as server:
        config = daemon_config(tmp_path, server, since, codes=codes)
        run = launch(config)
        stored_rows(config, 0)
        done = tmp_path / "done"
        reader = subprocess.Popen([sys.executable, "-c", READER, str(tmp_path / "rates.sqlite"), str(done)],
                                  stdout=subprocess.PIPE, text=True)
        try:
            run.wait_for(r"^INFO catch-up: \d+ new")
        finally:
            done.touch()
        result = json.loads(reader.communicate(timeout=30)[0])
        run.wait_for(REFRESHED)
        assert run.stop() == 0
    assert result["errors"] == []
    assert result["answers"] > 10
    assert query(config, "SELECT count(*) FROM rates") == [(5 * ((today() - since).days + 1),)]


def test_an_alert_is_delivered_once_by_the_daemon_whatever_restarts_follow(tmp_path, launch):
    from support.endpoints import Webhook

    since, tomorrow = today() - timedelta(days=10), today() + timedelta(days=1)
    with synthetic_server(since=since.isoformat(), until=tomorrow.isoformat()) as server, Webhook() as hook:
        config = daemon_config(tmp_path, server, since)
        config.write_text(config.read_text() + f'[[alerts]]\npublished = true\nnotify = ["{hook.url()}"]\n')
        first = launch(config)
        assert first.wait_for(r"alert published") == f"INFO alert published for {tomorrow}: delivered to {hook.url()}"
        first.wait_for(REFRESHED)
        assert first.stop() == 0
        again = launch(config)
        again.wait_for(REFRESHED)
        assert again.stop() == 0
    assert [m["title"] for m in hook.received] == [f"NBRB rates for tomorrow, {tomorrow:%A} {tomorrow}"]
    # One log line per delivery, and none of Apprise's own.
    for run, told in ((first, [f"INFO alert published for {tomorrow}: delivered to {hook.url()}"]), (again, [])):
        after_charts = run.lines.index("INFO refreshed the charts and ticker files") + 1
        assert run.lines[after_charts:] == [*told, "INFO refreshed the alerts", "INFO SIGTERM: stopping", "INFO stopped"]
    assert query(config, "SELECT rule, date, last_date FROM alert_events") == [
        ("published", tomorrow.isoformat(), tomorrow.isoformat())]
