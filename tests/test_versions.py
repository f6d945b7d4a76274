"""`ticker --version`: ticker's, Python's, SQLite's and the libraries' versions, none of them imported."""

import platform
import sqlite3
import subprocess
import sys
from importlib import metadata

from click.testing import CliRunner

from ticker import __version__
from ticker.cli import cli


def test_version_names_what_a_bug_report_needs():
    result = CliRunner().invoke(cli, ["--version"], catch_exceptions=False)
    lines = result.output.splitlines()
    assert result.exit_code == 0
    assert lines[:3] == [f"ticker {__version__}", f"Python {platform.python_version()} (CPython, {sys.executable})",
                         f"SQLite {sqlite3.sqlite_version}"]
    libraries = dict(line.split(" ", 1) for line in lines[4:])
    assert list(libraries) == ["apprise", "apscheduler", "click", "jinja2", "matplotlib", "numpy", "pillow",
                               "platformdirs", "prometheus-client", "requests", "sqlite-utils", "starlette", "tzdata",
                               "urllib3", "uvicorn"]
    assert libraries["sqlite-utils"] == metadata.version("sqlite-utils")
    assert libraries["apscheduler"] == metadata.version("APScheduler")
    assert all(version[0].isdigit() for version in libraries.values())


def test_version_imports_none_of_them_and_needs_no_config(tmp_path):
    (tmp_path / "config.toml").write_text("[nbrb\n")  # a broken config is no reason to hide the version
    check = ("import sys; from ticker.cli import cli\ntry:\n    cli(['--version'])\nexcept SystemExit as e:\n"
             "    print(e.code, sorted(m for m in ('matplotlib', 'numpy', 'apprise', 'requests', 'sqlite_utils',"
             " 'apscheduler', 'platformdirs') if m in sys.modules), file=sys.stderr)")
    done = subprocess.run([sys.executable, "-c", check], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.stdout.startswith(f"ticker {__version__}\n")
    assert done.stderr == "0 []\n"
