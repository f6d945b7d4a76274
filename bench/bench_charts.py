"""`ticker chart`: the default set (3 currencies x 2 windows + the overview) as a fresh process,
against a bare matplotlib script drawing the same lines without decoration, in the same run."""

import os
import statistics
import sys
import tempfile
from datetime import date, timedelta
from pathlib import Path

import common
from support import write_config
from support.nbrb_data import synthetic_server

from ticker import config as configuration
from ticker.outputs import charts
from ticker.sync.official import Sync

UNTIL = date(2026, 3, 17)
CODES = ("USD", "EUR", "RUB")  # charts.currencies and line.currencies by default
BUDGET = 3.0  # seconds, on a 2-core machine
RUNS = 15  # each a fresh process of 2-3 s: enough for the budget's spread

# The baseline: the same data from the same file, the same lines, nothing else.
BARE = """
import sqlite3, sys
from datetime import date, timedelta
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

db, out, end = sys.argv[1], sys.argv[2], date.fromisoformat(sys.argv[3])
SIZE, DPI = (float(sys.argv[4]), float(sys.argv[5])), float(sys.argv[6])  # ticker's chart size
conn = sqlite3.connect(db)

def series(code, days):
    first = end - timedelta(days=days - 1)
    rows = conn.execute("SELECT date, byn_per_unit * scale FROM rates_byn WHERE code = ? AND date BETWEEN ? AND ?"
                        " ORDER BY date", [code, first.isoformat(), end.isoformat()]).fetchall()
    return np.array([d for d, _ in rows], dtype="datetime64[D]"), np.array([v for _, v in rows])

def figure():
    fig = Figure(figsize=SIZE, dpi=DPI)
    FigureCanvasAgg(fig)
    return fig, fig.add_subplot()

fig, ax = figure()
for code in ("RUB", "USD", "EUR"):
    x, y = series(code, 365)
    ax.plot(x, 100 * (y / y[0] - 1))
fig.savefig(f"{out}/overview.png")
for code in ("USD", "EUR", "RUB"):
    for days in (30, 365):
        fig, ax = figure()
        ax.plot(*series(code, days))
        fig.savefig(f"{out}/{code}-{days}.png")
"""


def run() -> list[common.Row]:
    with tempfile.TemporaryDirectory() as tmp, synthetic_server(until=UNTIL.isoformat()) as server:
        folder = Path(tmp)
        config_file = write_config(folder, server.url)
        config = configuration.load(config_file)
        Sync(config).backfill(UNTIL - timedelta(days=400), UNTIL, list(CODES))
        (folder / "bare").mkdir()
        (folder / "bare.py").write_text(BARE, encoding="utf-8")
        # One font cache for both, built before timing.
        env = {**os.environ, "MPLCONFIGDIR": str(folder / "mpl")}
        commands = {
            "ticker": [sys.executable, "-m", "ticker", "--config", str(config_file), "chart",
                       "--date", UNTIL.isoformat()],
            "bare": [sys.executable, str(folder / "bare.py"), str(config.database.path), str(folder / "bare"),
                     UNTIL.isoformat(), *map(str, charts.SIZE), str(charts.DPI)],
        }
        common.interleaved_times(commands, runs=1, env=env)
        times = common.interleaved_times(commands, runs=RUNS, env=env)
    name = "chart: default set (6 trends + overview)"
    return [
        common.ratio_row(name, statistics.median(times["ticker"]), "bare matplotlib, same lines",
                         statistics.median(times["bare"]), "s", at_most=1.5),
        common.budget_row(f"{name}, absolute", times["ticker"], BUDGET, "s"),
    ]
