"""The real `ticker run` process against a real local NBRB fake: catch-up, signals, faults, kill -9, lock, readers.

The processes run with "now" pinned to NOW in Minsk (support/pinned.py), the fake serves
synthetic rates ending that day, and the schedule's own runs stay out of the way (January 1st,
03:00): the catch-up at start and its retries are what they exercise, whatever the machine's date.
"""

import json
import re
import signal
import sqlite3
import socket
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import pytest
from support import minsk
from support.daemon import ALERTED, COLUMNS, NEVER, NOW, PINNED, REFRESHED, TICKER, daemon_config, query, today
from support.nbrb_data import synthetic_server

from ticker import config as configuration
from ticker import days
from ticker.sync.official import Sync

def stored_rows(config: Path, at_least: int, timeout: float = 60) -> int:
    """Wait until the daemon has stored `at_least` rates; their number."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (config.parent / "rates.sqlite").exists():
            tables = query(config, "SELECT count(*) FROM sqlite_master WHERE name IN ('rates', 'daemon')")
            if tables == [(2,)]:
                (count,), = query(config, "SELECT count(*) FROM rates")
                if count >= at_least:
                    return count
        time.sleep(0.02)
    raise AssertionError(f"the daemon did not store {at_least} rates within {timeout} s")


def reference(tmp_path: Path, server, config: Path):
    """The rows one uninterrupted, fault-free catch-up stores: what every run must end with."""
    folder = tmp_path / "reference"
    folder.mkdir()
    (folder / "config.toml").write_text(config.read_text())  # its paths are relative to its folder
    with minsk(NOW.replace("T", " ")):
        sync = Sync(configuration.load(folder / "config.toml"))
        sync.backfill()
    rows = sync.store.db.execute(f"SELECT {COLUMNS} FROM rates ORDER BY code, date").fetchall()
    sync.store.close()
    return rows


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
    assert not [line for line in run.lines if "alerts" in line]  # none configured: nothing said of them
    assert re.match(rf"^INFO ticker \S+ started \(pid {run.proc.pid}\) on .*rates.sqlite: polls '0 3 1 1 \*'",
                    run.lines[0])
    assert query(config, "SELECT state, stopped_at IS NOT NULL FROM daemon") == [("stopped", 1)]


MIX = {"5xx": 0.15, "reset": 0.05, "truncate": 0.05, "html": 0.03, "empty": 0.05, ("delay", 1.2): 0.01}


def test_under_the_fault_mix_it_heals_itself_and_logs_retries_in_its_own_words(tmp_path, launch):
    since = today() - timedelta(days=3 * 365)
    with synthetic_server(since=since.isoformat(), until=today().isoformat()) as server:
        server.fault_mix(3, MIX)
        config = daemon_config(tmp_path, server, since, codes='["USD", "EUR", "RUB", "CNY", "PLN"]', timeout="0.5")
        run = launch(config, "--log-level", "debug")
        run.wait_for(r"^INFO catch-up: \d+ new, 0 revised, through 2026-03-17$", timeout=120)
        run.wait_for(REFRESHED)
        assert run.stop() == 0
        faults = len(server.faults)
        server.fault_mix(0, {})
        stored = query(config, f"SELECT {COLUMNS} FROM rates ORDER BY code, date")
        assert stored == reference(tmp_path, server, config)
    assert len(stored) == 5 * (3 * 365 + 1) and faults >= 5
    retries = [line for line in run.lines if line.startswith("DEBUG retry ")]
    assert len(retries) >= faults - 1  # the last fault may be one whose retry found the day unpublished
    assert all(re.match(rf"DEBUG retry \d of 2 in [\d.]+ s: {server.url}/exrates/\S+: \S", line) for line in retries)
    assert not [line for line in run.lines if "Retrying (" in line or "Traceback" in line or "urllib3" in line]


def test_sigterm_mid_backfill_stops_between_batches_and_the_next_start_finishes(tmp_path, launch):
    since = today() - timedelta(days=3 * 365)
    with synthetic_server(since=since.isoformat(), until=today().isoformat()) as server:
        server.script("/exrates/rates/dynamics/", *[("delay", 0.3)] * 6)
        config = daemon_config(tmp_path, server, since)
        run = launch(config)
        stored_rows(config, 1)
        assert run.stop() == 0
        line = run.wait_for(r"^INFO catch-up interrupted: the daemon is stopping; it stored \d+ rates$")
        assert query(config, "SELECT count(*) FROM rates") == [(int(line.split()[-2]),)]  # what it stored, said
        # Whole batches only: each span asked is stored whole or not at all, and nothing else is.
        stored = set(query(config, "SELECT cur_id, date FROM rates"))
        spans = [{(int(path.rsplit("/", 1)[1]), day.isoformat()) for day in days.each_day(
            date.fromisoformat(q["startdate"]), date.fromisoformat(q["enddate"]))}
            for path, q in server.requests if "/dynamics/" in path]
        whole = [span for span in spans if span <= stored]
        assert whole and all(span <= stored or not span & stored for span in spans)
        assert stored == set().union(*whole)
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
        # A crontab only the scheduler can refuse (the read commands check its form alone).
        config.write_text(good.replace(f"poll = {NEVER}", 'poll = "61 * * * *"'))
        first.proc.send_signal(signal.SIGHUP)
        line = first.wait_for(r"SIGHUP")
        assert line == (f"ERROR SIGHUP: kept the running configuration: Bad configuration: {config}: "
                        "[schedule] poll: '61 * * * *': Error validating expression '61': the last value (61) is higher than the"
                        " maximum value (59)")
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


def test_fetch_beside_the_daemon_never_collides(tmp_path, launch):
    since = date(2016, 7, 1)
    with synthetic_server(since=since.isoformat(), until=today().isoformat()) as server:
        config = daemon_config(tmp_path, server, since)
        run = launch(config)
        stored_rows(config, 1)
        fetches = [subprocess.Popen([*PINNED, "--config", str(config), "fetch"], stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, text=True) for _ in range(3)]
        results = [(p.wait(timeout=60), p.stdout.read(), p.stderr.read()) for p in fetches]
        run.wait_for(r"^INFO catch-up: \d+ new")
        run.wait_for(REFRESHED)
        assert run.stop() == 0
        stored = query(config, f"SELECT {COLUMNS} FROM rates ORDER BY code, date")
        assert stored == reference(tmp_path, server, config)
    assert [(code, err) for code, _, err in results] == [(0, "")] * 3
    # Each day's rates were stored once, by one of the writers; nobody revised anything.
    assert sorted(out for _, out, _ in results).count("2026-03-17  nothing new\n") >= 2
    assert query(config, "SELECT count(*) FROM revisions") == [(0,)]
    assert query(config, "SELECT count(*) FROM fetches WHERE status <> 'ok'") == [(0,)]


def test_an_alert_is_delivered_once_by_the_daemon_whatever_restarts_follow(tmp_path, launch):
    from support.endpoints import Webhook

    since, tomorrow = today() - timedelta(days=10), today() + timedelta(days=1)
    with synthetic_server(since=since.isoformat(), until=tomorrow.isoformat()) as server, Webhook() as hook:
        config = daemon_config(tmp_path, server, since)
        config.write_text(config.read_text() + f'[[alerts]]\npublished = true\nnotify = ["{hook.url()}"]\n')
        first = launch(config)
        assert first.wait_for(r"alert published") == f"INFO alert published for {tomorrow}: delivered to {hook.url()}"
        first.wait_for(ALERTED)
        assert first.stop() == 0
        again = launch(config)
        again.wait_for(ALERTED)
        assert again.stop() == 0
    assert [m["title"] for m in hook.received] == [f"NBRB rates for tomorrow, {tomorrow:%A} {tomorrow}"]
    # One log line per delivery, and none of Apprise's own.
    for run, told in ((first, [f"INFO alert published for {tomorrow}: delivered to {hook.url()}"]), (again, [])):
        after_charts = run.lines.index("INFO refreshed the charts and ticker files") + 1
        assert run.lines[after_charts:] == [*told, "INFO refreshed the alerts", "INFO SIGTERM: stopping", "INFO stopped"]
    assert query(config, "SELECT rule, date, last_date FROM alert_events") == [
        ("published", tomorrow.isoformat(), tomorrow.isoformat())]


def test_backup_beside_the_daemon_and_a_reader_holding_a_transaction_has_every_row(tmp_path, launch):
    from click.testing import CliRunner

    from ticker.cli import cli

    since = date(2016, 7, 1)
    with synthetic_server(since=since.isoformat(), until=today().isoformat()) as server:
        server.script("/exrates/rates/dynamics/", *[("delay", 0.2)] * 24)  # writes for a second or more
        config = daemon_config(tmp_path, server, since)
        run = launch(config)
        stored_rows(config, 1)
        # A reader's open transaction: its snapshot holds every checkpoint back, so the bare file
        # lags behind what the -wal holds for as long as it stays open.
        reader = sqlite3.connect(tmp_path / "rates.sqlite")
        reader.execute("BEGIN")
        (held,) = reader.execute("SELECT count(*) FROM rates").fetchone()

        def backup(name):
            result = CliRunner().invoke(cli, ["--config", str(config), "backup", str(tmp_path / name)],
                                        catch_exceptions=False)
            assert result.exit_code == 0, result.output
            with sqlite3.connect(tmp_path / name) as copy:
                assert copy.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
                rows = copy.execute(f"SELECT {COLUMNS} FROM rates ORDER BY code, date").fetchall()
            assert re.fullmatch(rf"{tmp_path / name}: {len(rows)} rates, [\d.]+ [kM]B, integrity_check ok\n",
                                result.output)
            return rows

        during = backup("during.sqlite")  # while the daemon writes
        run.wait_for(r"^INFO catch-up: \d+ new")
        run.wait_for(REFRESHED)
        assert reader.execute("SELECT count(*) FROM rates").fetchone() == (held,)  # still held
        after = backup("after.sqlite")
        reader.rollback()
        reader.close()
        assert run.stop() == 0
        expected = reference(tmp_path, server, config)
    assert after == expected and len(expected) == 3 * ((today() - since).days + 1)
    # Mid-catch-up, one consistent moment: newer than the reader's, older than the end, every value exact.
    assert held <= len(during) < len(after) and set(during) <= set(expected)
    assert query(config, "PRAGMA integrity_check") == [("ok",)]


# -- the -wal: bounded, cut back after a catch-up, folded in at a clean stop ----------------------------


def wal_size(config: Path) -> int:
    wal = config.parent / "rates.sqlite-wal"
    return wal.stat().st_size if wal.exists() else 0


def test_the_wal_is_cut_back_after_a_catch_up_when_no_reader_holds_it(tmp_path, launch):
    since = date(2016, 7, 1)
    with synthetic_server(since=since.isoformat(), until=today().isoformat()) as server:
        config = daemon_config(tmp_path, server, since, codes='["USD", "EUR", "RUB", "CNY", "PLN"]')
        run = launch(config)
        peak, deadline = 0, time.monotonic() + 120
        while not any(line.startswith("INFO catch-up: ") and " new, " in line for line in run.lines):
            assert time.monotonic() < deadline and run.proc.poll() is None, run.log
            peak = max(peak, wal_size(config))
            time.sleep(0.01)
        run.wait_for(REFRESHED)
        after = wal_size(config)
        assert run.stop() == 0
    # Ten years of five currencies went through it; what is left is the few writes since (the daemon row).
    assert peak > 2**20 and after < 64 * 1024, (peak, after)
    print(f"the -wal: {peak / 2**20:.1f} MB at its peak during the catch-up, {after / 1024:.0f} kB after it")


READ_HOLDER = """
import sqlite3, sys
conn = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)  # as `ticker`'s readers and Datasette open it
conn.execute("BEGIN")
print(conn.execute("SELECT count(*) FROM rates").fetchone()[0], flush=True)
sys.stdin.readline()
conn.close()
"""


def test_a_clean_stop_while_a_reader_holds_the_database_says_so_and_the_command_it_gives_is_safe(tmp_path, launch):
    from ticker.store import access

    since = today() - timedelta(days=40)
    database = tmp_path / "rates.sqlite"
    with synthetic_server(since=since.isoformat(), until=today().isoformat()) as server:
        config = daemon_config(tmp_path, server, since)
        run = launch(config)
        run.wait_for(REFRESHED)
        holder = subprocess.Popen([sys.executable, "-c", READ_HOLDER, str(database)], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True)
        try:
            assert holder.stdout.readline() == f"{41 * 3}\n"
            assert run.stop(within=60) == 0
        finally:
            holder.communicate("done\n", timeout=30)
    [said] = [line for line in run.lines if "a reader holds" in line]
    assert said.startswith(f"WARNING stopping: a reader holds {database}, so its -wal still holds changes")
    assert run.lines[-1] == "INFO stopped"
    # What it says is true: the -wal holds the stop, which a read-only reader cannot fold in.
    assert not access.immutable_safe(database)
    immutable = sqlite3.connect(f"file:{database}?immutable=1", uri=True)
    assert immutable.execute("SELECT state FROM daemon").fetchone() == ("running",)  # the bare file misses it
    immutable.close()
    # The command it gives folds it in: then the bare file, and immutable=1, read the whole of it.
    command = re.search(r"`(sqlite3 [^`]+)`", said)[1]
    subprocess.run(command, shell=True, check=True, timeout=30)
    assert access.immutable_safe(database)
    immutable = sqlite3.connect(f"file:{database}?immutable=1", uri=True)
    assert immutable.execute("SELECT state FROM daemon").fetchone() == ("stopped",)
    assert immutable.execute("SELECT count(*) FROM rates").fetchone() == (41 * 3,)
    immutable.close()


# APScheduler's own words, as it logs them at INFO (and WARNING for a missed run).
APSCHEDULER = re.compile(r"Scheduler started|Added job|Running job|executed successfully|Removed job|"
                         r"Scheduler has been shut down|was missed by|job store")


@pytest.mark.parametrize("level", ["info", "debug"])
def test_apschedulers_own_words_are_only_debug_lines(tmp_path, launch, level):
    since = today() - timedelta(days=5)
    with synthetic_server(since=since.isoformat(), until=today().isoformat()) as server:
        config = daemon_config(tmp_path, server, since)
        run = launch(config, "--log-level", level)
        run.wait_for(REFRESHED)
        assert run.stop() == 0
    theirs = [line for line in run.lines if APSCHEDULER.search(line)]
    if level == "info":
        assert theirs == [] and not [line for line in run.lines if line.startswith("DEBUG")]
    else:
        assert {"Scheduler started", "Added job", "Running job", "executed successfully"} <= {
            APSCHEDULER.search(line)[0] for line in theirs}
        assert all(line.startswith("DEBUG ") for line in theirs), theirs
