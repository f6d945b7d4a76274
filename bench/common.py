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

    @property
    def ratio(self) -> float:
        return self.figure / self.baseline if self.baseline else float("inf")


def ratio_row(name, figure, baseline_name, baseline, unit, *, at_most=None, at_least=None) -> Row:
    """A Row judged on figure/baseline against a bound."""
    ratio = figure / baseline if baseline else float("inf")
    if at_most is not None:
        return Row(name, figure, baseline_name, baseline, unit, f"ratio <= {at_most:g}", ratio <= at_most)
    return Row(name, figure, baseline_name, baseline, unit, f"ratio >= {at_least:g}", ratio >= at_least)


def median_seconds(command: list[str], runs: int = 15, **kwargs) -> float:
    """Median wall time of a command run as a fresh process."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, **kwargs)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def interleaved_medians(commands: dict[str, list[str]], runs: int = 15, **kwargs) -> dict[str, float]:
    """Median wall time of each command, runs interleaved so machine noise hits all alike."""
    times = {name: [] for name in commands}
    for _ in range(runs):
        for name, command in commands.items():
            started = time.perf_counter()
            subprocess.run(command, check=True, stdout=subprocess.DEVNULL, **kwargs)
            times[name].append(time.perf_counter() - started)
    return {name: statistics.median(values) for name, values in times.items()}


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


def median_ms(work, runs: int) -> float:
    """The median wall time of `runs` calls of `work()`, in milliseconds."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000
