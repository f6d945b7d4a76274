"""The configuration: defaults, paths, overrides, and one clear line for every mistake."""

from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from ticker import config as configuration
from ticker.cli import cli

ROOT = Path(__file__).resolve().parents[1]


def test_the_shipped_config_is_valid_and_equals_the_defaults():
    shipped = configuration.load(ROOT / "config.toml")
    assert shipped.database.path == ROOT / "db" / "rates.sqlite"
    assert (shipped.nbrb.base_url, shipped.track.currencies, shipped.track.since) == (
        "https://api.nbrb.by", ("*",), date(2016, 7, 1))
    assert shipped.line.currencies == ("RUB", "USD", "EUR")
    for section, keys in configuration.SCHEMA.items():
        for key, spec in keys.items():
            value = getattr(getattr(shipped, section), key)
            default = ROOT / spec.default if isinstance(spec.default, Path) else spec.default
            assert value == default, f"config.toml [{section}] {key} differs from the default"


def test_relative_paths_are_relative_to_the_config_folder(tmp_path, monkeypatch):
    (tmp_path / "etc").mkdir()
    file = tmp_path / "etc" / "ticker.toml"
    file.write_text('[database]\npath = "data/r.sqlite"\n[track]\ncurrencies = ["usd", "EUR"]\n')
    monkeypatch.chdir(ROOT)
    loaded = configuration.load(file)
    assert loaded.database.path == tmp_path / "etc" / "data" / "r.sqlite"
    assert loaded.track.currencies == ("USD", "EUR")
    assert configuration.load(file, db="other.sqlite").database.path == ROOT / "other.sqlite"


def test_env_var_names_the_config(tmp_path, monkeypatch):
    file = tmp_path / "c.toml"
    file.write_text("[line]\nprecision = 4\n")
    monkeypatch.setenv("TICKER_CONFIG", str(file))
    assert configuration.find(None) == file
    assert configuration.load(configuration.find(None)).line.precision == 4


@pytest.mark.parametrize("text, problem", [
    ("[nbrb\nbase_url = 1", "TOML syntax: Expected ']' at the end of a table declaration (at line 1, column 6)"),
    ("[track]\nsince = 2016-02-30\n", "TOML syntax: Invalid date or datetime (at line 2, column 9)"),
    ("[tracking]\ncurrencies = []\n", "unknown section [tracking] (known: database, nbrb, "),
    ("[nbrb]\nurl = 'x'\n", "[nbrb] url: unknown key (known: base_url, timeout, retries, backoff"),
    ("[nbrb]\ntimeout = 'fast'\n", "[nbrb] timeout: expected a positive number, got 'fast'"),
    ("[nbrb]\nbase_url = 'api.nbrb.by'\n", "[nbrb] base_url: expected an http:// or https:// URL, got 'api.nbrb.by'"),
    ("[nbrb]\nretries = true\n", "[nbrb] retries: expected a whole number from 0 to 20, got True"),
    ("[track]\ncurrencies = ['US']\n", "[track] currencies: expected a three-letter currency code, got 'US'"),
    ("[track]\ncurrencies = ['*', 'USD']\n", "[track] currencies: expected a three-letter currency code, got '*'"),
    ("[track]\ncurrencies = 'USD'\n", "[track] currencies: expected a non-empty list of currency codes, got 'USD'"),
    ("[track]\nsince = '2016-13-01'\n", "[track] since: expected a date like 2016-07-01, got '2016-13-01'"),
    ("[line]\ncurrencies = []\n", "[line] currencies: expected a non-empty list of currency codes, got []"),
    ("database = 'x.sqlite'\n", "database: expected a [database] table"),
])
def test_a_bad_config_is_one_line_exit_2_and_writes_nothing(tmp_path, text, problem):
    file = tmp_path / "config.toml"
    file.write_text(text)
    result = CliRunner().invoke(cli, ["--config", str(file), "backfill"], catch_exceptions=False)
    assert result.exit_code == 2
    assert result.output.startswith(f"Error: Bad configuration: {file}: {problem}")
    assert len(result.output.splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.toml"]


def test_a_missing_config_file_is_named(tmp_path):
    result = CliRunner().invoke(cli, ["--config", str(tmp_path / "nope.toml"), "status"], catch_exceptions=False)
    assert (result.exit_code, result.output) == (2, f"Error: Bad configuration: {tmp_path / 'nope.toml'}: no such file\n")


@pytest.mark.parametrize("line, problem", [
    ("enabled = 1", "[belarusbank] enabled: expected true or false, got 1"),
    ('base_url = "belarusbank.by"', "[belarusbank] base_url: expected an http:// or https:// URL"),
    ('schedule = "*/30 8-20 * * 0-6"', "[belarusbank] schedule: '*/30 8-20 * * 0-6': write the days of the week as"
                                       " names (mon-fri), not numbers"),
    ("cities = []", '[belarusbank] cities: expected a non-empty list of city names like ["Минск"], or ["*"], got []'),
    ('cities = ["Минск", ""]', "[belarusbank] cities: expected a non-empty list of city names"),
    ("retries = 50", "[belarusbank] retries: expected a whole number from 0 to 20, got 50"),
])
def test_a_bad_belarusbank_section_is_one_line_exit_2(tmp_path, line, problem):
    path = tmp_path / "config.toml"
    path.write_text(f'[database]\npath = "rates.sqlite"\n\n[belarusbank]\n{line}\n', encoding="utf-8")
    result = CliRunner().invoke(cli, ["--config", str(path), "bank-fetch"], catch_exceptions=False)
    assert result.exit_code == 2
    assert result.output.count("\n") == 1
    assert f"Error: Bad configuration: {path}: {problem}" in result.output
    assert list(tmp_path.iterdir()) == [path]


def test_belarusbank_is_off_by_default_and_its_schedule_is_the_sources(tmp_path):
    from ticker.service import schedule

    defaults = configuration.load(None)
    assert (defaults.belarusbank.enabled, defaults.belarusbank.cities, defaults.belarusbank.schedule) == (
        False, ("*",), "")
    assert schedule.bank_trigger(defaults) is None
    path = tmp_path / "config.toml"
    path.write_text('[belarusbank]\nenabled = true\ncities = [" Минск "]\n', encoding="utf-8")
    given = configuration.load(path)
    assert given.belarusbank.cities == ("Минск",)
    assert schedule.bank_crontab(given) == "*/30 8-20 * * mon-sun"
