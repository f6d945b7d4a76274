"""Exports (ticker/outputs/export.py): every format on rows built in memory from the recorded rates,
parsed back with the formats' own parsers; then `ticker export` on the recorded database, end to
end: compared with the database, atomic --output, flat memory, real ledger, hledger and DuckDB."""

import csv
import io
import json
import os
import re
import sqlite3
import subprocess
import tracemalloc
from datetime import date
from decimal import Decimal

import jsonschema
import pytest
from beancount.parser import parser as beancount_parser
from click.testing import CliRunner
from support import write_config
from support.nbrb_data import catalogue, synthetic_server
from support.series import history

from ticker import config as configuration
from ticker.cli import cli
from ticker.errors import DatabaseError
from ticker.outputs import export
from ticker.store import reader

FACTOR = {"BYN": 1, "BYR": 10_000, "BYB": 10_000_000}  # the redenominations, written out again on purpose

DECIMAL = r"^[0-9]+(\.[0-9]+)?$"
RECORD = {
    "type": "object",
    "additionalProperties": False,
    "required": ["date", "code", "scale", "rate", "unit", "cur_id", "byn_per_unit", "periodicity"],
    "properties": {
        "date": {"type": "string", "pattern": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"},
        "code": {"type": "string", "pattern": "^[A-Z]{3}$"},
        "scale": {"type": "integer", "minimum": 1},
        "rate": {"type": "string", "pattern": DECIMAL},
        "unit": {"enum": ["BYN", "BYR", "BYB"]},
        "cur_id": {"type": "integer", "minimum": 1},
        "byn_per_unit": {"type": "string", "pattern": DECIMAL},
        "periodicity": {"enum": [0, 1]},
    },
}
ARRAY = {"type": "array", "items": RECORD}
LEDGER = re.compile(r"^P ([0-9]{4}-[0-9]{2}-[0-9]{2}) ([A-Z]{3}) ([0-9]+(?:\.[0-9]+)?) BYN$")


def run(db, *args, code=0):
    """What `ticker export` writes to stdout (to stderr and stdout for an error)."""
    result = CliRunner().invoke(cli, ["--db", str(db), "export", *args], catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result.stdout if code == 0 else result.output


def stored(db, where="1", args=()):
    """The database's rows as (date, code, scale, rate text, unit, cur_id), in export order."""
    with sqlite3.connect(db) as conn:
        return conn.execute(f"SELECT date, code, scale, rate_text, unit, cur_id FROM rates WHERE {where}"
                            " ORDER BY date, code", args).fetchall()


def per_unit(rows):
    return [(day, code, Decimal(text) / scale / FACTOR[unit]) for day, code, scale, text, unit, _ in rows]


def as_stored(record):
    return (record["date"], record["code"], record["scale"], record["rate"], record["unit"], record["cur_id"])


# -- in memory: the recorded rows as the store streams them, no database ---------------------------


def written(format, rows) -> str:
    """What the exporter writes for `rows` (reader.history's tuples) in `format`."""
    out = io.StringIO(newline="")
    export.FORMATS[format](export._records(iter(rows)), out)
    return out.getvalue()


def as_row(record):
    """An exported record (a dict) as the stored row it came from."""
    return (record["date"], record["code"], record["scale"], record["rate"], record["unit"], record["cur_id"],
            record["periodicity"])


def by_hand(rows):
    """(date, code, BYN per one unit) of each row, divided out here."""
    return [(day, code, Decimal(text) / scale / FACTOR[unit]) for day, code, scale, text, unit, *_ in rows]


def test_each_record_adds_byn_per_one_unit_exactly():
    rows = history()
    records = list(export._records(iter(rows)))
    assert [r[:6] + r[7:] for r in records] == rows  # the row as published, trailing zeros kept
    assert [(r[0], r[1], Decimal(r[6])) for r in records] == by_hand(rows)
    by_key = {(r[0], r[1]): r for r in records}
    assert by_key["2024-01-10", "USD"][3:7] == ("3.1949", "BYN", 431, "3.1949")
    assert by_key["2026-03-17", "RUB"][2:7] == (100, "3.6709", "BYN", 456, "0.036709")  # per 100, divided out
    assert by_key["2015-01-01", "USD"][3:7] == ("11900.00", "BYR", 145, "1.19")  # BYR, divided by 10,000


@pytest.mark.parametrize("text, scale, unit", [("garbage", 100, "BYN"), ("3.19.49", 1, "BYN"), ("3.1949", 1, "BYX"),
                                               ("3.1949", 0, "BYN")])
def test_a_row_that_cannot_be_read_is_a_database_error_naming_it(text, scale, unit):
    rows = [("2024-01-10", "USD", scale, text, unit, 431, 0)]
    with pytest.raises(DatabaseError) as caught:
        list(export._records(iter(rows)))
    assert str(caught.value) == (f"Database error: the rates row USD 2024-01-10 cannot be read: rate_text {text!r},"
                                 f" scale {scale!r}, unit {unit!r}")


def test_csv_round_trip_in_memory():
    rows = history()
    parsed = list(csv.DictReader(io.StringIO(written("csv", rows), newline="")))
    assert list(parsed[0]) == list(export.FIELDS)
    assert [(r["date"], r["code"], int(r["scale"]), r["rate"], r["unit"], int(r["cur_id"]), int(r["periodicity"]))
            for r in parsed] == rows
    assert [(r["date"], r["code"], Decimal(r["byn_per_unit"])) for r in parsed] == by_hand(rows)


def test_json_array_matches_its_schema_and_the_rows():
    rows = history()
    records = json.loads(written("json", rows))
    jsonschema.validate(records, ARRAY)
    assert [as_row(r) for r in records] == rows
    assert written("json", []) == "[]\n"
    [eur] = json.loads(written("json", history(["EUR"], "2026-03-17", "2026-03-17")))
    assert eur == {"date": "2026-03-17", "code": "EUR", "scale": 1, "rate": "3.3741", "unit": "BYN", "cur_id": 451,
                   "byn_per_unit": "3.3741", "periodicity": 0}


def test_ndjson_is_one_valid_object_a_line():
    rows = history(["USD"], "2024-01-01")
    lines = written("ndjson", rows).splitlines()
    assert len(lines) == len(rows)
    check = jsonschema.validators.validator_for(RECORD)(RECORD)  # built once: validate() rebuilds it each call
    for line in lines:
        check.validate(json.loads(line))
    assert [as_row(json.loads(line)) for line in lines] == rows
    assert written("ndjson", []) == ""


def test_beancount_prices_parse_and_are_per_one_unit_in_byn():
    rows = history()
    text = written("beancount", rows)
    entries, errors, _ = beancount_parser.parse_string(text)
    assert errors == []
    assert {type(e).__name__ for e in entries} == {"Price"}
    assert [(e.date.isoformat(), e.currency, e.amount.number) for e in entries] == by_hand(rows)
    assert {e.amount.currency for e in entries} == {"BYN"}
    assert "2024-01-10 price USD 3.1949 BYN\n" in text
    assert "2026-03-17 price RUB 0.036709 BYN\n" in text
    assert "2015-01-01 price USD 1.19 BYN\n" in text  # 11900.00 BYR, normalised so BYN stays one commodity


def test_ledger_price_directives_under_the_commodity_header():
    rows = history(until="2024-12-31")
    lines = written("ledger", rows).splitlines()
    # Two decimals and the code after the number for BYN, else ledger takes its style from the prices.
    assert lines[:3] == ["commodity BYN", "    format 1,000.00 BYN", ""]
    parsed = [LEDGER.match(line) for line in lines[3:]]
    assert all(parsed), [line for line, m in zip(lines[3:], parsed) if not m][:3]
    assert [(m[1], m[2], Decimal(m[3])) for m in parsed] == by_hand(rows)
    assert "P 2024-01-10 USD 3.1949 BYN" in lines
    assert written("ledger", []) == export.LEDGER_COMMODITY


def test_the_spreadsheet_csv_has_a_bom_semicolons_and_decimal_commas():
    rows = history(["RUB", "USD"])
    text = written("spreadsheet", rows)
    assert text.startswith("\ufeffdate;code;scale;rate;unit;cur_id;byn_per_unit;periodicity\r\n")
    assert "2026-03-17;RUB;100;3,6709;BYN;456;0,036709;0\r\n" in text
    assert "2015-01-01;USD;1;11900,00;BYR;145;1,19;0\r\n" in text
    parsed = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""), delimiter=";"))
    assert len(parsed) == len(rows) + 1
    for (day, code, scale, rate, unit, cur_id, byn, periodicity), row, (_, _, per_unit) in zip(
            parsed[1:], rows, by_hand(rows)):
        assert "." not in rate + byn  # the decimal mark is the comma
        assert (day, code, int(scale), rate.replace(",", "."), unit, int(cur_id), int(periodicity)) == row
        assert Decimal(byn.replace(",", ".")) == per_unit


# -- end to end: `ticker export` on the recorded database --------------------------------------------


def test_csv_round_trip(recorded_db):
    rows = list(csv.DictReader(io.StringIO(run(recorded_db))))
    assert list(rows[0]) == ["date", "code", "scale", "rate", "unit", "cur_id", "byn_per_unit", "periodicity"]
    expected = stored(recorded_db)
    assert len(rows) == len(expected) > 500
    assert [(r["date"], r["code"], int(r["scale"]), r["rate"], r["unit"], int(r["cur_id"])) for r in rows] == expected
    assert [Decimal(r["byn_per_unit"]) for r in rows] == [value for *_, value in per_unit(expected)]
    by_key = {(r["date"], r["code"]): r for r in rows}
    # Trailing zeros as published; RUB per 100 divided out; BYR divided by 10,000.
    assert by_key["2026-03-17", "RUB"]["rate"] == "3.6709" and by_key["2026-03-17", "RUB"]["byn_per_unit"] == "0.036709"
    assert (by_key["2015-01-01", "USD"]["rate"], by_key["2015-01-01", "USD"]["unit"]) == ("11900.00", "BYR")
    assert by_key["2015-01-01", "USD"]["byn_per_unit"] == "1.19"


def test_ndjson_one_valid_object_a_line(recorded_db):
    lines = run(recorded_db, "--format", "ndjson", "--currency", "usd", "--since", "2024-01-01").splitlines()
    for line in lines:
        jsonschema.validate(json.loads(line), RECORD)
    assert [as_stored(json.loads(line)) for line in lines] == stored(
        recorded_db, "code = 'USD' AND date >= '2024-01-01'")
    assert len(lines) == 31 + 17  # all of January 2024, 2026-03-01..17


def test_empty_selection_is_an_empty_array(recorded_db):
    assert run(recorded_db, "--format", "json", "--since", "2030-01-01") == "[]\n"
    assert json.loads(run(recorded_db, "--format", "json", "--since", "2026-03-17", "--currency", "EUR")) == [
        {"date": "2026-03-17", "code": "EUR", "scale": 1, "rate": "3.3741", "unit": "BYN", "cur_id": 451,
         "byn_per_unit": "3.3741", "periodicity": 0}]


def test_filters_combine(recorded_db):
    rows = list(csv.reader(io.StringIO(run(recorded_db, "--currency", "RUB", "--currency", "KZT",
                                           "--since", "2026-03-16", "--until", "2026-03-17"))))
    expected = stored(recorded_db, "code IN ('RUB', 'KZT') AND date BETWEEN '2026-03-16' AND '2026-03-17'")
    assert [(d, c, int(s), t, u, int(i)) for d, c, s, t, u, i, _, _ in rows[1:]] == expected
    assert [r[:2] for r in rows[1:]] == [["2026-03-16", "KZT"], ["2026-03-16", "RUB"],
                                         ["2026-03-17", "KZT"], ["2026-03-17", "RUB"]]


def test_output_replaces_the_file_atomically(recorded_db, tmp_path):
    target = tmp_path / "prices.beancount"
    target.write_text("old\n")
    inode = target.stat().st_ino
    assert run(recorded_db, "--format", "beancount", "--currency", "USD", "--output", str(target)) == ""
    assert target.read_text().startswith("2015-01-01 price USD 1.19 BYN\n2024-01-01 price USD ")
    assert target.stat().st_ino != inode
    assert os.listdir(tmp_path) == ["prices.beancount"]


def test_a_failure_leaves_the_old_file(recorded_db, tmp_path):
    (tmp_path / "out").mkdir()
    target = tmp_path / "out" / "rates.csv"
    target.write_text("old\n")
    out = run(recorded_db, "--currency", "XYZ", "--output", str(target), code=1)
    assert out.startswith("Error: No data: no XYZ rates in the database")
    # A failure halfway through the stream: a value the exporter cannot read, near the end.
    broken = tmp_path / "broken.sqlite"
    with sqlite3.connect(recorded_db) as source, sqlite3.connect(broken) as copy:
        source.backup(copy)
        copy.execute("UPDATE rates SET rate_text = 'garbage' WHERE code = 'RUB' AND date = '2026-03-17'")
    for format in export.FORMATS:
        out = run(broken, "--format", format, "--output", str(target), code=1)
        assert out == ("Error: Database error: the rates row RUB 2026-03-17 cannot be read: rate_text 'garbage',"
                       " scale 100, unit 'BYN'\n")
        assert target.read_text() == "old\n"
        assert os.listdir(tmp_path / "out") == ["rates.csv"]
    # The rows already BYN per one unit are checked too, though they skip the decimal arithmetic.
    with sqlite3.connect(broken) as copy:
        copy.execute("UPDATE rates SET rate_text = '3.19.49' WHERE code = 'USD' AND date = '2024-01-10'")
    assert run(broken, "--format", "ledger", "--output", str(target), code=1) == (
        "Error: Database error: the rates row USD 2024-01-10 cannot be read: rate_text '3.19.49', scale 1, unit 'BYN'\n")
    assert target.read_text() == "old\n"


def test_output_into_a_missing_folder_or_to_a_folder_is_a_usage_error_that_writes_nothing(recorded_db, tmp_path):
    out = run(recorded_db, "--output", str(tmp_path / "no" / "rates.csv"), code=2)
    assert out == (f"Error: Invalid value for --output: {tmp_path / 'no' / 'rates.csv'}: there is no folder"
                   f" {tmp_path / 'no'} to write it in\n")
    out = run(recorded_db, "--output", f"{tmp_path / 'missing-folder'}/", code=2)
    assert out == f"Error: Invalid value for --output: {tmp_path / 'missing-folder'}/ is a folder: name the file to write\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_since_after_until_is_refused(recorded_db):
    out = run(recorded_db, "--since", "2025-01-02", "--until", "2025-01-01", code=2)
    assert "Invalid value for --since: 2025-01-02 is after --until 2025-01-01" in out


def test_cli_offers_every_format():
    option = next(p for p in cli.commands["export"].params if p.name == "format_")
    assert sorted(option.type.choices) == sorted(export.FORMATS)


@pytest.fixture(scope="module")
def three_years(tmp_path_factory):
    """Ten currencies, every day of 2021..2023, through the real backfill from the synthetic fake."""
    from ticker.sync.official import Sync

    folder = tmp_path_factory.mktemp("synthetic")
    with synthetic_server(codes=10, since="2021-01-01", until="2023-12-31") as server:
        config = configuration.load(write_config(folder, server.url, track={"currencies": '["*"]'}))
        sync = Sync(config)
        # The currencies the synthetic fake serves: the first ten quoted on its last day.
        codes = [r["Cur_Abbreviation"] for r in catalogue() if r["Cur_Periodicity"] == 0
                 and r["Cur_DateStart"][:10] <= "2023-12-31" <= r["Cur_DateEnd"][:10]][:10]
        sync.backfill(date(2021, 1, 1), date(2023, 12, 31), codes)
        sync.store.close()
    return config.database.path


def traced_export(conn, path, format, since):
    """Export into a file; returns (file size, peak bytes Python allocated meanwhile)."""
    with open(path, "w", encoding="utf-8", newline="") as out:
        tracemalloc.start()
        try:
            export.export(conn, out, format, since=since)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    return path.stat().st_size, peak


@pytest.mark.parametrize("format", sorted(export.FORMATS))
def test_memory_stays_flat_however_long_the_history(three_years, tmp_path, format):
    conn = reader.connect(three_years)
    assert conn.execute("SELECT count(*) FROM rates").fetchone()[0] == 10 * 1095
    month = traced_export(conn, tmp_path / "month", format, date(2023, 12, 1))
    years = traced_export(conn, tmp_path / "years", format, None)
    # 35 times the output, the same memory: one row and the writers' buffers, never the whole history.
    assert years[0] > 35 * month[0]
    assert years[1] < month[1] + 16_384 and years[1] < 256_000, (month, years)


# --- ledger and hledger, the real programs -------------------------------------------------------

BOOK = """include {prices}

2026-03-17 Salary, paid in three currencies
    Assets:Cash    100 USD
    Assets:Cash    1000 RUB
    Assets:Cash    50 EUR
    Income:Salary

2026-03-17 Savings
    Assets:Bank    1500 BYN
    Income:Interest
"""


@pytest.fixture(scope="module")
def book(recorded_db, tmp_path_factory):
    folder = tmp_path_factory.mktemp("ledger")
    run(recorded_db, "--format", "ledger", "--output", str(folder / "prices.ledger"))
    (folder / "book.ledger").write_text(BOOK.format(prices=folder / "prices.ledger"), encoding="utf-8")
    return folder / "book.ledger"


def program(*command) -> str:
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, env={**os.environ, "LC_ALL": "C.UTF-8"})
    assert done.returncode == 0 and done.stderr == "", done.stderr
    return done.stdout


def test_ledger_shows_a_converted_balance_in_byn_with_two_decimals(book):
    # 2026-03-17: 100 x 2.9463 + 1000 x 3.6709 / 100 + 50 x 3.3741 = 294.63 + 36.709 + 168.705 = 500.044 BYN
    out = program("ledger", "-f", str(book), "balance", "Assets:Cash", "--exchange", "BYN", "--now", "2026-03-17")
    assert out.split() == ["500.04", "BYN", "Assets:Cash"]
    # 1500 BYN, written as ledger was told: the code after the number, two decimals, a digit group mark.
    assert program("ledger", "-f", str(book), "balance", "Assets:Bank").split() == ["1,500.00", "BYN", "Assets:Bank"]


def test_hledger_shows_the_same_balance(book):
    out = program("hledger", "-f", str(book), "balance", "Assets:Cash", "--value=then,BYN", "--no-total")
    assert out.split() == ["500.04", "BYN", "Assets:Cash"]
    assert program("hledger", "-f", str(book), "balance", "Assets:Bank", "--no-total").split() == [
        "1,500.00", "BYN", "Assets:Bank"]
    # Every price directive parsed: hledger lists as many market prices as the export has lines.
    prices = program("hledger", "-f", str(book), "prices").splitlines()
    assert len(prices) == len((book.parent / "prices.ledger").read_text().splitlines()) - 3  # the commodity directive
    assert "P 2026-03-17 RUB 0.036709 BYN" in prices


# --- spreadsheets --------------------------------------------------------------------------------


def test_spreadsheet_csv_reads_back_in_a_russian_locale_reader(recorded_db, tmp_path):
    import duckdb

    target = tmp_path / "rates.csv"
    assert run(recorded_db, "--format", "spreadsheet", "--currency", "RUB", "--currency", "USD",
               "--output", str(target)) == ""
    raw = target.read_bytes()
    assert raw.startswith("\ufeffdate;code;scale;rate;unit;cur_id;byn_per_unit;periodicity\r\n".encode())
    # What a spreadsheet set to ru-RU or be-BY does: semicolons, decimal commas, UTF-8 by its BOM.
    # DuckDB's CSV reader, told only that, reads every field back, the decimals exactly.
    read = duckdb.sql(f"SELECT * FROM read_csv('{target}', delim = ';', decimal_separator = ',', header = true,"
                      " types = {'rate': 'DECIMAL(38, 12)', 'byn_per_unit': 'DECIMAL(38, 12)'})")
    assert read.columns == ["date", "code", "scale", "rate", "unit", "cur_id", "byn_per_unit", "periodicity"]
    rows = read.fetchall()
    expected = stored(recorded_db, "code IN ('RUB', 'USD')")
    assert [(d.isoformat(), c, s, r, u, i) for d, c, s, r, u, i, _, _ in rows] == [
        (d, c, s, Decimal(t), u, i) for d, c, s, t, u, i in expected]
    assert [b for *_, b, _ in rows] == [v for *_, v in per_unit(expected)]
    assert (date(2026, 3, 17), "RUB", 100, Decimal("3.6709"), "BYN", 456, Decimal("0.036709"), 0) in rows
    assert "2026-03-17;RUB;100;3,6709;BYN;456;0,036709;0\r\n" in raw.decode("utf-8-sig")


# -- bank rates: `ticker export --bank` -----------------------------------------------------------

BANK_DAYS = {"2026-03-10": "2026-03-10 12:00", "2026-03-12": "2026-03-12 16:00", "2026-03-17": "2026-03-17 12:00"}


def bank_rows(db, *args, code=0):
    """What `ticker export --bank` writes, and its stderr."""
    result = CliRunner().invoke(cli, ["--db", str(db), "export", "--bank", *args], catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result.stdout, result.stderr


def test_bank_csv_has_each_days_last_best_rates_per_city_and_currency(bank_db):
    from support.banks import best_in, history

    answers = dict(history())
    out, err = bank_rows(bank_db, "--city", "минск", "--currency", "USD", "--currency", "RUB")
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == list(export.BANK_FIELDS) == ["date", "city", "code", "scale", "buy", "sell", "buy_byn_per_unit",
                                                   "sell_byn_per_unit", "buy_bank", "sell_bank"]
    expected = []
    for day, at in BANK_DAYS.items():  # the last answer of each day with any
        for code, scale in (("RUB", 100), ("USD", 1)):
            buy, sell = (best_in(answers[at], "Минск", f"{code}_{side}") for side in ("in", "out"))
            expected.append([day, "Минск", code, str(scale), str(buy), str(sell), str((buy / scale).normalize())
                             if scale != 1 else str(buy), str((sell / scale).normalize()) if scale != 1 else str(sell),
                             "belarusbank", "belarusbank"])
    assert rows[1:] == expected and err == ""
    assert expected[3] == ["2026-03-12", "Минск", "USD", "1", "2.0750", "2.0880", "2.0750", "2.0880", "belarusbank",
                           "belarusbank"]
    assert expected[0][4:8] == ["3.2100", "3.2400", "0.0321", "0.0324"]  # RUB per 100, and per one rouble


def test_bank_json_covers_every_city_and_currency_quoted(bank_db):
    from support.banks import history, nonzero

    answers = dict(history())
    records = json.loads(bank_rows(bank_db, "--format", "json")[0])
    expected = 0
    for at in BANK_DAYS.values():
        quoted = {}
        for point in answers[at]:
            quoted.setdefault(point["name"], set()).update(
                key.split("_")[0] for key in nonzero(point) if key.count("_") == 1)
        expected += sum(len(codes) for codes in quoted.values())
    assert len(records) == expected > 1000
    assert [r["city"] for r in records] == sorted(r["city"] for r in records)
    for record in records:
        assert isinstance(record["scale"], int) and all(
            record[k] is None or re.fullmatch(DECIMAL, record[k]) for k in ("buy", "sell", "buy_byn_per_unit"))
    brest = [r for r in records if (r["city"], r["code"], r["date"]) == ("Брест", "EUR", "2026-03-17")]
    assert brest == [{"date": "2026-03-17", "city": "Брест", "code": "EUR", "scale": 1, "buy": "2.2300",
                      "sell": "2.2620", "buy_byn_per_unit": "2.2300", "sell_byn_per_unit": "2.2620",
                      "buy_bank": "belarusbank", "sell_bank": "belarusbank"}]


@pytest.mark.parametrize("args, code, message", [
    (["--format", "ledger"], 2, "Error: Invalid value for --format: --bank exports csv, spreadsheet, json or ndjson:"
                                " a ledger takes one price a day, the official rate"),
    (["--city", "Minsk"], 1, "Error: No data: no bank rates for the city 'Minsk' (cities are named as the bank"
                             " writes them: Минск, "),
])
def test_bank_export_refuses_what_it_cannot_do_in_one_line_and_writes_nothing(bank_db, tmp_path, args, code, message):
    output = tmp_path / "bank.csv"
    out, err = bank_rows(bank_db, *args, "--output", str(output), code=code)
    assert (out + err).splitlines()[-1].startswith(message)
    assert not output.exists()


def test_city_is_for_the_bank_export_and_an_empty_one_says_so(bank_db):
    result = CliRunner().invoke(cli, ["--db", str(bank_db), "export", "--city", "Минск"], catch_exceptions=False)
    assert result.exit_code == 2 and "Invalid value for --city: a city is for bank rates: add --bank" in result.output
    out, err = bank_rows(bank_db, "--city", "Минск", "--since", "2026-03-13", "--until", "2026-03-16")
    assert list(csv.reader(io.StringIO(out))) == [list(export.BANK_FIELDS)]
    assert err == ("Nothing to export: no bank rates in Минск from 2026-03-13 to 2026-03-16 in the database (it has"
                   " 2026-03-10 to 2026-03-17)\n")
