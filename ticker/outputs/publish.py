"""Everything derived from the rates, refreshed after new rates are stored: charts and ticker files.

The charts folder, as a web server sees it:
    YYYY-MM-DD/   that day's set: the PNGs, ticker.json and ticker.txt
    latest        symlink to the newest complete set, replaced in one rename
    index.html    the header line, the day's table and the latest set: a static page, no script
    .sets/        sets being built, and the one `latest` points at
"""

import multiprocessing
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from .. import days
from ..errors import ChartError
from .. import files

LATEST, SETS, INDEX = "latest", ".sets", "index.html"
TIMEOUT = 600  # seconds before a stuck child render is killed


def refresh(config, day: date | None = None) -> None:
    """Bring every derived output up to date with the database, as of `day` (default today).

    The drawing runs in a child process (this module's `main`) so that matplotlib never enters
    the caller's memory: the daemon stays small. The child gets the caller's loaded config itself
    (pickled on its stdin), never a path to read again: after an edit of the file without SIGHUP,
    the charts follow the configuration the daemon runs on. Raises ChartError with the child's reason.
    """
    import json
    import pickle

    job = pickle.dumps({"config": config, "day": day or days.today()})
    try:
        done = subprocess.run([sys.executable, "-m", __name__], input=job, capture_output=True, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        raise ChartError(f"the chart renderer took longer than {TIMEOUT} s and was stopped") from None
    try:
        error = json.loads(done.stdout.decode().strip().splitlines()[-1])["error"]
    except (IndexError, ValueError, KeyError, TypeError):
        last = (done.stderr.decode(errors="replace").strip().splitlines() or [f"exit status {done.returncode}"])[-1]
        error = f"the chart renderer failed: {last}"
    if error or done.returncode:
        raise ChartError(error or f"the chart renderer exited with status {done.returncode}")


def main() -> int:
    """The child `refresh` starts: build the set from the config on stdin (a pickle from its parent,
    ticker itself), then report {"error": null or the reason} on stdout."""
    import json
    import pickle
    import sqlite3

    from ..errors import TickerError

    job = pickle.loads(sys.stdin.buffer.read())
    config, error = job["config"], None
    try:
        build(config, job["day"])
    except TickerError as exc:
        error = str(exc).removeprefix(f"{ChartError.__doc__}: ")
    except sqlite3.Error as exc:
        error = f"{config.database.path}: {exc}"
    print(json.dumps({"error": error}))
    return 1 if error else 0


@dataclass(frozen=True)
class Published:
    folder: Path  # out/YYYY-MM-DD
    files: list[str]
    latest: bool  # False when latest/ already shows a later day


def build(config, day: date, out: Path | None = None, currencies=(), windows=()) -> Published:
    """Render the day's set into out/YYYY-MM-DD/ and, unless a later day's set is there, latest/."""
    from ..config import shows_banks
    from ..store import reader
    from . import charts, line, page, table, tickerfiles

    out = Path(out or config.charts.dir)
    conn = reader.connect(config.database.path)
    try:
        # Everything is read before anything is written: bad input leaves no file behind.
        in_line, in_page = shows_banks(config, "ticker"), shows_banks(config, "page")
        ticker_files = tickerfiles.render(conn, config.line.currencies, day, config.line.precision, in_line)
        items = line.items(conn, config.line.currencies, day)
        today = table.build(conn, day)
        # The next rates NBRB has set: a day published ahead that changes something (Saturday
        # and Sunday repeat Friday; Friday afternoon's news is Monday).
        ahead = [t for t in (table.build(conn, later) for later in today.ahead)
                 if any(r.direction != "none" for r in t.rows)][:1]
        banks = None
        if in_line or in_page:
            codes = _unique([*config.line.currencies, *(r.current.code for r in today.rows)])
            city = config.banks.city
            banks = page.Banks(city, reader.bank_on_day(conn, codes, city, day), bool(in_page), bool(in_line))
        jobs = charts.plan(conn, day, _unique(currencies or config.charts.currencies),
                           _unique(windows or config.charts.windows), config.line.currencies,
                           shows_banks(config, "charts"))
    finally:
        conn.close()
    try:
        with _locked(out):
            staged = Path(tempfile.mkdtemp(prefix=f"{day}.", dir=out / SETS))
            try:
                _render([(draw, staged / name) for name, _, draw in jobs])
                tickerfiles.save(staged, ticker_files)
                staged.chmod(files.mode_for(out / day.isoformat(), folder=True))  # not mkdtemp's 0700
                _replace_folder(staged, out / day.isoformat())
            except BaseException:
                # The set and the copy of it _replace_folder makes: nothing half-built is left.
                for half in (staged, staged.with_name(f"{staged.name}.day")):
                    shutil.rmtree(half, ignore_errors=True)
                raise
            newest = latest_day(out) <= day.isoformat()
            if newest:
                _point_latest(out, staged)
                shown = [page.Chart(n, text, charts.PIXELS) for n, text, _ in jobs if (staged / n).is_file()]
                links = [name for name in ("ticker.txt", "ticker.json") if (staged / name).is_file()]
                files.write_text(out / INDEX, page.render(day, items, config.line.precision, today, ahead,
                                                           shown, links, banks))
            _sweep(out)
    except OSError as exc:
        raise ChartError(f"{exc.filename or out}: {exc.strerror or exc}") from None
    return Published(out / day.isoformat(), [name for name, _, _ in jobs] + list(ticker_files), newest)


def _render(jobs) -> None:
    """Draw and save each (figure builder, path), on every core when that is safe.

    Forked workers inherit the imported matplotlib, so they start at once; fork is only safe in a
    process with a single thread, so anywhere else (a test's fake server thread) it runs inline.
    """
    workers = min(len(jobs), os.cpu_count() or 1)
    if workers < 2 or threading.active_count() > 1:
        for draw, path in jobs:
            _draw(draw, path)
        return
    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"))
    try:
        for future in [pool.submit(_draw, draw, path) for draw, path in jobs]:
            future.result()
    except BrokenProcessPool:
        raise ChartError("a chart renderer died") from None
    finally:
        # Waits for the workers, so none writes into a staged folder being removed.
        pool.shutdown(cancel_futures=True)


def _draw(draw, path: Path) -> None:
    from . import charts

    try:
        charts.save(draw(), path)
    except OSError as exc:
        raise OSError(exc.errno, exc.strerror or str(exc), str(path)) from None  # Pillow's name no file


def _unique(items) -> tuple:
    return tuple(dict.fromkeys(items))


@contextmanager
def _locked(out: Path):
    """One build at a time per folder (the daemon's and a person's): the kernel frees it on any exit."""
    out.mkdir(parents=True, exist_ok=True)
    (out / SETS).mkdir(exist_ok=True)
    with files.locked(out / ".lock"):
        _sweep(out)  # what a killed build left behind
        yield


def _replace_folder(staged: Path, target: Path) -> None:
    """A copy of the set becomes `target`; an earlier render of that day is moved aside first."""
    copy = staged.with_name(f"{staged.name}.day")
    shutil.copytree(staged, copy)
    if target.exists() or target.is_symlink():
        os.replace(target, staged.with_name(f"{staged.name}.old"))
    os.replace(copy, target)


def _target(out: Path) -> str | None:
    """The name in .sets/ that `latest` points at; None when it is absent or not our symlink."""
    link = out / LATEST
    if not link.is_symlink():
        return None
    name = Path(os.readlink(link))
    return name.name if name.parent == Path(SETS) else None


def latest_day(out: Path) -> str:
    """The day latest/ shows: its set's, or for a real folder (ticker files written before any chart)
    the date in its ticker.json; "" when unknown, so that anything replaces it."""
    import json

    name = _target(out)
    try:
        if name:
            return date.fromisoformat(name[:10]).isoformat()
        if (out / LATEST).is_dir():
            return date.fromisoformat(json.loads((out / LATEST / "ticker.json").read_text("utf-8"))["date"]).isoformat()
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return ""


def _point_latest(out: Path, staged: Path) -> None:
    link = out / LATEST
    fresh = staged.with_name(f"{staged.name}.link")
    os.symlink(Path(SETS) / staged.name, fresh)  # relative to out/, where it will live
    if link.is_dir() and not link.is_symlink():
        # A real folder (an older layout, or ticker files written before any chart): moved aside,
        # so latest/ is absent for a moment this once.
        os.replace(link, staged.with_name(f"{staged.name}.was"))
    os.replace(fresh, link)


def _sweep(out: Path) -> None:
    """Remove from .sets/ everything but the set latest/ points at."""
    keep = _target(out)
    for entry in (out / SETS).iterdir():
        if entry.name == keep:
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)


if __name__ == "__main__":
    sys.exit(main())
