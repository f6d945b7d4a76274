"""Conversions and exports: cold `ticker convert` against the click floor and the currencyconverter
package, and the full-history CSV export against a bare sqlite3 + csv dump of the same query."""

import csv
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from common import FLOOR_COMMAND, backfilled, cold_row, interleaved_medians, ratio_row

from ticker import days, files
from ticker.outputs import export
from ticker.store import reader as query

SINCE = date(2016, 7, 1)
COLD_RUNS = 21


def _database(folder: Path) -> tuple[Path, date]:
    """30 currencies, every day since 2016-07-01, through the real backfill from the synthetic fake."""
    until = days.today()
    return backfilled(folder, SINCE, until), until


def _ours(db: Path, target: Path) -> None:
    """What `ticker export --output FILE` does: stream through an atomically replaced file."""
    conn = query.connect(db)
    with files.replacing(target, "w", encoding="utf-8", newline="") as out:
        export.export(conn, out, "csv")
    conn.close()


def _bare(db: Path, target: Path) -> None:
    """The same query and columns straight from sqlite3 into the csv module."""
    conn = sqlite3.connect(db)
    with open(target, "w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(query.HISTORY.split(", "))
        writer.writerows(conn.execute(f"SELECT {query.HISTORY} FROM rates WHERE date BETWEEN ? AND ?"
                                      " ORDER BY date, code", [date.min.isoformat(), date.max.isoformat()]))
    conn.close()


def _export_seconds(db: Path, folder: Path, runs: int = 7) -> dict[str, float]:
    """Median seconds of each dump, interleaved so machine noise hits both alike."""
    times = {"ours": [], "bare": []}
    for _ in range(runs):
        for name, dump in (("ours", _ours), ("bare", _bare)):
            started = time.perf_counter()
            dump(db, folder / f"{name}.csv")
            times[name].append(time.perf_counter() - started)
    return {name: statistics.median(values) for name, values in times.items()}


def run():
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        db, until = _database(folder)
        rows = sqlite3.connect(db).execute("SELECT count(*) FROM rates").fetchone()[0]
        ticker = str(Path(sys.executable).with_name("ticker"))
        cold = interleaved_medians({
            "floor": FLOOR_COMMAND,
            "convert": [ticker, "--db", str(db), "convert", "100", "USD", "EUR", "--date", until.isoformat()],
            "currencyconverter": [sys.executable, "-c", "from currency_converter import CurrencyConverter; "
                                  "print(CurrencyConverter().convert(100, 'USD', 'EUR'))"],
        }, runs=COLD_RUNS, cwd=folder)
        dumps = _export_seconds(db, folder)
    ms = {name: seconds * 1000 for name, seconds in cold.items()}
    return [
        cold_row("ticker convert", ms["convert"], ms["floor"], COLD_RUNS),
        ratio_row("cold `ticker convert` vs currencyconverter", ms["convert"], "cold CurrencyConverter() + 1",
                  ms["currencyconverter"], "ms", at_most=1),
        ratio_row(f"export CSV, full history ({rows} rows)", rows / dumps["ours"], "bare sqlite3 + csv dump",
                  rows / dumps["bare"], "rows/s", at_least=0.5),
    ]
