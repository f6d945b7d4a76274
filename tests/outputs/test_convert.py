"""Conversions (ticker/outputs/convert.py): the arithmetic and the line on rates built in memory from
the recorded data, checked against sums done by hand; then `ticker convert` on a database filled
from the recorded data, end to end."""

import subprocess
import sys
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, localcontext

import pytest
from click.testing import CliRunner
from support import frozen_clock, minsk
from support.nbrb_data import recorded_rates
from support.series import monthly, rate

from ticker.cli import cli
from ticker.outputs.convert import ROUBLES, at_rates
from ticker.outputs.convert import amount as checked


def published(code, day):
    """The recorded rate text and scale, straight from the CSVs in shared/nbrb."""
    [(scale, text)] = {(s, t) for (_, d), (c, s, t) in recorded_rates().items() if (c, d) == (code, day)}
    return scale, text


def convert(db, *args, code=0):
    result = CliRunner().invoke(cli, ["--db", str(db), "convert", *args], catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result.output


# -- in memory: the rates of the day, no database ---------------------------------------------------


def conversion(value: str, source: str, target: str, day: str):
    """`value` of `source` in `target` at the recorded rates of `day`, as `ticker convert` takes them."""
    rates = tuple(rate(code, day) for code in dict.fromkeys((source, target)) if code not in ROUBLES)
    return at_rates(checked(value), source, target, date.fromisoformat(day), rates)


def test_rub_uses_the_per_100_scale():
    # 1000 RUB = 10 x 3.6709 = 36.709 exactly, rounded to 36.71
    assert published("RUB", "2026-03-17") == (100, "3.6709")
    done = conversion("1000", "RUB", "BYN", "2026-03-17")
    assert done.value == Decimal(1000) * Decimal("3.6709") / 100 == Decimal("36.709")
    assert done.rounded(3) == Decimal("36.709")
    assert done.text() == "1000 RUB = 36.71 BYN  (2026-03-17: 100 RUB = 3.6709 BYN)"


def test_byn_to_a_scaled_currency():
    # 100 / 0.036709 = 2724.1276...
    done = conversion("100", "BYN", "RUB", "2026-03-17")
    with localcontext() as wide:
        wide.prec = 80
        by_hand = (Decimal(100) / (Decimal("3.6709") / 100)).quantize(Decimal("1e-4"), ROUND_HALF_UP)
    assert by_hand == Decimal("2724.1276")
    assert done.text(4) == f"100 BYN = {by_hand} RUB  (2026-03-17: 100 RUB = 3.6709 BYN)"


def test_cross_rate_goes_through_byn():
    # 100 x 3.1949 / 3.4965 = 91.3742...
    assert published("EUR", "2024-01-10") == (1, "3.4965")
    done = conversion("100", "USD", "EUR", "2024-01-10")
    assert done.text() == "100 USD = 91.37 EUR  (2024-01-10: 1 USD = 3.1949 BYN, 1 EUR = 3.4965 BYN)"
    with localcontext() as wide:
        wide.prec = 80
        assert abs(done.value * Decimal("3.4965") - Decimal("319.49")) < Decimal("1e-50")  # 60 digits kept
    # and back: 91.37 x 3.4965 / 3.1949 = 99.9957...
    assert conversion("91.37", "EUR", "USD", "2024-01-10").text().startswith("91.37 EUR = 100.00 USD")


def test_money_rounds_half_up():
    # 1 EUR = 3.4965 exactly: a tie at 3 decimals goes up (half even would give 3.496).
    done = conversion("1", "EUR", "BYN", "2024-01-10")
    assert done.text(3).startswith("1 EUR = 3.497 BYN")
    assert done.text(0).startswith("1 EUR = 3 BYN")
    # -0.001 x 3.1949 = -0.0031949: rounds to zero, written 0.00, not -0.00
    assert conversion("-0.001", "USD", "BYN", "2024-01-10").text().startswith("-0.001 USD = 0.00 BYN")


def test_before_the_redenomination_gives_new_roubles_and_says_so():
    # 2015-01-01: 1 USD = 11900.00 BYR; 100 USD = 1,190,000 BYR = 119.00 BYN at 10,000 BYR per BYN
    assert published("USD", "2015-01-01") == (1, "11900.00")
    assert conversion("100", "USD", "BYN", "2015-01-01").text() == (
        "100 USD = 119.00 BYN  (2015-01-01: 1 USD = 11900.00 BYR; redenominated at 10000 BYR = 1 BYN)")
    # Old roubles are accepted too: 1,190,000 BYR bought 100 USD that day.
    assert conversion("1190000", "BYR", "USD", "2015-01-01").text().startswith(
        "1190000 BYR = 100.00 USD  (2015-01-01: 1 USD = 11900.00 BYR;")


def test_a_monthly_rate_names_the_day_it_was_set():
    krw = monthly("KRW", "2026-03-01")  # made up (support.nbrb_data.monthly_rates), in force all March
    done = at_rates(checked("1000"), "KRW", "BYN", date(2026, 3, 10), (krw,))
    assert done.value == Decimal(1000) * krw.rate / 1000
    assert done.text() == f"1000 KRW = {done.rounded(2)} BYN  (2026-03-10: 1000 KRW = {krw.rate} BYN set monthly on 2026-03-01)"
    assert done.rounded(2) == Decimal("2.14")


def test_amounts_of_any_size_convert_exactly():
    # 1e26 x 3.1949 = 3.1949e26: 27 digits and 2 decimals, beyond the 28 digits of Decimal's default context.
    assert conversion("1e26", "USD", "BYN", "2024-01-10").text() == (
        "100000000000000000000000000 USD = 319490000000000000000000000.00 BYN  (2024-01-10: 1 USD = 3.1949 BYN)")
    # 1e21 x 3.1949 / 3.4965 = 913742313742313742313.742313742313... (the quotient repeats "742313")
    assert conversion("1e21", "USD", "EUR", "2024-01-10").text(8).startswith(
        "1000000000000000000000 USD = 913742313742313742313.74231374 EUR")
    # The largest amount accepted: 100 nines; in BYR at 11900.00 BYR per dollar that is amount / 11900 dollars.
    nines = "9" * 100
    value = conversion(nines, "BYR", "USD", "2015-01-01").rounded(8)
    with localcontext() as wide:
        wide.prec = 200
        assert value == (Decimal(nines) / 11900).quantize(Decimal("1e-8"), ROUND_HALF_UP)
    assert len(str(value)) == 96 + 1 + 8  # 96 whole digits, the point, 8 decimals


# -- end to end: `ticker convert` on the recorded database -------------------------------------------


def test_100_usd_on_2024_01_10(recorded_db):
    # 100 x 3.1949 = 319.49
    assert published("USD", "2024-01-10") == (1, "3.1949")
    assert convert(recorded_db, "100", "USD", "--date", "2024-01-10") == (
        "100 USD = 319.49 BYN  (2024-01-10: 1 USD = 3.1949 BYN)\n")


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
