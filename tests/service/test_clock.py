"""The real `ticker run` process when its wall clock jumps (libfaketime, moved at run time through a
file, the monotonic clock left real) and when a server trickles as it is told to stop.

The daemon starts at NOW (support/pinned.py) and polls every minute, so that APScheduler has a dense
timetable to walk: 30 years ahead is 15.8 million missed polls.
"""

import glob
import os
import sqlite3
import time
from datetime import date, timedelta
from pathlib import Path

from support import write_config
from support.daemon import NEVER, REFRESHED, query, today
from support.nbrb_data import synthetic_server

from ticker import days
from ticker.service.daemon import STOP_GRACE

EVERY_MINUTE = '"* * * * *"'
THIRTY_YEARS = 10958  # days: 2026-03-17 + 10958 days = 2056-03-17


# Debian's libfaketime 0.9.10 with FAKETIME_DONT_FAKE_MONOTONIC fails every clock_nanosleep on the
# monotonic clock with EINVAL, so Python's time.sleep raises at once (subprocess.run's wait for the
# chart child meets it). In the processes under it, time.sleep waits on a lock instead: the same
# wait, on the real monotonic clock (sem_clockwait), which libfaketime leaves alone.
SLEEP = """import threading, time

def sleep(seconds):
    threading.Event().wait(seconds)

time.sleep = sleep
"""


class Clock:
    """The wall clock of a process under libfaketime: `set("+10958d")` moves it from then on."""

    def __init__(self, folder: Path):
        self.file = folder / "faketime.rc"
        self.set("+0")
        libraries = glob.glob("/usr/lib/*/faketime/libfaketime.so.1")
        if not libraries:
            raise RuntimeError("libfaketime is missing: install Debian's faketime (.ci/run does)")
        (folder / "site").mkdir()
        (folder / "site" / "sitecustomize.py").write_text(SLEEP)
        # Read again at most every second (FAKETIME_NO_CACHE would read the file at each clock call,
        # and the daemon's CPU time would be libfaketime's); the monotonic clock stays real.
        self.env = {"LD_PRELOAD": libraries[0], "FAKETIME_TIMESTAMP_FILE": str(self.file),
                    "FAKETIME_CACHE_DURATION": "1", "FAKETIME_DONT_FAKE_MONOTONIC": "1",
                    "PYTHONPATH": os.pathsep.join([str(folder / "site"), os.environ.get("PYTHONPATH", "")])}

    def set(self, offset: str) -> None:
        fresh = self.file.with_suffix(".new")
        fresh.write_text(offset + "\n")
        os.replace(fresh, self.file)  # never a half-written file for libfaketime to read


def clock_config(folder: Path, server, since: date, **nbrb) -> Path:
    return write_config(
        folder, server.url,
        nbrb={"base_url": f'"{server.url}"', "timeout": "1", "retries": "1", "backoff": "0.02", **nbrb},
        track={"currencies": '["USD", "EUR", "RUB"]', "since": since.isoformat()},
        schedule={"poll": EVERY_MINUTE, "catchup": NEVER, "retry": "600"},
        charts={"currencies": '["USD"]', "windows": "[7]"},
    )


def usage(pid: int) -> tuple[float, int]:
    """(CPU seconds used so far, resident memory in kB) of a process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime
    rss = next(int(line.split()[1]) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
               if line.startswith("VmRSS:"))
    return cpu, rss


def daemon_row(config: Path) -> dict:
    with sqlite3.connect(config.parent / "rates.sqlite") as conn:
        conn.row_factory = sqlite3.Row
        return dict(conn.execute("SELECT * FROM daemon").fetchone())


def wait_row(config: Path, ready, timeout: float, what: str) -> dict:
    """The daemon row, once `ready(row)`; AssertionError after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        row = daemon_row(config)
        if ready(row):
            return row
        assert time.monotonic() < deadline, f"{what} did not happen within {timeout} s: {row}"
        time.sleep(0.2)


def test_a_jump_of_30_years_ahead_costs_seconds_and_no_memory(tmp_path, launch):
    since = today() - timedelta(days=10)
    clock = Clock(tmp_path)
    with synthetic_server(since=since.isoformat(), until=today().isoformat()) as server:
        config = clock_config(tmp_path, server, since)
        run = launch(config, env=clock.env)
        assert run.wait_for(REFRESHED).startswith("INFO refreshed")
        cpu_before, rss_before = usage(run.proc.pid)
        clock.set(f"+{THIRTY_YEARS}d")
        jumped = run.wait_for(r"wall clock jumped", timeout=30)
        # The heartbeat and the polls go on, in 2056: the row is written from the new now.
        row = wait_row(config, lambda r: r["heartbeat_at"] >= "2056-03-17", 90, "a beat in 2056")
        cpu_after, rss_after = usage(run.proc.pid)
        assert run.proc.poll() is None
        assert run.stop(within=60) == 0
    assert jumped.startswith(f"WARNING the wall clock jumped ahead by {THIRTY_YEARS} days, ")
    assert "; every job is planned again from 2056-03-17T" in jumped
    assert row["next_poll"] > row["heartbeat_at"] and row["next_poll"] < "2056-03-18"
    # 15.8 million missed polls walked one by one would take minutes of CPU and hundreds of MB.
    assert cpu_after - cpu_before < 5, (cpu_before, cpu_after)
    assert rss_after - rss_before < 8 * 1024, (rss_before, rss_after)
    # APScheduler's word on the missed runs stays at DEBUG, out of this INFO log.
    assert not [line for line in run.lines if "missed" in line or "apscheduler" in line.lower()]
    print(f"30 years ahead: {cpu_after - cpu_before:.2f} s of CPU, RSS {rss_before / 1024:.1f} MB before,"
          f" {rss_after / 1024:.1f} MB after")


def test_a_step_back_of_3_hours_is_noticed_and_the_jobs_planned_again_within_a_minute(tmp_path, launch):
    since = today() - timedelta(days=10)
    clock = Clock(tmp_path)
    with synthetic_server(since=since.isoformat(), until=today().isoformat()) as server:
        config = clock_config(tmp_path, server, since)
        run = launch(config, env=clock.env)
        assert run.wait_for(REFRESHED).startswith("INFO refreshed")
        polled = wait_row(config, lambda r: (r["last_success"] or "").startswith("poll: "), 90, "a poll")
        clock.set("-3h")
        stepped = time.monotonic()
        line = run.wait_for(r"wall clock jumped", timeout=30)
        noticed = time.monotonic() - stepped
        # The next poll runs within a minute of the new now, not three hours later.
        again = wait_row(config, lambda r: r["last_success_at"] < polled["last_success_at"], 90, "a poll after it")
        assert run.stop(within=60) == 0
    assert line.startswith("WARNING the wall clock jumped back by 3:00:00; every job is planned again from ")
    assert noticed < 10, noticed
    assert again["last_success"] == "poll: nothing new yet"
    back = days.parse_stamp(polled["last_success_at"]) - days.parse_stamp(again["last_success_at"])
    assert timedelta(hours=2, minutes=57) < back < timedelta(hours=3), back
    assert days.parse_stamp(again["next_poll"]) - days.parse_stamp(again["heartbeat_at"]) <= timedelta(minutes=1)


def wait_for_trickle(server, run, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not [f for _, f in server.faults if f[0] == "trickle"]:
        assert time.monotonic() < deadline and run.proc.poll() is None, run.log
        time.sleep(0.05)


def test_sigterm_while_spans_trickle_stops_at_once_with_status_0_and_whole_batches(tmp_path, launch):
    since = date(2016, 7, 1)
    with synthetic_server(since=since.isoformat(), until=today().isoformat()) as server:
        # Two spans come back, then every one trickles: a byte each 0.5 s, for longer than the
        # attempt's own deadline (120 s here). The pool's workers are left to it: the catch-up ends.
        server.script("/exrates/rates/dynamics/", ("delay", 0), ("delay", 0), *[("trickle", 0.5)] * 50)
        config = clock_config(tmp_path, server, since, timeout="120")
        run = launch(config)
        wait_for_trickle(server, run)
        deadline = time.monotonic() + 30
        while query(config, "SELECT count(*) FROM rates") == [(0,)]:  # a span answered is stored
            assert time.monotonic() < deadline, run.log
            time.sleep(0.05)
        asked = time.monotonic()
        status = run.stop(within=STOP_GRACE + 30)
        took = time.monotonic() - asked
    assert status == 0 and took < 10, took
    assert run.lines[-1] == "INFO stopped"
    assert any(line.startswith("INFO catch-up interrupted: the daemon is stopping; it stored ") for line in run.lines)
    assert query(config, "PRAGMA integrity_check") == [("ok",)]
    assert query(config, "SELECT state FROM daemon") == [("stopped",)]
    # Whole spans only: each span answered is stored whole or (answered as the stop came) not at all,
    # and nothing else is.
    stored = set(query(config, "SELECT cur_id, date FROM rates"))
    answered = [{(int(path.rsplit("/", 1)[1]), day.isoformat()) for day in days.each_day(
        date.fromisoformat(q["startdate"]), date.fromisoformat(q["enddate"]))}
        for (path, q), fault in zip([r for r in server.requests if "/dynamics/" in r[0]],
                                    [f for p, f in server.faults if "/dynamics/" in p]) if fault[0] == "delay"]
    assert len(answered) == 2 and all(span <= stored or not span & stored for span in answered)
    assert stored and stored == set().union(*[span for span in answered if span <= stored])
    print(f"SIGTERM while spans trickle: exited 0 after {took:.1f} s")


def test_sigterm_while_the_job_itself_waits_on_a_trickle_stops_within_the_grace_with_status_0(tmp_path, launch):
    since = today() - timedelta(days=10)
    with synthetic_server(since=since.isoformat(), until=today().isoformat()) as server:
        # The catalogue, which the catch-up asks in its own thread, trickles past the 120 s deadline
        # of its attempt: only the stop's grace ends the job.
        server.script("/exrates/currencies", ("trickle", 0.5))
        config = clock_config(tmp_path, server, since, timeout="120")
        run = launch(config)
        wait_for_trickle(server, run)
        asked = time.monotonic()
        status = run.stop(within=STOP_GRACE + 30)
        took = time.monotonic() - asked
    assert status == 0
    assert STOP_GRACE - 1 < took < STOP_GRACE + 10, took  # systemd's TimeoutStopSec is 90 s
    assert run.lines[-1] == (f"WARNING stopped, abandoning catch-up after {STOP_GRACE} s: what it stored is kept,"
                             " the next start finishes it")
    assert query(config, "PRAGMA integrity_check") == [("ok",)]
    assert query(config, "SELECT state, job FROM daemon") == [("stopped", "catch-up")]
    assert query(config, "SELECT count(*) FROM rates") == [(0,)]
    print(f"SIGTERM while the job waits on a trickle: exited 0 after {took:.1f} s (STOP_GRACE {STOP_GRACE} s)")
