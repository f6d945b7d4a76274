"""Every "no data" error says what is true and what to do, and each command it names would help."""

import shutil

import pytest
from click.testing import CliRunner
from support import minsk, write_config

from ticker.cli import cli

TODAY = "2026-03-17 18:51"
PUBLISHED = "NBRB publishes rates after the morning session, Minsk time, for the next working day"


def run(*args, code=0):
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result


@pytest.mark.parametrize("args, message", [
    (["rate", "USD", "--date", "2026-12-25"],
     f"the USD rate for 2026-12-25 is not published yet ({PUBLISHED}); the database has USD up to 2026-03-17"),
    (["rate", "USD", "--date", "9999-12-31"],
     f"the USD rate for 9999-12-31 is not published yet ({PUBLISHED}); the database has USD up to 2026-03-17"),
    (["rate", "USD", "--date", "tomorrow"],
     f"the USD rate for 2026-03-18 is not published yet ({PUBLISHED}); the database has USD up to 2026-03-17"),
    (["convert", "100", "USD", "--date", "2027-01-01"],
     f"the USD rate for 2027-01-01 is not published yet ({PUBLISHED}); the database has USD up to 2026-03-17"),
    (["rate", "BGN"], "NBRB no longer quotes BGN: its last daily rate is for 2025-12-31"),
    (["rate", "USD", "--date", "1990-06-01"], "NBRB has no daily USD rate before 1991-01-01"),
    (["rate", "EUR", "--date", "1995-01-01"], "NBRB has no daily EUR rate before 1999-01-01"),
    (["rate", "BYN"], "BYN is the base currency: every official rate is in BYN per units of another currency"),
    (["rate", "byr"], "BYR is an old Belarusian rouble with no rate of its own: 10,000 BYR = 1 BYN "
                      "(`ticker convert` takes BYR amounts)"),
    (["rate", "EUR", "--date", "2024-01-11"], "the EUR rate for 2024-01-11 is missing from the database; "
                                              "`ticker backfill --since 2024-01-11 --until 2024-01-11 --currency EUR` fills it"),
    (["rate", "USD", "--date", "2010-01-01"],
     "no USD rate before 2015-01-01 in the database; `ticker backfill --since 2010-01-01 --currency USD` fills it"),
    (["rate", "XYZ"], "no XYZ rates in the database (it has AED, AMD, AUD, BGN, "),
    (["table", "--date", "2026-03-20"],
     f"the rates for 2026-03-20 are not published yet ({PUBLISHED}); the database has rates up to 2026-03-17"),
    (["table", "--date", "1990-12-31"], "NBRB has no daily rates before 1991-01-01"),
    (["table", "--date", "2025-06-01"],
     "no rates for 2025-06-01 in the database; `ticker backfill --since 2025-06-01 --until 2025-06-01` fills them"),
])
def test_the_hint_says_what_is_true_and_what_to_do(recorded_db, args, message):
    with minsk(TODAY):
        result = run("--db", str(recorded_db), *args, code=1)
    assert result.output.startswith(f"Error: No data: {message}")
    assert len(result.output.splitlines()) == 1


def test_after_the_last_stored_day_fetch_today_backfill_before(recorded_db):
    with minsk("2026-03-18 18:51"):
        assert run("--db", str(recorded_db), "rate", "USD", code=1).output == (
            "Error: No data: no USD rate for 2026-03-18 in the database yet (it has USD up to 2026-03-17);"
            " run `ticker fetch`\n")
    with minsk("2026-03-19 18:51"):
        assert run("--db", str(recorded_db), "rate", "USD", "--date", "yesterday", code=1).output == (
            "Error: No data: no USD rate for 2026-03-18 in the database yet (it has USD up to 2026-03-17);"
            " run `ticker backfill --currency USD`\n")


def test_the_backfill_a_hint_names_fills_the_day(tmp_path, nbrb):
    config = write_config(tmp_path, nbrb.url, track={"currencies": '["USD"]', "since": "2024-01-10"})
    with minsk("2024-01-15 18:00"):
        run("--config", str(config), "backfill")
        assert run("--config", str(config), "rate", "EUR", code=1).output == (
            "Error: No data: no EUR rates in the database: it is not tracked; add it to track.currencies"
            " in the config, or run `ticker backfill --currency EUR`\n")
        hint = run("--config", str(config), "rate", "USD", "--date", "2024-01-05", code=1).output
        assert hint == ("Error: No data: no USD rate before 2024-01-10 in the database;"
                        " `ticker backfill --since 2024-01-05 --currency USD` fills it\n")
        command = hint.split("`")[1].split()[1:]
        assert run("--config", str(config), *command).output == "USD  5 new, 0 revised\n"
        assert run("--config", str(config), "rate", "USD", "--date", "2024-01-05").output == (
            "2024-01-05  1 USD = 3.1980 BYN  (NBRB Cur_ID 431)\n")


@pytest.mark.parametrize("command", ["backfill", "export"])
def test_an_inverted_range_is_a_usage_error_everywhere(tmp_path, recorded_db, command):
    copy = tmp_path / "rates.sqlite"
    shutil.copy(recorded_db, copy)
    result = run("--db", str(copy), command, "--since", "2025-01-02", "--until", "2025-01-01", code=2)
    assert "Invalid value for --since: 2025-01-02 is after --until 2025-01-01" in result.output


def test_a_since_after_the_default_until_is_a_usage_error_too(tmp_path, nbrb):
    config = write_config(tmp_path, nbrb.url, track={"currencies": '["USD"]'})
    with minsk(TODAY):
        assert run("--config", str(config), "backfill", "--since", "2026-04-01", code=2).output == (
            "Error: Bad range: --since 2026-04-01 is after today (2026-03-17); `ticker fetch` records the days"
            " NBRB has already published after today\n")


def test_fetch_of_a_day_before_nbrbs_first_rate_says_so_without_asking(tmp_path, nbrb):
    config = write_config(tmp_path, nbrb.url, track={"currencies": '["USD"]'})
    with minsk(TODAY):
        assert run("--config", str(config), "fetch", "--date", "1990-01-01", code=1).output == (
            "Error: No data: NBRB has no daily rates before 1991-01-01\n")
    assert [path for path, _ in nbrb.requests] == ["/exrates/currencies"]


def test_an_empty_export_says_so_on_stderr(recorded_db):
    result = run("--db", str(recorded_db), "export", "--since", "2030-01-01")
    assert result.stdout.strip() == "date,code,scale,rate,unit,cur_id,byn_per_unit,periodicity"
    assert result.stderr == ("Nothing to export: no rates from 2030-01-01 on in the database"
                             " (it has 2015-01-01 to 2026-03-17)\n")
    result = run("--db", str(recorded_db), "export", "--currency", "EUR", "--since", "2025-01-01", "--until", "2025-12-31")
    # The range of the currency asked for, not the database's.
    assert result.stderr == ("Nothing to export: no rates of EUR from 2025-01-01 to 2025-12-31 in the database"
                             " (it has EUR from 2015-01-01 to 2026-03-17)\n")
    assert run("--db", str(recorded_db), "export", "--since", "2026-03-17").stderr == ""


@pytest.mark.parametrize("value", ["2026-02-30", "someday", "2026-13-01"])
def test_an_impossible_date_is_a_usage_error(recorded_db, value):
    result = run("--db", str(recorded_db), "rate", "USD", "--date", value, code=2)
    assert f"'{value}' is not a date like 2024-01-10, today, tomorrow or yesterday" in result.output


ENDED = "NBRB no longer quotes BGN: its last daily rate is for 2025-12-31"  # its own last day, not the database's


@pytest.mark.parametrize("args, said", [
    (["rate", "BGN", "--date", "2026-03-10"], f"Error: No data: {ENDED}\n"),
    (["convert", "100", "BGN", "--date", "2026-03-10"], f"Error: No data: {ENDED}\n"),
    (["convert", "100", "USD", "BGN", "--date", "2026-03-10"], f"Error: No data: {ENDED}\n"),
    (["chart", "--currency", "BGN", "--days", "7", "--out", "{tmp}"],
     f"Error: No data: {ENDED}; the database has BGN from 2015-01-01 to 2015-01-01: chart a window that ends then\n"),
    (["export", "--currency", "BGN", "--since", "2026-01-01"],
     f"Nothing to export: no rates of BGN from 2026-01-01 on in the database (it has BGN from 2015-01-01 to"
     f" 2015-01-01 ({ENDED}))\n"),
])
def test_an_ended_currency_names_its_own_last_day_in_every_command(recorded_db, tmp_path, args, said):
    with minsk(TODAY):
        result = CliRunner().invoke(cli, ["--db", str(recorded_db), *[a.format(tmp=tmp_path) for a in args]],
                                    catch_exceptions=False)
    assert result.stderr == said
    assert result.exit_code == (0 if args[0] == "export" else 1)
