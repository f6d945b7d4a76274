"""Core benchmarks: cold start of read commands, backfill ingest rate, and request count."""

import math
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from common import (
    FLOOR_COMMAND,
    ROOT,
    Row,
    budget_row,
    cold_row,
    interleaved_medians,
    ratio_row,
)

from ticker import config as configuration
from ticker import days
from ticker.sources.nbrb import NBRB
from ticker.store.writer import Store
from ticker.sync.official import Sync

SINCE = date(2016, 7, 1)
COLD_RUNS = 21
INGEST_RUNS = 7


def _backfill(folder: Path):
    """Backfill 30 currencies since 2016-07-01 from a local fake, keeping each batch the store was given."""
    from support.nbrb_data import synthetic_server

    until = days.today()
    batches = []
    real_write = Store.write

    def write(store, rates, attempt):
        batches.append(rates)
        return real_write(store, rates, attempt)

    config_file = folder / "config.toml"
    with synthetic_server(codes=30, since=SINCE.isoformat(), until=until.isoformat()) as server:
        quoted = sorted({r["Cur_Abbreviation"] for r in server.catalogue if r["Cur_Periodicity"] == 0
                         and r["Cur_DateEnd"][:10] >= until.isoformat()})
        config_file.write_text(
            f'[database]\npath = "rates.sqlite"\n[nbrb]\nbase_url = "{server.url}"\n'
            f'[track]\ncurrencies = {quoted!r}\nsince = {SINCE}\n'.replace("'", '"')
        )
        config = configuration.load(config_file)
        sync = Sync(config)
        Store.write = write
        try:
            sync.backfill(until=until)
        finally:
            Store.write = real_write
        requests = len(server.requests)
        records = sync.catalogue()
    codes = sync.tracked(records, SINCE, until)
    minimum = 1 + sum(math.ceil(((last - first).days + 1) / NBRB.max_span)
                      for code in codes for _, first, last in NBRB.periods(NBRB, records, code, SINCE, until))
    return config_file, batches, requests, minimum, len(codes)


def _ingest(path: Path, batches) -> float:
    """Seconds the store takes to write the backfill's batches into a new database, one after the other.

    Timed apart from the backfill itself, whose spans arrive from worker threads: there the
    writer shares the interpreter with them, and its wall time would count their parsing too.
    """
    store = Store(path)
    seconds = 0.0
    with store.attempt("backfill", "bench") as attempt:
        for rates in batches:
            started = time.perf_counter()
            store.write(rates, attempt)
            seconds += time.perf_counter() - started
    store.close()
    return seconds


def _raw_executemany(path: Path, batches) -> float:
    """The same rows through bare sqlite3.executemany into the same table, one transaction a batch."""
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")  # as ticker.store.schema sets it
    from ticker.store.schema import SCHEMA_1

    conn.execute(SCHEMA_1[0])
    rows = [[(r.code, r.date.isoformat(), r.scale, float(r.rate), format(r.rate, "f"), r.unit, r.cur_id, "now")
             for r in batch] for batch in batches]
    started = time.perf_counter()
    for batch in rows:
        with conn:
            conn.executemany("INSERT INTO rates VALUES (?, ?, ?, ?, ?, ?, ?, ?)", batch)
    return time.perf_counter() - started


def run():
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        config_file, batches, requests, minimum, currencies = _backfill(folder)
        rows = sum(len(batch) for batch in batches)
        # Interleaved, each into a new file: the budget takes its median and spread.
        speeds = {"ours": [], "raw": []}
        for n in range(INGEST_RUNS):
            speeds["ours"].append(rows / _ingest(folder / f"ingest-{n}.sqlite", batches))
            speeds["raw"].append(rows / _raw_executemany(folder / f"raw-{n}.sqlite", batches))
        ticker = str(Path(sys.executable).with_name("ticker"))
        today = days.today().isoformat()
        cold = interleaved_medians({
            "baseline": [sys.executable, "-c", "import sqlite3"],
            "click": FLOOR_COMMAND,
            "rate": [ticker, "--config", str(config_file), "rate", "USD", "--date", today],
            "line": [ticker, "--config", str(config_file), "line", "--date", today],
        }, runs=COLD_RUNS, cwd=ROOT)
    ours, raw = statistics.median(speeds["ours"]), statistics.median(speeds["raw"])
    return [
        # No target: what the floor itself costs over the bare interpreter and sqlite3.
        Row(f"cold `import click, sqlite3` (floor, median of {COLD_RUNS})", cold["click"] * 1000,
            "python -c 'import sqlite3'", cold["baseline"] * 1000, "ms", "reference", True),
        cold_row("ticker rate", cold["rate"] * 1000, cold["click"] * 1000, COLD_RUNS),
        cold_row("ticker line", cold["line"] * 1000, cold["click"] * 1000, COLD_RUNS),
        ratio_row(f"backfill ingest, {currencies} currencies, {rows} rows", ours,
                  "raw sqlite3.executemany", raw, "rows/s", at_least=0.5),
        budget_row("backfill ingest", speeds["ours"], 50_000, "rows/s", at_least=True),
        ratio_row("backfill requests", requests, "1 per 365 days per Cur_ID + catalogue", minimum, "req",
                  at_most=1.1),
    ]
