"""The daemon's catch-up under a hostile network: 30 currencies since 2016-07-01 against the local
fake with issue 8's fault mix (15% 5xx, 5% connection resets, 5% truncated JSON, 3% a proxy's HTML
page with status 200, 5% an empty list for days already published) plus 1% answers that stall
past the timeout, beside the same catch-up without faults, in the same run.

Both run the daemon's catch-up job (`Daemon.catchup`, as `ticker run` calls it) with the clock
pinned to a Tuesday morning in Minsk and 4 retries. The fake answers a 365-day span in 4-9 ms,
about 50 times faster than NBRB over the internet, so the timeout and the backoff are the
defaults (15 s, 0.5 s) scaled by the same 1/50: 0.3 s and 0.01 s (the first retry is immediate,
the second waits 0.02 s, doubling). Every row must be exact. The catch-up asks for `sync.WORKERS`
spans at once, so the waits of one overlap the answers of the others.

Asking several at once costs the fault-free catch-up something here that it does not cost against
NBRB: the fake answers from threads of this very process, so its work and ticker's take turns on
one interpreter lock, and it answers at once, where NBRB's answers spend most of their 0.2-0.5 s
on the way. So the fault-free catch-up is also measured one span at a time (WORKERS = 1) beside
WORKERS at once: as is, against the fake in a process of its own (as NBRB is), and with every
answer LATE seconds late (NBRB's time on the way, scaled by the same 1/50).

Issue 18's case: the same fault mix with every answer LINK seconds late, as over a real link (a
fault's answer too), beside the same catch-up with the same lateness and no faults. Timeout and
backoff stay as above, so the two differ by the faults alone: a request waiting for its backoff
must give its worker to the next one, or the sleeps add up behind the lateness.
"""

import functools
import logging
import sqlite3
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import common
from support.nbrb_data import synthetic_server

SINCE, UNTIL = "2016-07-01", "2026-03-17"
MIX = {"5xx": 0.15, "reset": 0.05, "truncate": 0.05, "html": 0.03, "empty": 0.05, ("delay", 0.5): 0.01}
SEED = 8
LATE = 0.006  # seconds each answer waits in the latency runs
LINK = 0.05  # seconds each answer waits in issue 18's fault-mix case
COLUMNS = "code, date, scale, rate_text, unit, cur_id"
SERVE = """import sys
sys.path.insert(0, sys.argv[1])
from support.nbrb_data import synthetic_server
server = synthetic_server(codes=30, since=sys.argv[2], until=sys.argv[3]).start()
print(server.url, flush=True)
sys.stdin.read()  # until the bench closes it
"""


@contextmanager
def workers(n: int):
    """The sync's pool asks `n` requests at once for a while: 1 asks one span at a time."""
    from ticker.sync import official, pool

    saved, official.Pool = official.Pool, functools.partial(pool.Pool, workers=n)
    try:
        yield
    finally:
        official.Pool = saved


@contextmanager
def late(server, seconds: float):
    """Every answer of `server` `seconds` late for a while, whatever fault is drawn for it (the
    fake's own ("delay", s) is one fault among the others of a mix, so it cannot delay them)."""
    received = server._received

    def delayed(path, query):
        time.sleep(seconds)
        return received(path, query)

    server._received = delayed
    try:
        yield
    finally:
        del server._received


def catch_up(folder: Path, server, codes: list[str]) -> tuple[float, int, list]:
    """(wall seconds, requests, rows) of one catch-up into a new database, run until it succeeds."""
    import requests  # noqa: F401  imported before the clock starts: the first run would pay for it alone
    import time_machine

    from ticker import config as configuration
    from ticker.days import minsk
    from ticker.service.daemon import Daemon
    from ticker.store.writer import Store

    path = folder / "config.toml"
    path.write_text(f"""[database]
path = "rates.sqlite"
[nbrb]
base_url = "{server.url}"
timeout = 0.3
retries = 4
backoff = 0.01
[track]
currencies = {codes!r}
since = {SINCE}
[schedule]
retry = 0.01
""".replace("'", '"'), encoding="utf-8")
    config = configuration.load(path)
    server.reset_log()
    with time_machine.travel(datetime(2026, 3, 17, 10, 0, tzinfo=minsk()), tick=True):
        started = time.perf_counter()
        Store(config.database.path).close()
        daemon = Daemon(config, hooks=[])
        daemon.started()
        daemon.catchup()
        runs = 1
        while daemon.retry_at is not None:  # what the main thread would do, without waiting
            daemon.retry_at = None
            daemon.catchup()
            runs += 1
        seconds = time.perf_counter() - started
    with sqlite3.connect(config.database.path) as conn:
        rows = conn.execute(f"SELECT {COLUMNS} FROM rates ORDER BY code, date").fetchall()
    print(f"  catch-up in {runs} run(s), {seconds:.1f} s, {len(server.requests)} requests, {len(rows)} rows",
          flush=True)
    return seconds, len(server.requests), rows


def backfill(folder: Path, url: str, codes: list[str]) -> float:
    """Wall seconds of the fault-free backfill of the daily list into a new database."""
    import time_machine
    from support import write_config

    from ticker import config as configuration
    from ticker.days import minsk
    from ticker.sync.official import Sync

    folder.mkdir(parents=True)
    config = configuration.load(write_config(folder, url, track={"currencies": str(codes).replace("'", '"'),
                                                                  "since": SINCE}))
    with time_machine.travel(datetime(2026, 3, 17, 10, 0, tzinfo=minsk()), tick=True):
        sync = Sync(config)
        sync.catalogue()
        started = time.perf_counter()
        sync.backfill(until=datetime.fromisoformat(UNTIL).date())
        seconds = time.perf_counter() - started
    sync.store.close()
    return seconds


def elsewhere(folder: Path, codes: list[str]) -> tuple[float, float]:
    """(best of three, one span at a time; best of three, WORKERS at once), interleaved, against
    the fake in a process of its own."""
    from ticker.sync.pool import WORKERS

    child = subprocess.Popen([sys.executable, "-c", SERVE, str(common.ROOT / "tests"), SINCE, UNTIL],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        url = child.stdout.readline().strip()
        times = {1: [], WORKERS: []}
        for n in range(3):
            for at_once in times:
                with workers(at_once):
                    times[at_once].append(backfill(folder / f"{at_once}-{n}", url, codes))
    finally:
        child.stdin.close()
        child.wait(timeout=30)
    print(f"  fake in its own process: one at a time {times[1]}, {WORKERS} at once {times[WORKERS]}", flush=True)
    return min(times[1]), min(times[WORKERS])


def run() -> list[common.Row]:
    from ticker.sync.pool import WORKERS

    logging.getLogger("ticker").setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory() as tmp, synthetic_server(codes=30, since=SINCE, until=UNTIL) as server:
        tmp = Path(tmp)
        codes = sorted({r["Cur_Abbreviation"] for r in server.catalogue if r["Cur_Periodicity"] == 0
                        and r["Cur_DateEnd"][:10] >= UNTIL and r["Cur_DateStart"][:10] <= UNTIL})
        for name in ("clean", "faults", "one", "late", "late-one", "link", "link-faults"):
            (tmp / name).mkdir()
        clean_seconds, clean_requests, clean_rows = catch_up(tmp / "clean", server, codes)
        with workers(1):
            one_seconds, _, _ = catch_up(tmp / "one", server, codes)
        with late(server, LATE):
            late_seconds, _, _ = catch_up(tmp / "late", server, codes)
            with workers(1):
                late_one_seconds, _, _ = catch_up(tmp / "late-one", server, codes)
        with late(server, LINK):
            link_seconds, link_requests, link_rows = catch_up(tmp / "link", server, codes)
            server.fault_mix(SEED, MIX)
            before = len(server.faults)
            link_faults_seconds, link_faults_requests, link_faults_rows = catch_up(tmp / "link-faults", server, codes)
            link_faults = len(server.faults) - before
        before = len(server.faults)
        seconds, requests, rows = catch_up(tmp / "faults", server, codes)
        faults = len(server.faults) - before
        server.fault_mix(0, {})
        apart_one, apart = elsewhere(tmp / "apart", codes)
    exact = rows == clean_rows == link_rows == link_faults_rows
    print(f"  {faults} and {link_faults} faults served; rows exact: {exact}", flush=True)
    link = f"answers {LINK * 1000:g} ms late"
    return [
        common.ratio_row(f"fault-mix catch-up, {len(clean_rows):,} rows", seconds,
                         "the same without faults", clean_seconds, "s", at_most=2),
        common.ratio_row(f"fault-mix catch-up requests ({faults} faults)", requests,
                         "the same without faults", clean_requests, "req", at_most=1.6),
        common.ratio_row(f"fault-mix catch-up, {link}", link_faults_seconds,
                         f"the same without faults, {link}", link_seconds, "s", at_most=2),
        common.ratio_row(f"fault-mix catch-up requests, {link} ({link_faults} faults)", link_faults_requests,
                         f"the same without faults, {link}", link_requests, "req", at_most=1.6),
        common.Row("fault-mix catch-ups: rows exact", float(exact), "the fault-free rows", 1.0, "", "all exact",
                   exact),
        common.Row(f"fault-free catch-up, {WORKERS} spans at once", clean_seconds,
                   "the same, one span at a time", one_seconds, "s", "reference", True),
        common.Row(f"fault-free backfill, fake in its own process, {WORKERS} at once", apart,
                   "the same, one span at a time", apart_one, "s", "reference", True),
        common.ratio_row(f"fault-free catch-up, answers {LATE * 1000:g} ms late, {WORKERS} at once", late_seconds,
                         "the same, one span at a time", late_one_seconds, "s", at_most=1),
    ]

if __name__ == "__main__":
    for row in run():
        print(row)
