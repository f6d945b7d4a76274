"""Where the config and the data are: --config, $TICKER_CONFIG, ./config.toml, the user's folders (platformdirs)."""

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from support import minsk

from ticker import config as configuration
from ticker import paths
from ticker.cli import cli


@pytest.fixture
def home(tmp_path, monkeypatch):
    """An empty working folder and a user whose home is a temporary folder, no XDG variables set."""
    folder = tmp_path / "home"
    (tmp_path / "work").mkdir()
    monkeypatch.setenv("HOME", str(folder))
    for name in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "TICKER_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path / "work")
    return folder


def run(*args, code=0):
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result.output


def test_without_any_config_the_data_go_to_the_users_data_folder(home):
    assert configuration.find(None) is None
    defaults = configuration.load(None)
    assert defaults.file is None
    assert defaults.database.path == home / ".local/share/ticker/rates.sqlite"
    assert defaults.charts.dir == home / ".local/share/ticker/charts"
    assert paths.config_file() == home / ".config/ticker/config.toml"


def test_the_xdg_variables_are_honoured(home, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    (tmp_path / "cfg/ticker").mkdir(parents=True)
    (tmp_path / "cfg/ticker/config.toml").write_text("[line]\nprecision = 3\n")
    found = configuration.find(None)
    assert found == tmp_path / "cfg/ticker/config.toml"
    loaded = configuration.load(found)
    assert (loaded.line.precision, loaded.database.path, loaded.charts.dir) == (
        3, tmp_path / "data/ticker/rates.sqlite", tmp_path / "data/ticker/charts")


def test_a_relative_path_in_the_users_config_is_relative_to_its_folder(home):
    user = home / ".config/ticker/config.toml"
    user.parent.mkdir(parents=True)
    user.write_text('[database]\npath = "data/r.sqlite"\n')
    loaded = configuration.load(configuration.find(None))
    assert loaded.database.path == home / ".config/ticker/data/r.sqlite"
    assert loaded.charts.dir == home / ".local/share/ticker/charts"  # not given: the data folder's
    # The same file named by --config is the same config: its data stay where they were.
    assert configuration.load(configuration.find(str(user))).charts.dir == home / ".local/share/ticker/charts"


def test_the_order_config_then_env_then_local_then_the_users(home, tmp_path, monkeypatch):
    user = home / ".config/ticker/config.toml"
    user.parent.mkdir(parents=True)
    user.write_text("")
    assert configuration.find(None) == user
    Path("config.toml").write_text("")
    assert configuration.find(None) == Path("config.toml")
    # A local config keeps its defaults beside it, as a clone's does (`make run`).
    assert configuration.load(Path("config.toml")).database.path == tmp_path / "work/db/rates.sqlite"
    monkeypatch.setenv("TICKER_CONFIG", str(tmp_path / "env.toml"))
    assert configuration.find(None) == tmp_path / "env.toml"
    assert configuration.find(str(tmp_path / "given.toml")) == tmp_path / "given.toml"


def test_a_named_or_local_config_never_imports_platformdirs(tmp_path):
    import subprocess
    import sys

    (tmp_path / "config.toml").write_text("")
    check = ("import sys; from ticker import config as c; c.load(c.find(None)); c.load(c.find(sys.argv[1]))\n"
             "print('platformdirs' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", check, str(tmp_path / "config.toml")], cwd=tmp_path,
                         capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout == "False\n"


def test_init_then_backfill_and_status_name_the_users_folders(home, nbrb):
    out = run("init")
    user = home / ".config/ticker/config.toml"
    data = home / ".local/share/ticker"
    assert out == (f"Wrote {user}: every key at its default, commented out\n"
                   f"database  {data / 'rates.sqlite'}\ncharts    {data / 'charts'}\n")
    text = user.read_text()
    user.write_text(text.replace('# base_url = "https://api.nbrb.by"', f'base_url = "{nbrb.url}"')
                        .replace('# currencies = ["*"]', 'currencies = ["USD"]')
                        .replace("# since = 2016-07-01", "since = 2026-03-10"))
    with minsk("2026-03-17 18:51"):
        assert run("backfill") == "USD  8 new, 0 revised\n"
        out = run("status")
        report = json.loads(run("status", "--json"))
    assert out.splitlines()[1:4] == [f"config        {user}", f"database      {data / 'rates.sqlite'}",
                                     f"charts        {data / 'charts'}"]
    assert (report["config"], report["database"], report["charts"]) == (
        str(user), str(data / "rates.sqlite"), str(data / "charts"))
    assert sorted(p.name for p in data.iterdir()) == ["rates.sqlite", "rates.sqlite-shm", "rates.sqlite-wal"]
    assert list(Path.cwd().iterdir()) == []  # nothing in the working folder


def test_status_without_a_config_says_so(home, recorded_db):
    with minsk("2026-03-17 20:00"):
        out = run("--db", str(recorded_db), "status", code=1)
    assert out.splitlines()[1:4] == ["config        none: defaults", f"database      {recorded_db}",
                                     f"charts        {home / '.local/share/ticker/charts'}"]
