"""A real `ticker run` process for the tests, with "now" pinned (pinned.py), and what they share about it."""

import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import date
from pathlib import Path

from ticker.service.hooks import HOOKS

from . import write_config

TICKER = str(Path(sys.executable).with_name("ticker"))
NOW = "2026-03-17T10:00"  # a Tuesday morning in Minsk: the next day is not published yet
PINNED = [sys.executable, str(Path(__file__).resolve().with_name("pinned.py")), NOW]
COLUMNS = "code, date, scale, rate_text, unit, cur_id"
NEVER = '"0 3 1 1 *"'  # the schedule's own runs stay out of the tests' way
# A successful catch-up's last step: its last hook (with no [[alerts]], the alerts have none to run).
REFRESHED = rf"^(INFO refreshed|ERROR refreshing) {HOOKS[0][0]}"
ALERTED = rf"^(INFO refreshed|ERROR refreshing) {HOOKS[-1][0]}"


class Running:
    """A `ticker run` process; its stderr lines are collected as they come."""

    def __init__(self, config: Path, *args, env=None):
        self.proc = subprocess.Popen([*PINNED, "--config", str(config), "run", *args], stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                                     env={**os.environ, **(env or {})})
        self.lines: list[str] = []
        self._closed = False
        self._changed = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stderr:
            with self._changed:
                self.lines.append(line.rstrip("\n"))
                self._changed.notify_all()
        with self._changed:
            self._closed = True
            self._changed.notify_all()

    def wait_for(self, pattern: str, timeout: float = 60) -> str:
        """The first log line matching `pattern`, waiting for it while the process lives."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = next((line for line in self.lines if re.search(pattern, line)), None)
                if found is not None:
                    return found
                left = deadline - time.monotonic()
                if self._closed or left <= 0:
                    raise AssertionError(f"no log line matching {pattern!r}; the log:\n" + "\n".join(self.lines))
                self._changed.wait(left)

    def stop(self, signum=signal.SIGTERM, within: float = 5) -> int:
        self.proc.send_signal(signum)
        return self.proc.wait(timeout=within)

    @property
    def log(self) -> str:
        return "\n".join(self.lines)


def daemon_config(folder: Path, server, since: date, codes='["USD", "EUR", "RUB"]', **nbrb) -> Path:
    return write_config(
        folder, server.url,
        nbrb={"base_url": f'"{server.url}"', "timeout": "1", "retries": "2", "backoff": "0.02", **nbrb},
        track={"currencies": codes, "since": since.isoformat()},
        schedule={"poll": NEVER, "catchup": NEVER, "retry": "0.02"},
        charts={"currencies": '["USD"]', "windows": "[7]"},  # the refresh after a catch-up, kept short
    )


def query(config: Path, sql: str, *params):
    with sqlite3.connect(config.parent / "rates.sqlite") as conn:
        return conn.execute(sql, params).fetchall()


def today():
    return date.fromisoformat(NOW[:10])
