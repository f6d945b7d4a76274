"""What the tests share: pinned Minsk time, a config for the local fakes, the recorded rates as the model's."""

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import time_machine

from ticker import days
from ticker.model import Rate, unit_on

from .nbrb_data import recorded_rates


def minsk(stamp: str):
    """Pin 'now' to a Minsk wall-clock time, e.g. '2026-03-17 18:51' (time still ticks)."""
    return time_machine.travel(datetime.fromisoformat(stamp).replace(tzinfo=days.minsk()), tick=True)


def write_config(folder: Path, base_url: str, alerts=(), **sections) -> Path:
    """A config.toml in `folder` pointing at the fake, with fast retries; sections override.

    `alerts`: [[alerts]] tables, each a dict of key -> TOML value text, after the sections.
    """
    settings = {
        "database": {"path": '"rates.sqlite"'},
        "nbrb": {"base_url": f'"{base_url}"', "timeout": "2", "retries": "2", "backoff": "0.05"},
    }
    for name, keys in sections.items():
        settings.setdefault(name, {}).update(keys)
    text = "".join(
        f"[{name}]\n" + "".join(f"{key} = {value}\n" for key, value in keys.items()) + "\n"
        for name, keys in settings.items()
    )
    text += "".join("[[alerts]]\n" + "".join(f"{key} = {value}\n" for key, value in table.items()) + "\n"
                    for table in alerts)
    path = folder / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def recorded() -> list[Rate]:
    """Every recorded rate, as the model's Rate."""
    return [Rate(code, date.fromisoformat(day), scale, Decimal(text), unit_on(date.fromisoformat(day)), cur_id)
            for (cur_id, day), (code, scale, text) in recorded_rates().items()]


def frozen_clock(stamp: str) -> dict[str, str]:
    """The environment for a subprocess whose whole clock starts at a Minsk wall-clock time (and
    ticks): Python's and SQLite's `now` alike, through libfaketime (Debian's `faketime`, which
    .ci/run installs). time-machine reaches only this process's Python, never SQLite's date('now')."""
    import glob
    import os
    from datetime import timezone

    libraries = glob.glob("/usr/lib/*/faketime/libfaketime.so.1")
    if not libraries:
        raise RuntimeError("libfaketime is missing: install Debian's faketime (.ci/run does)")
    utc = datetime.fromisoformat(stamp).replace(tzinfo=days.minsk()).astimezone(timezone.utc)
    return {**os.environ, "LD_PRELOAD": libraries[0], "FAKETIME": f"@{utc:%Y-%m-%d %H:%M:%S}", "TZ": "UTC"}


def query_at(stamp: str, db, *queries: str) -> list[list[dict]]:
    """Each query's rows (as dicts) read from `db` by a process whose clock starts at the Minsk
    time `stamp`, so that the views' date('now') sees that day."""
    import json
    import subprocess
    import sys

    script = ("import json, sqlite3, sys\n"
              "conn = sqlite3.connect(f'file:{sys.argv[1]}?mode=ro', uri=True)\n"
              "conn.row_factory = sqlite3.Row\n"
              "print(json.dumps([[dict(r) for r in conn.execute(q)] for q in sys.argv[2:]]))\n")
    done = subprocess.run([sys.executable, "-c", script, str(db), *queries], env=frozen_clock(stamp),
                          capture_output=True, text=True, timeout=60, check=True)
    return json.loads(done.stdout)
