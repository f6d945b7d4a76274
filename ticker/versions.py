"""`ticker --version`: what a bug report needs, read from the installed packages' metadata (none imported)."""

import platform
import sqlite3
import sys
from importlib import metadata

from . import __version__

# The libraries whose behaviour ticker's shows: its dependencies, and numpy, which matplotlib and
# sqlite-utils bring (and sqlite-utils imports whenever it is installed).
LIBRARIES = ("apprise", "apscheduler", "click", "jinja2", "matplotlib", "numpy", "pillow", "platformdirs",
             "prometheus-client", "requests", "sqlite-utils", "starlette", "tzdata", "urllib3", "uvicorn")


def installed(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def report() -> str:
    lines = [
        f"ticker {__version__}",
        f"Python {platform.python_version()} ({platform.python_implementation()}, {sys.executable})",
        f"SQLite {sqlite3.sqlite_version}",
        f"{platform.system()} {platform.release()} {platform.machine()}",
        *(f"{name} {installed(name)}" for name in LIBRARIES),
    ]
    return "\n".join(lines)
