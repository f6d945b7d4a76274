"""The configuration: defaults, paths, overrides, and one clear line for every mistake."""

import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from ticker import config as configuration
from ticker.alerts import rules
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
    ("[line]\ncurrencies = ['USD', 'byn']\n",
     "[line] currencies: BYN is a Belarusian rouble, the unit every rate is in, not a currency with a rate"),
    ("[charts]\ncurrencies = ['BYR']\n",
     "[charts] currencies: BYR is a Belarusian rouble, the unit every rate is in, not a currency with a rate"),
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


# -- [[alerts]] -------------------------------------------------------------------------------

ALERTS = """
[[alerts]]
currency = "usd"
above = 3.00          # BYN per 1 USD
below = 2.80
move_percent = 1.0
notify = ["mailto://user:pass@example.org", "ntfy://ticker-usd"]

[[alerts]]
published = true
notify = ["json://127.0.0.1:8080/hook"]
"""


def test_alert_tables_give_one_condition_per_level_with_exact_levels(tmp_path):
    file = tmp_path / "config.toml"
    file.write_text(ALERTS)
    alerts = configuration.load(file).alerts
    assert [(a.number, a.kind, a.source, a.code, a.level, a.rule) for a in alerts] == [
        (1, "above", "nbrb", "USD", Decimal("3.00"), "USD above 3.00"),
        (1, "below", "nbrb", "USD", Decimal("2.80"), "USD below 2.80"),
        (1, "move", "nbrb", "USD", Decimal("1.0"), "USD moves 1.0%"),
        (2, "published", "nbrb", None, None, "published"),
    ]
    assert str(alerts[0].level) == "3.00"  # as written, never through a float
    assert alerts[0].notify == ("mailto://user:pass@example.org", "ntfy://ticker-usd")
    assert configuration.load(None).alerts == ()


def test_a_bank_rule_watches_the_best_rate_of_a_side_in_a_city(tmp_path):
    file = tmp_path / "config.toml"
    file.write_text('[banks]\ncity = "Брест"\n[track]\ncurrencies = ["EUR"]\n'
                    '[[alerts]]\ncurrency = "usd"\nbank = "sell"\nbelow = 2.90\nabove = 3.10\n'
                    'notify = ["json://127.0.0.1/hook"]\n'
                    '[[alerts]]\ncurrency = "RUB"\nbank = "buy"\ncity = "Минск"\nabove = 0.0366\n'
                    'notify = ["json://127.0.0.1/hook"]\n', encoding="utf-8")
    alerts = configuration.load(file).alerts
    # Bank rates are not tracked currencies: USD need not be in [track].
    assert [(a.kind, a.source, a.code, a.side, a.city, a.level, a.rule) for a in alerts] == [
        ("above", "banks", "USD", "sell", "Брест", Decimal("3.10"), "USD best sell in Брест above 3.10"),
        ("below", "banks", "USD", "sell", "Брест", Decimal("2.90"), "USD best sell in Брест below 2.90"),
        ("above", "banks", "RUB", "buy", "Минск", Decimal("0.0366"), "RUB best buy in Минск above 0.0366"),
    ]


def test_notify_urls_are_shown_masked():
    assert rules.target("mailto://user:pass@example.org") == "mailto://user:****@example.org/"
    assert rules.target("json://127.0.0.1:8080/hook") == "json://127.0.0.1:8080/hook"
    assert rules.target("tgram://123456789:AABBCCDDEEFF/12345") == "tgram://1...F/12345/"


MAIL = 'notify = ["mailto://ticker:s3cret@example.org"]'


@pytest.mark.parametrize("text, problem", [
    ("alerts = 1\n", "alerts: expected [[alerts]] tables (an array of tables), not a value"),
    ("[alerts]\ncurrency = 'USD'\n", "alerts: expected [[alerts]] tables (an array of tables), not an [alerts] table"),
    ("[[alerts]]\ncurrency = 'USD'\nabove = 3\n", "[[alerts]] #1 notify: missing: the Apprise URLs to deliver to"),
    (f"[[alerts]]\nabove = 3\n{MAIL}\n",
     "[[alerts]] #1: nothing to watch: give a currency with above, below or move_percent, or published = true"),
    (f"[[alerts]]\ncurrency = 'USD'\n{MAIL}\n", "[[alerts]] #1: USD: give above, below or move_percent"),
    (f"[[alerts]]\ncurrency = 'USD'\nabove = -1\n{MAIL}\n",
     "[[alerts]] #1 above: expected a positive number like 3.00, got -1"),
    (f"[[alerts]]\ncurrency = 'USD'\nbelow = '2.80'\n{MAIL}\n",
     "[[alerts]] #1 below: expected a positive number like 3.00, got '2.80'"),
    (f"[[alerts]]\ncurrency = 'USD'\nmove_percent = true\n{MAIL}\n",
     "[[alerts]] #1 move_percent: expected a positive percentage like 1.0, got True"),
    (f"[[alerts]]\ncurrency = 'USD'\nmove_percent = -0.5\n{MAIL}\n",
     "[[alerts]] #1 move_percent: expected a positive percentage like 1.0, got -0.5"),
    (f"[[alerts]]\ncurrency = 'USD'\nmove_percent = nan\n{MAIL}\n",
     "[[alerts]] #1 move_percent: expected a positive percentage like 1.0, got NaN"),
    (f"[[alerts]]\ncurrency = 'USD'\nabove = inf\n{MAIL}\n",
     "[[alerts]] #1 above: expected a positive number like 3.00, got Infinity"),
    (f"[[alerts]]\ncurrency = 'US'\nabove = 3\n{MAIL}\n",
     "[[alerts]] #1 currency: expected a three-letter currency code, got 'US'"),
    (f"[[alerts]]\ncurrency = 'USD'\nabov = 3\n{MAIL}\n",
     "[[alerts]] #1 abov: unknown key (known: currency, above, below, move_percent, published, notify, bank, city)"),
    (f"[[alerts]]\npublished = false\n{MAIL}\n",
     "[[alerts]] #1 published: expected true (leave the key out otherwise), got False"),
    (f"[[alerts]]\npublished = true\ncurrency = 'USD'\nabove = 3\n{MAIL}\n",
     "[[alerts]] #1: published = true cannot be combined with currency, above: "
     "give a rule on a currency an [[alerts]] table of its own"),
    (f"[track]\ncurrencies = ['EUR']\n[[alerts]]\ncurrency = 'USD'\nabove = 3\n{MAIL}\n",
     "[[alerts]] #1 currency: USD is not recorded: add it to [track] currencies"),
    (f"[track]\ncurrencies = ['USD']\n[[alerts]]\npublished = true\n{MAIL}\n",
     "[[alerts]] #1 published: the header line shows RUB, EUR, which are not recorded: add to [track] currencies,"
     " or change [line] currencies"),
    (f"[[alerts]]\npublished = true\n{MAIL}\n[[alerts]]\ncurrency = 'USD'\nabove = 3\nnotify = []\n",
     '[[alerts]] #2 notify: expected a non-empty list of Apprise URLs like ["ntfy://ticker-usd"]'),
    ("[[alerts]]\ncurrency = 'USD'\nabove = 3\nnotify = 'mailto://ticker:s3cret@example.org'\n",
     '[[alerts]] #1 notify: expected a non-empty list of Apprise URLs like ["ntfy://ticker-usd"]'),
    ("[[alerts]]\ncurrency = 'USD'\nabove = 3\nnotify = ['ticker:s3cret@example.org']\n",
     '[[alerts]] #1 notify: expected a non-empty list of Apprise URLs like ["ntfy://ticker-usd"]'),
    ("[[alerts]]\ncurrency = 'USD'\nabove = 3\nnotify = ['json://127.0.0.1/x', 'mailtoo://ticker:s3cret@example.org']\n",
     "[[alerts]] #1 notify: URL 2 (mailtoo://...): unknown Apprise scheme mailtoo://"),
    ("[[alerts]]\ncurrency = 'USD'\nabove = 3\nnotify = ['tgram://s3cret']\n",
     "[[alerts]] #1 notify: URL 1 (tgram://...): Apprise cannot use this URL (see the form Apprise documents for tgram://)"),
    (f"[[alerts]]\ncurrency = 'USD'\nbank = 'sell'\nmove_percent = 1.0\n{MAIL}\n",
     "[[alerts]] #1 move_percent: a bank rule takes above or below (move_percent watches the official rate from"
     " one day to the next)"),
    (f"[[alerts]]\ncurrency = 'USD'\nbank = 'bid'\nbelow = 2.9\n{MAIL}\n",
     "[[alerts]] #1 bank: expected \"buy\" (the bank buys the currency) or \"sell\" (it sells it), got 'bid'"),
    (f"[[alerts]]\ncurrency = 'USD'\ncity = 'Минск'\nbelow = 2.9\n{MAIL}\n",
     "[[alerts]] #1 city: a city is for a bank rule: add bank = \"buy\" or \"sell\""),
    (f"[[alerts]]\ncurrency = 'USD'\nbank = 'sell'\ncity = ' '\nbelow = 2.9\n{MAIL}\n",
     "[[alerts]] #1 city: expected a city name as the bank writes it, like \"Минск\", got ' '"),
    ("[banks]\nshow = ['page', 'line']\n", "[banks] show: expected \"auto\" or a list of 'page', 'ticker', 'charts',"
                                          " got ['page', 'line']"),
    ("[[alerts]]\npublished = true\nnotify = ['json://127.0.0.1/x?token=s3cret']\n"
     "[[alerts]]\npublished = true\nnotify = ['json://127.0.0.1/x?token=other']\n",
     "[[alerts]] #2 notify: URL 1 (json://...): masked, it reads json://127.0.0.1/x like [[alerts]] #1 notify: "
     "URL 1 (json://...); ticker could not tell their deliveries apart"),
])
def test_a_bad_alert_is_one_line_exit_2_naming_the_table_and_key_and_never_a_secret(tmp_path, text, problem):
    file = tmp_path / "config.toml"
    file.write_text(text)
    result = CliRunner().invoke(cli, ["--config", str(file), "fetch"], catch_exceptions=False)
    assert (result.exit_code, result.output) == (2, f"Error: Bad configuration: {file}: {problem}\n")
    assert "s3cret" not in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.toml"]


def test_read_only_commands_check_the_form_of_alerts_but_never_load_apprise(tmp_path):
    file = tmp_path / "config.toml"
    file.write_text("[[alerts]]\ncurrency = 'USD'\nabove = 3\nnotify = ['mailtoo://x@example.org']\n")
    check = ("import sys; from ticker.cli import cli\n"
             "try:\n    cli(sys.argv[1:])\nexcept SystemExit as e:\n"
             "    print('apprise' in sys.modules, e.code)\n")

    def run(*command):
        out = subprocess.run([sys.executable, "-c", check, "--config", str(file), "--db", str(tmp_path / "r.sqlite"),
                              *command], capture_output=True, text=True, timeout=60)
        return out.stdout, out.stderr.splitlines()[-1]

    # `rate` never asks Apprise, so it meets the missing database; the commands that deliver refuse the URL.
    assert run("rate", "USD") == ("False 1\n", f"Error: No data: no database at {tmp_path / 'r.sqlite'}; "
                                                "run `ticker backfill` first")
    unknown = f"Error: Bad configuration: {file}: [[alerts]] #1 notify: URL 1 (mailtoo://...): unknown Apprise scheme mailtoo://"
    assert run("fetch") == ("True 2\n", unknown)
    file.write_text(file.read_text().replace("above = 3", "above = 'x'"))
    result = CliRunner().invoke(cli, ["--config", str(file), "rate", "USD"], catch_exceptions=False)
    assert (result.exit_code, result.output) == (
        2, f"Error: Bad configuration: {file}: [[alerts]] #1 above: expected a positive number like 3.00, got 'x'\n")


def test_the_alert_examples_in_the_readme_and_config_toml_are_valid(tmp_path):
    import re

    readme = re.search(r"```toml\n(\[\[alerts\]\].*?)```", (ROOT / "README.md").read_text(encoding="utf-8"), re.S)
    shipped = re.findall(r"^# ((?:\[\[alerts\]\]|[a-z_]+ = ).*)$", (ROOT / "config.toml").read_text(encoding="utf-8"),
                         re.M)
    for name, text in (("readme.toml", readme.group(1)), ("shipped.toml", "\n".join(shipped))):
        (tmp_path / name).write_text(text)
        assert [a.rule for a in configuration.load(tmp_path / name).alerts] == [
            "USD above 3.00", "USD below 2.80", "USD moves 1.0%", "published"], name


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


def test_every_bank_is_off_by_default_and_its_schedule_is_the_sources(tmp_path):
    from ticker.service import schedule

    defaults = configuration.load(None)
    assert (defaults.belarusbank.enabled, defaults.belarusbank.cities, defaults.belarusbank.schedule) == (
        False, ("*",), "")
    assert schedule.bank_triggers(defaults) == {}
    path = tmp_path / "config.toml"
    path.write_text('[belarusbank]\nenabled = true\ncities = [" Минск "]\n[dabrabyt]\nenabled = true\n'
                    '[mtbank]\nenabled = true\nschedule = "0 9 * * mon-fri"\n', encoding="utf-8")
    given = configuration.load(path)
    assert given.belarusbank.cities == ("Минск",)
    assert list(schedule.bank_triggers(given)) == ["belarusbank", "mtbank", "dabrabyt"]  # sources.BANKS order
    # Each bank's own schedule, a few minutes apart so that their polls do not all start at once.
    assert schedule.bank_crontab(given, "belarusbank") == "*/30 8-20 * * mon-sun"
    assert schedule.bank_crontab(given, "dabrabyt") == "24-59/30 8-20 * * mon-sun"
    assert schedule.bank_crontab(given, "mtbank") == "0 9 * * mon-fri"


@pytest.mark.parametrize("enabled, shown", [
    ((), ()), (("belarusbank",), ("page", "ticker", "charts")), (("mtbank",), ("page", "ticker", "charts")),
    (("alfabank", "dabrabyt"), ("page", "ticker", "charts")),
])
def test_banks_show_auto_shows_bank_rates_while_any_bank_is_enabled(tmp_path, enabled, shown):
    file = tmp_path / "config.toml"
    file.write_text("".join(f"[{bank}]\nenabled = {str(bank in enabled).lower()}\n" for bank in
                            ("belarusbank", "mtbank", "belgazprombank", "alfabank", "dabrabyt")))
    loaded = configuration.load(file)
    assert loaded.banks.outputs == shown
    assert configuration.enabled_banks(loaded) == enabled
    # What `ticker bank-fetch` polls without --bank: the enabled banks, else Belarusbank as it always did.
    assert configuration.polled_banks(loaded) == (enabled or ("belarusbank",))
