"""The package as users get it: the sdist and the wheel built from it, checked, then installed into a
fresh venv and used from an empty folder as a new user would (HOME a temporary folder).

Slow (minutes: the build and the install fetch setuptools and the dependencies through pip, from its
cache when it has them): `pytest -m "not slow"` leaves it out; `make test` and CI run it. The only
tests that reach past this machine, to the package index and only through pip.
"""

import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tarfile
import time
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest
from click.testing import CliRunner
from support import frozen_clock, minsk
from support.nbrb_data import recorded_server

from ticker import __version__
from ticker.cli import cli

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
NAME = f"byn_ticker-{__version__}"
# What a checkout holds that no distribution should: local state and build leftovers.
LOCAL = shutil.ignore_patterns(".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache",
                               ".cache", "*.sqlite", "*.sqlite-*", "*.lock")


def modules() -> set[str]:
    return {str(p.relative_to(ROOT)) for p in (ROOT / "ticker").rglob("*.py")}


def quiet(*command, **kwargs) -> subprocess.CompletedProcess:
    done = subprocess.run(command, capture_output=True, text=True, **kwargs)
    assert done.returncode == 0, f"{command}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> Path:
    """The sdist, and the wheel built from it, of a copy of the checkout (a build writes into its source)."""
    folder = tmp_path_factory.mktemp("dist")
    source = folder / "source"
    shutil.copytree(ROOT, source, ignore=LOCAL, symlinks=True)
    # Given a source folder, `build` makes the sdist, then the wheel from the unpacked sdist: a file
    # missing from the sdist fails the wheel.
    quiet(sys.executable, "-m", "build", "--outdir", str(folder / "out"), str(source), timeout=600)
    return folder / "out"


def test_the_wheel_holds_every_module_and_the_sdist_every_file_the_readme_names(dist):
    wheel = zipfile.ZipFile(dist / f"{NAME}-py3-none-any.whl")
    packaged = {name for name in wheel.namelist() if not name.startswith(f"{NAME}.dist-info/")}
    # Every module, sources/ store/ outputs/ service/ and any new one, and the page's templates; nothing else.
    templates = {f"ticker/outputs/templates/{p.name}" for p in (ROOT / "ticker" / "outputs" / "templates").iterdir()}
    assert packaged == modules() | templates and templates
    assert "ticker = ticker.cli:cli" in wheel.read(f"{NAME}.dist-info/entry_points.txt").decode()
    with tarfile.open(dist / f"{NAME}.tar.gz") as sdist:
        names = {name.split("/", 1)[1] for name in sdist.getnames() if "/" in name}
    assert modules() <= names
    assert {"README.md", "pyproject.toml", "MANIFEST.in", "config.toml", "Makefile", "contrib/ticker.service",
            "db/README.md", "db/schema.sql", "db/metadata.json", "charts/README.md", "docs/chart-usd-365.png",
            "docs/page-phone.png"} <= names
    assert not [name for name in names if name.startswith("tests/")]  # they need ../shared: a checkout's


def test_the_metadata_has_the_readme_classifiers_urls_and_python(dist):
    wheel = zipfile.ZipFile(dist / f"{NAME}-py3-none-any.whl")
    meta = Parser().parsestr(wheel.read(f"{NAME}.dist-info/METADATA").decode())
    assert (meta["Name"], meta["Version"], meta["Requires-Python"]) == ("byn-ticker", __version__, ">=3.11")
    assert meta["Description-Content-Type"] == "text/markdown"
    assert meta.get_payload().strip() == (ROOT / "README.md").read_text(encoding="utf-8").strip()
    assert "Programming Language :: Python :: 3.11" in meta.get_all("Classifier")
    assert "Topic :: Office/Business :: Financial" in meta.get_all("Classifier")
    assert meta.get_all("Project-URL") == ["PyPI, https://pypi.org/project/byn-ticker/",
                                           "NBRB exchange rates API, https://www.nbrb.by/apihelp/exrates"]
    assert any(r.startswith("platformdirs") for r in meta.get_all("Requires-Dist"))


def test_twine_check_passes(dist):
    done = quiet(sys.executable, "-m", "twine", "check", "--strict", *map(str, sorted(dist.iterdir())), timeout=120)
    assert done.stdout.count("PASSED") == 2


NOW = "2026-03-17 18:51"  # Minsk: the recorded rates of 2026-03-01..17 are all published
NEVER = '"0 3 1 1 *"'


def test_the_installed_wheel_works_from_any_folder_in_the_users_folders(dist, tmp_path):
    venv = tmp_path / "venv"
    quiet(sys.executable, "-m", "venv", str(venv), timeout=300)
    # Not editable, and never the checkout: pip's own cache is all that is shared.
    quiet(str(venv / "bin/pip"), "install", "--disable-pip-version-check", "--quiet",
          str(dist / f"{NAME}-py3-none-any.whl"), timeout=900)
    ticker = str(venv / "bin/ticker")
    home, work, elsewhere = tmp_path / "home", tmp_path / "work", tmp_path / "elsewhere"
    for folder in (home, work, elsewhere):
        folder.mkdir()
    # The whole clock at NOW (libfaketime: the venv has no time-machine). Its monotonic clock too:
    # with FAKETIME_DONT_FAKE_MONOTONIC, libfaketime fails Python's time.sleep with EINVAL.
    env = {**frozen_clock(NOW), "HOME": str(home)}
    for name in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "TICKER_CONFIG", "PYTHONPATH",
                 "VIRTUAL_ENV", "MPLCONFIGDIR"):
        env.pop(name, None)

    def run(*args, cwd=work):
        done = subprocess.run([ticker, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, f"ticker {' '.join(args)}: {done.stdout}{done.stderr}"
        return done.stdout

    where = quiet(str(venv / "bin/python"), "-c", "import ticker; print(ticker.__file__)", cwd=work, env=env).stdout
    assert where.startswith(str(venv / "lib")), where  # the installed package, not the checkout
    config, data = home / ".config/ticker/config.toml", home / ".local/share/ticker"

    assert run("init") == (f"Wrote {config}: every key at its default, commented out\n"
                           f"database  {data / 'rates.sqlite'}\ncharts    {data / 'charts'}\n")
    with recorded_server(today="2026-03-17") as nbrb:
        text = config.read_text(encoding="utf-8")
        for default, given in [('# base_url = "https://api.nbrb.by"', f'base_url = "{nbrb.url}"'),
                               ("# retries = 4", "retries = 1"),
                               ('# currencies = ["*"]', 'currencies = ["USD", "EUR", "RUB"]'),
                               ("# since = 2016-07-01", "since = 2026-03-01"),
                               ('# poll = ""', f"poll = {NEVER}"),
                               ('# catchup = "7 0 * * *"', f"catchup = {NEVER}")]:
            assert default in text
            text = text.replace(default, given, 1)
        config.write_text(text, encoding="utf-8")

        assert run("backfill") == "EUR  17 new, 0 revised\nRUB  17 new, 0 revised\nUSD  17 new, 0 revised\n"
        line = run("line", cwd=elsewhere)
        with minsk(NOW):  # the checkout's answer from the same database
            same = CliRunner().invoke(cli, ["--db", str(data / "rates.sqlite"), "line"], catch_exceptions=False)
        assert line == same.output and line.startswith("RUB 3.67 BYN ") and " · USD 2.95 BYN " in line
        charts = run("chart", cwd=elsewhere)
        assert charts.splitlines() == [
            f"{data / 'charts/2026-03-17'}: overview-365.png usd-30.png usd-365.png eur-30.png eur-365.png "
            "rub-30.png rub-365.png ticker.json ticker.txt", f"{data / 'charts/latest'} -> 2026-03-17"]
        assert run("backup", str(tmp_path / "copy.sqlite")).startswith(f"{tmp_path / 'copy.sqlite'}: 51 rates, ")
        status = run("status", cwd=elsewhere)
        assert status.splitlines()[:4] == ["up to date: 3 currencies through 2026-03-17", f"config        {config}",
                                           f"database      {data / 'rates.sqlite'}", f"charts        {data / 'charts'}"]

        # The daemon, and the chart renderer it starts as `python -m ticker.outputs.publish`.
        log = tmp_path / "run.log"
        with log.open("w") as err:
            daemon = subprocess.Popen([ticker, "run"], cwd=elsewhere, env=env, stdin=subprocess.DEVNULL,
                                      stdout=subprocess.DEVNULL, stderr=err)
        try:
            deadline = time.monotonic() + 120
            while not re.search(r"^INFO refreshed ", log.read_text(), re.M):
                assert daemon.poll() is None and time.monotonic() < deadline, log.read_text()
                time.sleep(0.1)
            daemon.send_signal(signal.SIGTERM)
            assert daemon.wait(timeout=60) == 0, log.read_text()
        finally:
            if daemon.poll() is None:
                daemon.kill()
                daemon.wait(timeout=30)
    assert "ERROR" not in log.read_text() and "Traceback" not in log.read_text()

    with sqlite3.connect(tmp_path / "copy.sqlite") as copy:
        assert copy.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert copy.execute("SELECT rate_text FROM rates WHERE code = 'USD' AND date = '2026-03-17'").fetchall() == [
            ("2.9463",)]
    # Every file in the platform's folders: none in the working folders, none elsewhere in HOME.
    assert list(work.iterdir()) == [] and list(elsewhere.iterdir()) == []
    assert sorted(p.name for p in home.iterdir()) == [".cache", ".config", ".local"]
    assert sorted(p.name for p in config.parent.iterdir()) == ["config.toml"]
    assert {"rates.sqlite", "rates.sqlite.lock", "charts"} <= {p.name for p in data.iterdir()}
    assert {p.name for p in data.iterdir()} <= {"rates.sqlite", "rates.sqlite-wal", "rates.sqlite-shm",
                                                "rates.sqlite.lock", "rates.sqlite.alerts.lock", "charts"}
    assert (data / "charts/index.html").is_file() and (data / "charts/latest/usd-30.png").is_file()
    assert [p.name for p in (home / ".cache").iterdir()] == ["ticker"]  # matplotlib's font cache
    assert os.path.isdir(home / ".cache/ticker/matplotlib")
