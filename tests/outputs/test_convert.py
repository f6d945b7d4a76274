"""`ticker convert` on a database filled from the recorded data, checked against sums done by hand."""

import subprocess
import sys
from decimal import ROUND_HALF_UP, Decimal, localcontext

import pytest
from click.testing import CliRunner
from support import frozen_clock, minsk
from support.nbrb_data import recorded_rates

from ticker.cli import cli


def published(code, day):
    """The recorded rate text and scale, straight from the CSVs in shared/nbrb."""
    [(scale, text)] = {(s, t) for (_, d), (c, s, t) in recorded_rates().items() if (c, d) == (code, day)}
    return scale, text


def convert(db, *args, code=0):
    result = CliRunner().invoke(cli, ["--db", str(db), "convert", *args], catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result.output


def test_100_usd_on_2024_01_10(recorded_db):
    # 100 x 3.1949 = 319.49
    assert published("USD", "2024-01-10") == (1, "3.1949")
    assert convert(recorded_db, "100", "USD", "--date", "2024-01-10") == (
        "100 USD = 319.49 BYN  (2024-01-10: 1 USD = 3.1949 BYN)\n")


def test_rub_uses_the_per_100_scale(recorded_db):
    # 1000 RUB = 10 x 3.6709 = 36.709, rounded to 36.71
    assert published("RUB", "2026-03-17") == (100, "3.6709")
    assert convert(recorded_db, "1000", "rub", "--date", "2026-03-17") == (
        "1000 RUB = 36.71 BYN  (2026-03-17: 100 RUB = 3.6709 BYN)\n")


def test_byn_to_a_scaled_currency(recorded_db):
    # 100 / 0.036709 = 2724.1276...
    assert convert(recorded_db, "100", "BYN", "RUB", "--date", "2026-03-17", "--precision", "4") == (
        "100 BYN = 2724.1276 RUB  (2026-03-17: 100 RUB = 3.6709 BYN)\n")


def test_cross_rate_goes_through_byn(recorded_db):
    # 100 x 3.1949 / 3.4965 = 91.3742...
    assert published("EUR", "2024-01-10") == (1, "3.4965")
    assert convert(recorded_db, "100", "USD", "EUR", "--date", "2024-01-10") == (
        "100 USD = 91.37 EUR  (2024-01-10: 1 USD = 3.1949 BYN, 1 EUR = 3.4965 BYN)\n")
    # and back: 91.37 x 3.4965 / 3.1949 = 99.9957...
    assert convert(recorded_db, "91.37", "EUR", "USD", "--date", "2024-01-10").startswith("91.37 EUR = 100.00 USD")


def test_money_rounds_half_up(recorded_db):
    # 1 EUR = 3.4965 exactly: a tie at 3 decimals goes up (half even would give 3.496).
    assert convert(recorded_db, "1", "EUR", "--date", "2024-01-10", "--precision", "3").startswith(
        "1 EUR = 3.497 BYN")
    assert convert(recorded_db, "1", "EUR", "--date", "2024-01-10", "--precision", "0").startswith(
        "1 EUR = 3 BYN")


def test_before_the_redenomination_gives_new_roubles_and_says_so(recorded_db):
    # 2015-01-01: 1 USD = 11900.00 BYR; 100 USD = 1,190,000 BYR = 119.00 BYN at 10,000 BYR per BYN
    assert published("USD", "2015-01-01") == (1, "11900.00")
    assert convert(recorded_db, "100", "USD", "--date", "2015-01-01") == (
        "100 USD = 119.00 BYN  (2015-01-01: 1 USD = 11900.00 BYR; redenominated at 10000 BYR = 1 BYN)\n")
    # Old roubles are accepted too: 1,190,000 BYR bought 100 USD that day.
    assert convert(recorded_db, "1190000", "BYR", "USD", "--date", "2015-01-01").startswith(
        "1190000 BYR = 100.00 USD  (2015-01-01: 1 USD = 11900.00 BYR;")


def test_default_day_is_today_in_minsk(recorded_db):
    # 100 x 2.9463 = 294.63
    assert published("USD", "2026-03-17") == (1, "2.9463")
    with minsk("2026-03-17 18:51"):
        assert convert(recorded_db, "100", "USD") == "100 USD = 294.63 BYN  (2026-03-17: 1 USD = 2.9463 BYN)\n"


@pytest.mark.parametrize("args, message", [
    (["100", "XYZ", "--date", "2024-01-10"], "Error: No data: no XYZ rates in the database (it has AED, "),
    (["100", "USD", "EUR", "--date", "2024-01-11"], "Error: No data: the EUR rate for 2024-01-11 is missing"),
    (["100", "USD", "--date", "2027-01-01"], "Error: No data: the USD rate for 2027-01-01 is not published yet"),
])
def test_unknown_code_or_missing_day_is_one_line(recorded_db, args, message):
    result = subprocess.run([sys.executable, "-m", "ticker", "--db", str(recorded_db), "convert", *args],
                            capture_output=True, text=True, env=frozen_clock("2026-03-17 18:51"), timeout=60)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.startswith(message) and result.stderr.count("\n") == 1


@pytest.mark.parametrize("amount, problem", [
    ("abc", "'abc' is not an amount like 100 or -1250.50"),
    ("1,5", "'1,5' is not an amount like 100 or -1250.50"),
    ("NaN", "expected a finite amount, got 'NaN'"),
    ("-Infinity", "expected a finite amount, got '-Infinity'"),
    ("1e100", "'1e100' has more than 100 digits before the point"),
    ("1e-101", "'1e-101' has more than 100 digits after the point"),
    ("--precison", "no such option: --precison"),
])
def test_bad_amount_is_a_usage_error(recorded_db, amount, problem):
    out = convert(recorded_db, amount, "USD", "--date", "2024-01-10", code=2)
    assert f"Invalid value for 'AMOUNT': {problem}" in out
    assert "Traceback" not in out


def test_no_database_is_one_line(tmp_path):
    out = convert(tmp_path / "none.sqlite", "100", "USD", code=1)
    assert out == f"Error: No data: no database at {(tmp_path / 'none.sqlite').resolve()}; run `ticker backfill` first\n"


def test_amounts_of_any_size_convert_exactly(recorded_db):
    # 1e26 x 3.1949 = 3.1949e26: 27 digits and 2 decimals, beyond the 28 digits of Decimal's default context.
    assert convert(recorded_db, "1e26", "USD", "--date", "2024-01-10") == (
        "100000000000000000000000000 USD = 319490000000000000000000000.00 BYN  (2024-01-10: 1 USD = 3.1949 BYN)\n")
    # 1e21 x 3.1949 / 3.4965 = 913742313742313742313.742313742313... (the quotient repeats "742313")
    assert convert(recorded_db, "1e21", "USD", "EUR", "--date", "2024-01-10", "--precision", "8").startswith(
        "1000000000000000000000 USD = 913742313742313742313.74231374 EUR")
    # The largest amount accepted: 100 nines; in BYR at 11900.00 BYR per dollar that is amount / 11900 dollars.
    nines = "9" * 100
    out = convert(recorded_db, nines, "BYR", "USD", "--date", "2015-01-01", "--precision", "8")
    value = Decimal(out.split(" = ")[1].split()[0])
    with localcontext() as wide:
        wide.prec = 200
        assert value == (Decimal(nines) / 11900).quantize(Decimal("1e-8"), ROUND_HALF_UP)
    assert len(str(value)) == 96 + 1 + 8  # 96 whole digits, the point, 8 decimals


def test_a_mistyped_option_is_named_as_one(recorded_db):
    out = convert(recorded_db, "100", "USD", "--precison", "2", code=2)
    assert "Invalid value for '[TO]': no such option: --precison" in out


def test_negative_amounts_need_no_double_dash_and_give_no_negative_zero(recorded_db):
    assert convert(recorded_db, "-100", "USD", "--date", "2024-01-10") == (
        "-100 USD = -319.49 BYN  (2024-01-10: 1 USD = 3.1949 BYN)\n")
    assert convert(recorded_db, "--date", "2024-01-10", "-100", "USD", "EUR").startswith("-100 USD = -91.37 EUR")
    # -0.001 x 3.1949 = -0.0031949: rounds to zero, written 0.00, not -0.00
    assert convert(recorded_db, "-0.001", "USD", "--date", "2024-01-10").startswith("-0.001 USD = 0.00 BYN")
    assert convert(recorded_db, "-0", "USD", "--date", "2024-01-10").startswith("0 USD = 0.00 BYN")
