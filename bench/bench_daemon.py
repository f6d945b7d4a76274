"""The daemon's footprint: resident memory of `ticker run`, its growth over 10,000 job runs, and the
requests an idle poll costs.

Memory is read from /proc/PID/status (VmRSS). The growth is measured in a child process that drives
the daemon's jobs in a loop with the clock pinned (poll, heartbeat, catch-up, as the scheduler
would call them), so 10,000 runs take a minute instead of months.
"""

import json
import signal
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

import common
from support.nbrb_data import synthetic_server

RUNS = 10_000
LIMIT_MB = 60
STARTS = 5  # real daemons started, for the budget's spread


def rss_mb(pid="self") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def pinned_day():
    """A Tuesday, 13:30 in Minsk: inside the poll window, the next day not yet published."""
    from ticker.days import minsk

    return datetime(2026, 3, 17, 13, 30, tzinfo=minsk())


def config_file(folder: Path, url: str, since) -> Path:
    """Three currencies, two months; written here so the measured child never imports pytest."""
    path = folder / "config.toml"
    path.write_text(f"""[database]
path = "rates.sqlite"

[nbrb]
base_url = "{url}"
timeout = 5
retries = 1
backoff = 0.05

[track]
currencies = ["USD", "EUR", "RUB"]
since = {since.isoformat()}

[charts]
currencies = ["USD"]
windows = [7]
""", encoding="utf-8")
    return path


def refreshed(last_hook: int = 0) -> str:
    """The log line that ends a start-up whose last hook to run is HOOKS[last_hook] (as the tests wait)."""
    from ticker.service.hooks import HOOKS

    return f"refreshed {HOOKS[last_hook][0]}"


def daemon_rss(config: Path, after: str = "", deadline: float = 300) -> float:
    """RSS of a real `ticker run` once its start-up catch-up is done and it has logged `after`
    (by default, the first hook's line); a daemon that exits, or has not logged it within
    `deadline` seconds (it is then killed), fails the bench."""
    after = after or refreshed()
    ticker = Path(sys.executable).with_name("ticker")
    proc = subprocess.Popen([str(ticker), "--config", str(config), "run"], stderr=subprocess.PIPE, text=True)
    watchdog = threading.Timer(deadline, proc.kill)  # ends the read below if `after` never comes
    watchdog.start()
    try:
        if not any(after in line for line in proc.stderr):
            raise RuntimeError(f"`ticker run` stopped, or ran {deadline:g} s, without logging {after!r}")
        time.sleep(0.5)
        return rss_mb(proc.pid)
    finally:
        watchdog.cancel()
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=60)


def bare_rss() -> float:
    out = subprocess.run([sys.executable, "-c", "print(open('/proc/self/status').read())"],
                         capture_output=True, text=True, check=True).stdout
    return next(int(line.split()[1]) / 1024 for line in out.splitlines() if line.startswith("VmRSS:"))


def drive(url: str, folder: str, since: str) -> None:
    """Child: start-up as `ticker run` does, then RUNS job runs with the clock pinned; prints RSS."""
    from datetime import date

    import time_machine

    from ticker import config as configuration
    from ticker.service.daemon import Daemon
    from ticker.store.writer import Store

    config = configuration.load(config_file(Path(folder), url, date.fromisoformat(since)))
    with time_machine.travel(pinned_day(), tick=False):
        Store(config.database.path).close()
        daemon = Daemon(config, hooks=[])  # charts are drawn in a child process anyway
        daemon.started()
        daemon.catchup()
        assert daemon.last_error is None, daemon.last_error
        figures = {"start": rss_mb()}
        jobs = [daemon.poll, daemon.beat, daemon.poll, daemon.beat, daemon.poll,
                daemon.beat, daemon.poll, daemon.beat, daemon.poll, daemon.catchup]
        for n in range(RUNS):
            jobs[n % len(jobs)]()
            if n + 1 == RUNS // 10:
                figures["warm"] = rss_mb()
        assert daemon.last_error is None, daemon.last_error
        figures["end"] = rss_mb()
    print(json.dumps(figures))


def requests_per_idle_poll(folder: Path, server, since, polls: int = 100) -> float:
    import time_machine

    from ticker import config as configuration
    from ticker.service.daemon import Daemon
    from ticker.store.writer import Store

    config = configuration.load(config_file(folder, server.url, since))
    with time_machine.travel(pinned_day(), tick=False):
        Store(config.database.path).close()
        daemon = Daemon(config, hooks=[])
        daemon.started()
        daemon.catchup()
        server.reset_log()
        for _ in range(polls):
            daemon.poll()
    assert daemon.last_error is None, daemon.last_error
    return len(server.requests) / polls


def run() -> list[common.Row]:
    today = pinned_day().date()
    since = today - timedelta(days=60)
    rows = []
    # Memory, not the disk, is measured: on tmpfs the loop is not bound by fsync.
    shm = "/dev/shm" if Path("/dev/shm").is_dir() else None
    with tempfile.TemporaryDirectory(dir=shm) as tmp, \
            synthetic_server(codes=30, since=since.isoformat(), until=today.isoformat()) as pinned:
        tmp = Path(tmp)
        for name in ("drive", "poll"):
            (tmp / name).mkdir()
        per_poll = requests_per_idle_poll(tmp / "poll", pinned, since)
        out = subprocess.run([sys.executable, __file__, "--drive", pinned.url, str(tmp / "drive"), since.isoformat()],
                             capture_output=True, text=True, check=True).stdout
        driven = json.loads(out)
        # The real daemon follows the real clock: its data end today.
        real_today = datetime.now(pinned_day().tzinfo).date()
        with synthetic_server(codes=30, since=(real_today - timedelta(days=60)).isoformat(),
                              until=real_today.isoformat()) as server:
            started = []
            for n in range(STARTS):  # each a new database: the start-up's catch-up fills it
                (tmp / f"real-{n}").mkdir()
                started.append(daemon_rss(config_file(tmp / f"real-{n}", server.url, real_today - timedelta(days=60))))
    rows.append(common.budget_row("daemon RSS after start-up (ticker run)", started, LIMIT_MB, "MB",
                                  beside=("bare python process", bare_rss())))
    # The driving child also holds time_machine (about 20 MB): it shows growth, not the size.
    rows.append(common.ratio_row(f"daemon RSS after {RUNS:,} job runs", driven["end"], "the same after start-up",
                                 driven["start"], "MB", at_most=1.1))
    rows.append(common.ratio_row(f"daemon RSS after {RUNS:,} job runs, past warm-up", driven["end"],
                                 f"the same after {RUNS // 10:,} runs", driven["warm"], "MB", at_most=1.05))
    rows.append(common.ratio_row("requests per idle poll", per_poll, "the minimum: one", 1, "req", at_most=1))
    return rows


if __name__ == "__main__":
    if sys.argv[1:2] == ["--drive"]:
        drive(*sys.argv[2:5])
    else:
        for row in run():
            print(row)
