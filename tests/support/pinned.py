"""The `ticker` command line with "now" pinned, for real processes: `python pinned.py 2026-03-17T10:00 ARGS...`.

A subprocess cannot share a test's time_machine, so a daemon test started on one side of Minsk
midnight would find another day on the other. This runs the real CLI (and so the real daemon)
with the wall clock moved to the given Minsk time; the clock still ticks from there. Child
processes the daemon starts (the chart renderer) keep the machine's own clock.
"""

import sys
from datetime import datetime

import time_machine

from ticker import days

if __name__ == "__main__":
    moment = datetime.fromisoformat(sys.argv.pop(1)).replace(tzinfo=days.minsk())
    with time_machine.travel(moment, tick=True):
        from ticker.cli import cli

        cli(prog_name="ticker")
