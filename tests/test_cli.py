"""The real CLI through click's CliRunner, and as a subprocess."""

import json
import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from support import minsk, write_config
from support.nbrb_data import recorded_rates

from ticker.cli import cli


def run(*args, code=0):
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result.output


@pytest.fixture
def march(tmp_path, nbrb):
    """A database filled by `ticker backfill` with every currency for 2026-03-01..17: the 30 daily
    ones, and the monthly KRW and THB (made up), each set on 2026-03-01."""
    config = write_config(tmp_path, nbrb.url, track={"currencies": '["*"]', "since": "2026-03-01"})
    with minsk("2026-03-17 18:51"):
        out = run("--config", str(config), "backfill")
    assert "RUB  17 new, 0 revised" in out and out.endswith("KRW  1 new, 0 revised (monthly)\n"
                                                            "THB  1 new, 0 revised (monthly)\n")
    assert len(out.splitlines()) == 32
    return config


def recorded_series(code):
    return {day: Decimal(text) for (_, day), (c, _, text) in recorded_rates().items() if c == code}


def expected_direction(code, day):
    series = recorded_series(code)
    previous = next(series[d] for d in sorted(series, reverse=True) if d < day and series[d] != series[day])
    return ("▲" if series[day] > previous else "▼"), series[day] - previous


def test_line_shows_the_header_of_2026_03_17(march):
    out = run("--config", str(march), "line", "--date", "2026-03-17")
    marks = {code: expected_direction(code, "2026-03-17")[0] for code in ("RUB", "USD", "EUR")}
    assert out == f"RUB 3.67 BYN {marks['RUB']} · USD 2.95 BYN {marks['USD']} · EUR 3.37 BYN {marks['EUR']}\n"


def test_rate_shows_date_scale_exact_text_and_unit(march):
    assert run("--config", str(march), "rate", "rub", "--date", "2026-03-17") == (
        "2026-03-17  100 RUB = 3.6709 BYN  (NBRB Cur_ID 456)\n")
    data = json.loads(run("--config", str(march), "rate", "KZT", "--date", "2026-03-10", "--json"))
    published = recorded_series("KZT")["2026-03-10"]
    assert (data["scale"], Decimal(data["rate"])) == (1000, published)
    assert Decimal(data["byn_per_unit"]) == published / 1000


def test_rate_on_2024_01_10_fetched_and_shown(tmp_path, nbrb):
    config = write_config(tmp_path, nbrb.url, track={"currencies": '["USD", "EUR"]'})
    with minsk("2024-01-10 09:00"):
        out = run("--config", str(config), "fetch", "--date", "2024-01-10")
        assert out == "2024-01-10  1 EUR = 3.4965 BYN  new\n2024-01-10  1 USD = 3.1949 BYN  new\n"
        assert run("--config", str(config), "rate", "USD") == "2024-01-10  1 USD = 3.1949 BYN  (NBRB Cur_ID 431)\n"


def test_status_is_fine_when_current_and_exits_1_when_stale(march):
    with minsk("2026-03-17 20:00"):
        out = run("--config", str(march), "status")
    # KRW's monthly rate, set on 2026-03-01, is in force today: current, and no day missing.
    assert out.startswith("up to date: 32 currencies through 2026-03-17\n")
    assert "USD  17     2026-03-01  2026-03-17  0" in out and "stale" not in out
    assert "KRW  1      2026-03-01  2026-03-01  0  (1 set monthly)" in out
    with minsk("2026-03-19 09:00"):
        out = run("--config", str(march), "status", code=1)
        assert out.startswith("stale: no rate for 2026-03-19: AED, AMD")
        assert "up to date" not in out
        data = json.loads(run("--config", str(march), "status", "--json", code=1))
    # The daily ones lack 2026-03-19; KRW's and THB's March rates are still in force.
    assert data["last_success"]["kind"] == "backfill" and len(data["stale"]) == 30
    assert "KRW" not in data["stale"] and "THB" not in data["stale"]
    assert data["ok"] is False and data["verdict"].startswith("stale: no rate for 2026-03-19: AED, AMD")
    with minsk("2026-04-02 09:00"):  # April's monthly rates are not stored: those are stale too
        data = json.loads(run("--config", str(march), "status", "--json", code=1))
    assert len(data["stale"]) == 32 and {"KRW", "THB"} <= set(data["stale"])


def test_status_after_a_failed_first_run_is_not_up_to_date(tmp_path, nbrb):
    url = nbrb.url
    nbrb.stop()
    config = write_config(tmp_path, url)  # currencies = ["*"], the default
    failed = CliRunner().invoke(cli, ["--config", str(config), "backfill"], catch_exceptions=False)
    assert failed.exit_code == 1 and "Connection refused" in failed.output
    with minsk("2026-03-17 20:00"):
        out = run("--config", str(config), "status", code=1)
    assert out.splitlines()[0] == "stale: the database has no rates; no fetch has ever succeeded"
    assert "up to date" not in out


def test_status_on_an_empty_or_missing_database(tmp_path):
    result = CliRunner().invoke(cli, ["--db", str(tmp_path / "none.sqlite"), "status"], catch_exceptions=False)
    assert (result.exit_code, result.output) == (
        1, f"Error: No data: no database at {tmp_path / 'none.sqlite'}; run `ticker backfill` first\n")
    from ticker.store.writer import Store

    Store(tmp_path / "empty.sqlite").close()
    with minsk("2026-03-17 20:00"):
        out = run("--db", str(tmp_path / "empty.sqlite"), "status", code=1)
    assert out.splitlines()[0] == "stale: the database has no rates; no fetch has ever succeeded"


def test_status_lists_an_ended_currency_as_ended_not_missing(tmp_path, nbrb):
    nbrb.add_rates(441, {"2025-12-31": "1.7284"})
    nbrb.add_rates(431, {"2025-12-31": "2.9500"})
    config = write_config(tmp_path, nbrb.url, track={"currencies": '["USD", "BGN"]', "since": "2025-12-31"})
    with minsk("2026-03-17 20:00"):
        result = CliRunner().invoke(cli, ["--config", str(config), "backfill", "--since", "2026-03-01"],
                                    catch_exceptions=False)
        assert (result.exit_code, result.stdout) == (0, "USD  17 new, 0 revised\n")
        assert result.stderr == "Warning: BGN: NBRB stopped quoting it after 2025-12-31\n"
        run("--config", str(config), "fetch", "--date", "2025-12-31")
        out = run("--config", str(config), "status", code=1)
    # Every day from track.since on counts: USD's January and February are missing, BGN's end is no gap.
    assert out.splitlines()[0] == ("incomplete: USD lacks 59 days (2026-01-01..2026-02-28); `ticker backfill` fills"
                                   " them")
    assert "BGN  1      2025-12-31  2025-12-31  0  ended: NBRB stopped quoting it after 2025-12-31" in out
    assert "USD  18     2025-12-31  2026-03-17  59" in out


def test_user_errors_are_one_line(tmp_path, march):
    (tmp_path / "empty").mkdir()
    empty = write_config(tmp_path / "empty", "http://127.0.0.1:9")
    for args, code, message in [
        (["--config", str(empty), "rate", "USD"], 1, "Error: No data: no database at "),
        (["--config", str(march), "rate", "XYZ", "--date", "2026-03-17"], 1,
         "Error: No data: no XYZ rates in the database (it has AED, AMD"),
        (["--config", str(march), "rate", "USD", "--date", "2026-03-18"], 1,
         "Error: No data: the USD rate for 2026-03-18 is not published yet (NBRB publishes rates after the morning"
         " session, Minsk time, for the next working day); the database has USD up to 2026-03-17"),
        (["--config", str(march), "rate", "USD", "--date", "2026-02-30"], 2, "is not a date like 2024-01-10"),
        (["--config", str(march), "rate", "US", "--date", "2026-03-17"], 2, "expected a three-letter currency code"),
    ]:
        with minsk("2026-03-17 18:51"):
            result = CliRunner().invoke(cli, args, catch_exceptions=False)
        assert result.exit_code == code
        assert message in result.output
        assert "Traceback" not in result.output
        if code == 1:
            assert len(result.output.splitlines()) == 1


def test_a_file_that_is_not_a_database_is_one_line(tmp_path):
    (tmp_path / "notes.sqlite").write_text("not a database, just notes\n" * 100)
    result = CliRunner().invoke(cli, ["--db", str(tmp_path / "notes.sqlite"), "rate", "USD"], catch_exceptions=False)
    assert (result.exit_code, result.output) == (
        1, f"Error: Database error: {tmp_path / 'notes.sqlite'}: file is not a database\n")


def test_schema_command_prints_the_committed_schema():
    assert run("schema") == (Path(__file__).resolve().parents[1] / "db" / "schema.sql").read_text()


def ticker_command():
    return [str(Path(sys.executable).with_name("ticker"))]


def test_subprocess_backfill_then_rate(tmp_path, nbrb):
    config = write_config(tmp_path, nbrb.url, track={"currencies": '["USD"]', "since": "2024-01-01"})
    done = subprocess.run([*ticker_command(), "--config", str(config), "backfill", "--until", "2024-07-31"],
                          capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout, done.stderr) == (0, "USD  213 new, 0 revised\n", "")
    shown = subprocess.run([*ticker_command(), "--config", str(config), "rate", "USD", "--date", "2024-01-10"],
                           capture_output=True, text=True, timeout=60)
    assert shown.stdout == "2024-01-10  1 USD = 3.1949 BYN  (NBRB Cur_ID 431)\n"


def test_unreachable_nbrb_is_one_line_with_the_url_reason_and_hint(tmp_path, nbrb):
    url = nbrb.url
    nbrb.stop()
    config = write_config(tmp_path, url)
    done = subprocess.run([*ticker_command(), "--config", str(config), "backfill"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr == (f"Error: Could not reach NBRB: {url}/exrates/currencies: Connection refused, still after 2 retries; "
                           "set nbrb.base_url in the config to use a mirror or proxy\n")


# -- monthly currencies (made-up rates: support.nbrb_data.monthly_rates) ---------------------------


def test_rate_of_a_monthly_currency_names_the_day_it_was_set(monthly_db):
    db = ["--db", str(monthly_db)]
    assert run(*db, "rate", "KRW", "--date", "2026-03-17") == (
        "2026-03-17  1000 KRW = 2.1367 BYN  (set monthly on 2026-03-01; NBRB Cur_ID 515)\n")
    assert run(*db, "rate", "brl", "--date", "2022-07-15") == (
        "2022-07-15  10 BRL = 5.6123 BYN  (set monthly on 2022-07-01; NBRB Cur_ID 326)\n")
    assert run(*db, "rate", "BRL", "--date", "2026-03-17") == "2026-03-17  10 BRL = 5.5390 BYN  (NBRB Cur_ID 514)\n"
    data = json.loads(run(*db, "rate", "THB", "--date", "2026-03-10", "--json"))
    assert data == {"code": "THB", "date": "2026-03-01", "scale": 100, "rate": "8.4410", "unit": "BYN", "cur_id": 516,
                    "byn_per_unit": "0.08441", "periodicity": 1, "in_force_on": "2026-03-10"}
    # A month without its rate stored: April's is not, and March's does not answer for it.
    result = CliRunner().invoke(cli, [*db, "rate", "KRW", "--date", "2026-04-01"])
    assert (result.exit_code, result.output) == (
        1, "Error: No data: no KRW rate for 2026-04-01 in the database yet (it has KRW up to 2026-03-01);"
           " run `ticker backfill --currency KRW`\n")


def test_convert_and_export_of_a_monthly_currency(monthly_db):
    db = ["--db", str(monthly_db)]
    assert run(*db, "convert", "1000", "KRW", "--date", "2026-03-10") == (
        "1000 KRW = 2.14 BYN  (2026-03-10: 1000 KRW = 2.1367 BYN set monthly on 2026-03-01)\n")
    assert run(*db, "convert", "100", "THB", "USD", "--date", "2026-03-17", "--precision", "4") == (
        "100 THB = 2.8649 USD  (2026-03-17: 100 THB = 8.4410 BYN set monthly on 2026-03-01, 1 USD = 2.9463 BYN)\n")
    # The row in force on --since is exported too: set on 2026-03-01, marked monthly.
    assert run(*db, "export", "--currency", "KRW", "--currency", "USD", "--since", "2026-03-16").splitlines() == [
        "date,code,scale,rate,unit,cur_id,byn_per_unit,periodicity",
        "2026-03-01,KRW,1000,2.1367,BYN,515,0.0021367,1",
        "2026-03-16,USD,1,2.9332,BYN,431,2.9332,0",
        "2026-03-17,USD,1,2.9463,BYN,431,2.9463,0"]
    assert run(*db, "export", "--format", "ledger", "--currency", "BRL", "--since", "2022-07-20",
               "--until", "2022-12-31") == "commodity BYN\n    format 1,000.00 BYN\n\nP 2022-07-01 BRL 0.56123 BYN\n"


def test_the_days_table_lists_the_monthly_currencies_in_force_and_says_so(monthly_db):
    db = ["--db", str(monthly_db)]
    data = json.loads(run(*db, "table", "--date", "2026-03-17", "--json"))
    by_code = {c["code"]: c for c in data["currencies"]}
    # The 30 daily currencies of that day's recorded list, and the two monthly ones set on the 1st.
    assert len(by_code) == 32
    assert {k: by_code["KRW"][k] for k in ("scale", "rate", "periodicity", "set_on", "change", "direction")} == {
        "scale": 1000, "rate": "2.1367", "periodicity": 1, "set_on": "2026-03-01", "change": "0.0000",
        "direction": "none"}
    assert (by_code["USD"]["rate"], by_code["USD"]["periodicity"], by_code["USD"]["set_on"]) == ("2.9463", 0, "2026-03-17")
    text = run(*db, "table", "--date", "2026-03-17")
    [krw] = [line for line in text.splitlines() if "KRW" in line]
    assert krw.split()[:2] == ["1000", "KRW"] and krw.endswith("set monthly on 2026-03-01")
    # A day NBRB has not published: no table, though March's monthly rates are in force on it.
    with minsk("2026-03-17 18:51"):
        result = CliRunner().invoke(cli, [*db, "table", "--date", "2026-03-20"], catch_exceptions=False)
    assert (result.exit_code, result.output) == (1, "Error: No data: the rates for 2026-03-20 are not published yet"
                                                    " (NBRB publishes rates after the morning session, Minsk time, for"
                                                    " the next working day); the database has rates up to 2026-03-17\n")
    # The first of the month: the rate set that day, against February's the day before.
    first = {c["code"]: c for c in json.loads(run(*db, "table", "--date", "2026-03-01", "--json"))["currencies"]}
    assert (first["KRW"]["set_on"], first["KRW"]["rate"]) == ("2026-03-01", "2.1367")


def test_fetch_records_the_monthly_rate_in_force_on_the_day_too(tmp_path, nbrb):
    nbrb.add_rates(431, {"2022-07-15": "2.5300"})  # made up: the recordings have no list of that day
    config = write_config(tmp_path, nbrb.url, track={"currencies": '["USD", "BRL"]'})
    with minsk("2026-03-17 18:51"):
        out = run("--config", str(config), "fetch", "--date", "2022-07-15")
        assert out == "2022-07-15  1 USD = 2.5300 BYN  new\nBRL  1 new, 0 revised (monthly)\n"
        assert run("--config", str(config), "rate", "BRL", "--date", "2022-07-15") == (
            "2022-07-15  10 BRL = 5.6123 BYN  (set monthly on 2022-07-01; NBRB Cur_ID 326)\n")
        nbrb.reset_log()
        assert run("--config", str(config), "fetch", "--date", "2022-07-15") == "2022-07-15  nothing new\n"
    assert [q["periodicity"] for _, q in nbrb.requests] == ["0"]  # July's monthly rate is stored: not asked again


# -- every error is one line ---------------------------------------------------------------------


@pytest.mark.parametrize("args, line", [
    (["table", "--date", "2026-13-01"],
     "Error: Invalid value for '--date': '2026-13-01' is not a date like 2024-01-10, today, tomorrow or yesterday"),
    (["convert", "abc", "USD"], "Error: Invalid value for 'AMOUNT': 'abc' is not an amount like 100 or -1250.50"),
    (["rate"], "Error: Missing argument 'CODE'."),
    (["frobnicate"], "Error: No such command 'frobnicate'."),
])
def test_a_usage_error_is_one_line_exit_2(recorded_db, args, line):
    result = CliRunner().invoke(cli, ["--db", str(recorded_db), *args], catch_exceptions=False)
    assert (result.exit_code, result.output) == (2, line + "\n")


def test_a_file_the_system_refuses_is_one_line_naming_it(recorded_db, tmp_path):
    (tmp_path / "charts").write_text("a file where the charts folder should be")
    config = write_config(tmp_path, "http://127.0.0.1:9", database={"path": f'"{recorded_db}"'})
    result = CliRunner().invoke(cli, ["--config", str(config), "line", "--date", "2026-03-17", "--write"],
                                catch_exceptions=False)
    assert (result.exit_code, result.output) == (1, f"Error: {tmp_path / 'charts' / 'latest'}: Not a directory\n")


def test_a_full_disk_under_an_export_is_one_line(recorded_db):
    done = subprocess.run([str(Path(sys.executable).with_name("ticker")), "--db", str(recorded_db), "export"],
                          stdout=open("/dev/full", "w"), stderr=subprocess.PIPE, text=True, timeout=60)
    assert (done.returncode, done.stderr) == (1, "Error: No space left on device\n")


# -- status counts every missing day; line --write goes only forward; fetch without monthly records ---


def usd_history(tmp_path, nbrb, since: str, *spans) -> Path:
    """A database of USD for each (first, last) of `spans`, by the real backfill, track.since `since`."""
    config = write_config(tmp_path, nbrb.url, track={"currencies": '["USD"]', "since": since})
    with minsk("2024-12-24 18:51"):
        for first, last in spans:
            run("--config", str(config), "backfill", "--since", first, "--until", last)
    return config


def test_status_is_incomplete_with_a_month_missing_in_the_middle_of_a_history(tmp_path, nbrb):
    config = usd_history(tmp_path, nbrb, "2024-01-01", ("2024-01-01", "2024-05-31"), ("2024-07-01", "2024-12-24"))
    with minsk("2024-12-24 18:51"):  # the recordings' last USD day: nothing is stale
        out = run("--config", str(config), "status", code=1)
        data = json.loads(run("--config", str(config), "status", "--json", code=1))
        assert out.splitlines()[0] == "incomplete: USD lacks 30 days (2024-06-01..2024-06-30); `ticker backfill` fills them"
        assert "USD  329    2024-01-01  2024-12-24  30" in out
        assert (data["ok"], data["stale"]) == (False, [])
        assert [(c["code"], c["missing"], c["gaps"]) for c in data["currencies"]] == [
            ("USD", 30, [["2024-06-01", "2024-06-30"]])]
        # The command the verdict names fills the hole (to the recordings' end: the fake knows later days).
        assert run("--config", str(config), "backfill", "--until", "2024-12-24") == "USD  30 new, 0 revised\n"
        assert run("--config", str(config), "status").splitlines()[0] == "up to date: 1 currencies through 2024-12-24"


@pytest.mark.parametrize("since, first, days", [
    ("2023-01-01", "2023-01-01", 365),
    ("1990-06-01", "1991-01-01", 12053),  # counted from NBRB's first USD day (its catalogue says 1991-01-01)
])
def test_status_is_incomplete_with_the_first_years_missing(tmp_path, nbrb, since, first, days):
    config = usd_history(tmp_path, nbrb, since, ("2024-01-01", "2024-12-24"))
    with minsk("2024-12-24 18:51"):
        out = run("--config", str(config), "status", code=1)
    assert out.splitlines()[0] == (f"incomplete: USD lacks {days} days ({first}..2023-12-31); `ticker backfill` fills"
                                   " them")
    assert (date(2024, 1, 1) - date.fromisoformat(first)).days == days
    assert f"missing days since {since}" in out


def test_line_write_of_yesterday_leaves_latest_alone_and_says_so(recorded_db, tmp_path):
    config = write_config(tmp_path, "http://127.0.0.1:9", database={"path": f'"{recorded_db}"'})
    latest = tmp_path / "charts" / "latest"
    with minsk("2026-03-17 18:51"):
        # latest/ as a real folder (ticker files before any chart), then as the chart's set.
        for make in (["line", "--write"], ["chart", "--currency", "USD", "--days", "7"]):
            run("--config", str(config), *make)
            before = {p.name: p.read_bytes() for p in latest.iterdir()}
            assert json.loads(before["ticker.json"])["date"] == "2026-03-17"
            result = CliRunner().invoke(cli, ["--config", str(config), "line", "--date", "yesterday", "--write"],
                                        catch_exceptions=False)
            assert result.exit_code == 0
            assert result.stdout == run("--config", str(config), "line", "--date", "2026-03-16")
            assert result.stderr == (f"{latest} keeps a later day's set (2026-03-17): the ticker files of 2026-03-16"
                                     " were not written\n")
            assert {p.name: p.read_bytes() for p in latest.iterdir()} == before
        assert latest.is_symlink()


def test_fetch_with_a_catalogue_without_monthly_currencies_stores_usd_and_exits_0(tmp_path, nbrb):
    nbrb.catalogue = [r for r in nbrb.catalogue if r["Cur_Periodicity"] == 0]
    config = write_config(tmp_path, nbrb.url, track={"currencies": '["USD"]'})
    with minsk("2026-03-17 18:51"):
        result = CliRunner().invoke(cli, ["--config", str(config), "fetch", "--date", "2026-03-17"],
                                    catch_exceptions=False)
    assert (result.exit_code, result.stdout, result.stderr) == (0, "2026-03-17  1 USD = 2.9463 BYN  new\n", "")
