"""The benchmark harness: each bench_*.py module's `run()` returns Rows; run.py prints one table."""

import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the NBRB fake lives with the tests


@dataclass
class Row:
    """One figure beside its baseline measured in the same run."""

    name: str
    figure: float
    baseline_name: str
    baseline: float
    unit: str
    target: str  # e.g. "ratio <= 2"
    ok: bool
    spread: str = ""  # an absolute budget's runs behind the figure (budget_row)

    @property
    def ratio(self) -> float:
        return self.figure / self.baseline if self.baseline else float("inf")


def ratio_row(name, figure, baseline_name, baseline, unit, *, at_most=None, at_least=None) -> Row:
    """A Row judged on figure/baseline against a bound."""
    ratio = figure / baseline if baseline else float("inf")
    if at_most is not None:
        return Row(name, figure, baseline_name, baseline, unit, f"ratio <= {at_most:g}", ratio <= at_most)
    return Row(name, figure, baseline_name, baseline, unit, f"ratio >= {at_least:g}", ratio >= at_least)


# The floor any click command stands on, which a cold start of ticker's is measured against: the
# interpreter, click and sqlite3 (click alone is 2.35-2.6 times a bare `import sqlite3`).
FLOOR = "python -c 'import click, sqlite3'"
FLOOR_COMMAND = [sys.executable, "-c", "import click, sqlite3"]
COLD_AT_MOST = 1.5


def cold_row(name: str, ms: float, floor_ms: float, runs: int) -> Row:
    """A cold start of a ticker command (median ms of `runs`) against the click floor of the same run."""
    return ratio_row(f"cold `{name}` (median of {runs})", ms, FLOOR, floor_ms, "ms", at_most=COLD_AT_MOST)


def interleaved_times(commands: dict[str, list[str]], runs: int = 15, **kwargs) -> dict[str, list[float]]:
    """Wall seconds of each run of each command as a fresh process, runs interleaved so machine
    noise hits all alike."""
    times = {name: [] for name in commands}
    for _ in range(runs):
        for name, command in commands.items():
            started = time.perf_counter()
            subprocess.run(command, check=True, stdout=subprocess.DEVNULL, **kwargs)
            times[name].append(time.perf_counter() - started)
    return times


def interleaved_medians(commands: dict[str, list[str]], runs: int = 15, **kwargs) -> dict[str, float]:
    """Median wall time of each command, runs interleaved (interleaved_times)."""
    return {name: statistics.median(values) for name, values in interleaved_times(commands, runs, **kwargs).items()}


def backfilled(folder: Path, since, until) -> Path:
    """A database of 30 synthetic currencies, every day from `since` to `until`, filled by the real
    backfill from the local fake (every currency the fake still quotes on `until`)."""
    from support.nbrb_data import synthetic_server

    from ticker import config as configuration
    from ticker.sync.official import Sync

    with synthetic_server(codes=30, since=since.isoformat(), until=until.isoformat()) as server:
        quoted = sorted({r["Cur_Abbreviation"] for r in server.catalogue if r["Cur_Periodicity"] == 0
                         and r["Cur_DateEnd"][:10] >= until.isoformat()})
        config_file = folder / "config.toml"
        config_file.write_text(
            f'[database]\npath = "rates.sqlite"\n[nbrb]\nbase_url = "{server.url}"\n'
            f'[track]\ncurrencies = {quoted!r}\nsince = {since}\n'.replace("'", '"'))
        sync = Sync(configuration.load(config_file))
        sync.backfill(until=until)
        sync.store.close()
    return folder / "rates.sqlite"


def times_ms(work, runs: int) -> list[float]:
    """The wall time of each of `runs` calls of `work()`, in milliseconds."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        times.append((time.perf_counter() - started) * 1000)
    return times


def median_ms(work, runs: int) -> float:
    """The median wall time of `runs` calls of `work()`, in milliseconds."""
    return statistics.median(times_ms(work, runs))


# Absolute budgets: a figure is the median of its runs, and a budget is said to hold or not once the
# median's 95% confidence interval lies on one side of it (or after MOST runs, when it does not).
FIRST, MOST = 31, 601


def median_interval(samples: list[float]) -> tuple[float, float]:
    """A distribution-free 95% confidence interval of the median of `samples`: the order statistics
    n/2 -+ 1.96 sqrt(n)/2 (a normal approximation of the binomial; for n < 6 the whole range)."""
    ordered = sorted(samples)
    n = len(ordered)
    k = max(int((n - 1.96 * n ** 0.5) / 2), 0)
    return ordered[k], ordered[min(n - 1 - k, n - 1)]


def decided(work, budget: float, first: int = FIRST, most: int = MOST) -> list[float]:
    """Milliseconds of runs of `work()`: `first` of them, then twice as many each time while the
    median's confidence interval still holds `budget`, up to `most`."""
    times = times_ms(work, first)
    while len(times) < most:
        low, high = median_interval(times)
        if not low <= budget <= high:
            break
        times += times_ms(work, min(len(times), most - len(times)))
    return times


def budget_row(name: str, samples: list[float], budget: float, unit: str, *, at_least: bool = False,
               beside: tuple[str, float] | None = None) -> Row:
    """A Row judged on the median of `samples` against an absolute `budget` (at most, or at least),
    its spread beside it: the runs, the median's 95% confidence interval, the quartiles, the range.
    `beside` (name, figure) shows a baseline of the same run in place of the budget, for reference."""
    figure = statistics.median(samples)
    low, high = median_interval(samples)
    q1, _, q3 = statistics.quantiles(samples, n=4) if len(samples) > 1 else (figure,) * 3
    spread = (f"median of {len(samples)}; 95% CI {low:.4g}-{high:.4g}, IQR {q1:.4g}-{q3:.4g},"
              f" range {min(samples):.4g}-{max(samples):.4g} {unit}")
    if low <= budget <= high:
        spread += "; undecided: the budget is inside the CI"
    ok = figure >= budget if at_least else figure <= budget
    baseline_name, baseline = beside or ("budget", budget)
    return Row(name, figure, baseline_name, baseline, unit, f"{'>=' if at_least else '<='} {budget:g} {unit}", ok,
               spread)
