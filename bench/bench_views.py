"""The documented views on ten years of 30 currencies: each against a plain indexed SELECT of the
same rows from `rates`, in the same run on the same connection. Target: every view <= 10 ms, the
median of 101 runs (its spread beside it)."""

import sqlite3
import statistics
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from common import Row, backfilled, budget_row

from ticker import days
from ticker.store.schema import SCHEMA_1

SINCE = date(2016, 7, 1)
TARGET_MS = 10
RUNS = 101


def _database(folder: Path) -> tuple[Path, date]:
    """30 currencies, every day since 2016-07-01 through tomorrow (published ahead), backfilled."""
    today = days.today()
    return backfilled(folder, SINCE, today + timedelta(days=1)), today


def _times(conn, queries: dict[str, tuple[str, list]], runs: int = RUNS) -> dict[str, list[float]]:
    """Milliseconds of each run of each query (all rows fetched), runs interleaved."""
    times = {name: [] for name in queries}
    for _ in range(runs):
        for name, (sql, args) in queries.items():
            started = time.perf_counter()
            conn.execute(sql, args).fetchall()
            times[name].append((time.perf_counter() - started) * 1000)
    return times


def run():
    with tempfile.TemporaryDirectory() as tmp:
        db, today = _database(Path(tmp))
        conn = sqlite3.connect(db)
        total = conn.execute("SELECT count(*) FROM rates").fetchone()[0]
        codes = [c for (c,) in conn.execute("SELECT code FROM rates WHERE date = ? ORDER BY code", [today.isoformat()])]
        marks = ", ".join("?" * len(codes))
        year = [(today - timedelta(days=364)).isoformat(), today.isoformat()]
        plain = "code, date, scale, rate, unit, rate_text"
        pairs = {
            "latest": (("SELECT * FROM latest", []),
                       (f"SELECT {plain} FROM rates WHERE code IN ({marks}) AND date = ?", [*codes, today.isoformat()])),
            "upcoming": (("SELECT * FROM upcoming", []),
                         (f"SELECT {plain} FROM rates WHERE code IN ({marks}) AND date > ?", [*codes, today.isoformat()])),
            "rates_byn": (("SELECT * FROM rates_byn WHERE code = 'USD' AND date BETWEEN ? AND ?", year),
                          (f"SELECT {plain}, cur_id FROM rates WHERE code = 'USD' AND date BETWEEN ? AND ?", year)),
        }
        queries = {f"{name} {kind}": query for name, both in pairs.items() for kind, query in zip(("view", "plain"), both)}
        counts = {name: len(conn.execute(*both[0]).fetchall()) for name, both in pairs.items()}
        assert counts["latest"] == len(codes) == 30 and counts["upcoming"] == 30, counts
        ms = _times(conn, queries)
        # The `latest` view of migration 0001, for reference: REAL comparisons, a scan for every code.
        conn.execute("CREATE TEMP VIEW latest_0001 AS " + SCHEMA_1[-1].split(" AS\n", 1)[1])
        old = statistics.median(_times(conn, {"old": ("SELECT * FROM latest_0001", [])}, runs=3)["old"])
        conn.close()
    rows = [budget_row(f"view {name}: {counts[name]} rows of {total}", ms[f"{name} view"], TARGET_MS, "ms",
                       beside=("plain indexed SELECT, same rows", statistics.median(ms[f"{name} plain"])))
            for name in pairs]
    rows.append(Row("view latest of 0001 (REAL, scans), reference", old, "view latest now",
                    statistics.median(ms["latest view"]), "ms", "reference", True))
    return rows
