"""The Python API: `from ticker import Rates`, exact decimals from the recorded database."""

import subprocess
import sys
from datetime import date
from decimal import Decimal, localcontext

import pytest
from support import minsk
from support.nbrb_data import recorded_rates

from ticker import Rates
from ticker.errors import NoData


@pytest.fixture
def rates(recorded_db):
    with Rates(recorded_db) as opened:
        yield opened


def test_on_is_byn_per_one_unit(rates):
    assert rates.on("USD", date(2024, 1, 10)) == Decimal("3.1949")
    assert rates.on("usd", "2024-01-10") == Decimal("3.1949")
    # Published per 100: one rouble is 3.6709 / 100.
    assert rates.on("RUB", "2026-03-17") == Decimal("0.036709")
    # Published in BYR: 11900.00 BYR is 1.19 BYN.
    assert rates.on("USD", "2015-01-01") == Decimal("1.19")


def test_quote_is_the_row_as_published(rates):
    q = rates.quote("RUB", "2026-03-17")
    assert (q.code, q.date, q.scale, q.rate, q.unit, q.cur_id) == (
        "RUB", date(2026, 3, 17), 100, Decimal("3.6709"), "BYN", 456)
    assert str(rates.quote("USD", "2015-01-01").rate) == "11900.00"


def test_default_day_is_today_in_minsk(rates):
    with minsk("2026-03-17 01:30"):
        assert rates.on("EUR") == Decimal("3.3741")


def test_convert_rounds_half_up_or_not_at_all(rates):
    assert rates.convert(100, "USD", day="2024-01-10") == Decimal("319.49")
    assert rates.convert("1000", "RUB", "BYN", "2026-03-17") == Decimal("36.71")
    assert rates.convert(100, "USD", "EUR", "2024-01-10") == Decimal("91.37")
    exact = rates.convert(100, "USD", "EUR", "2024-01-10", precision=None)
    with localcontext() as wide:
        wide.prec = 80
        assert abs(exact * Decimal("3.4965") - Decimal("319.49")) < Decimal("1e-50")  # 60 digits kept
    # A float is read as written, not as its binary expansion.
    assert rates.convert(0.1, "USD", day="2024-01-10", precision=5) == Decimal("0.31949")


def test_convert_any_size_and_no_negative_zero(rates):
    # 10**30 x 3.1949 / 3.4965 = 913742313742313742313742313742.3137...
    assert rates.convert(10**30, "USD", "EUR", "2024-01-10") == Decimal("913742313742313742313742313742.31")
    assert rates.convert(10**30, "USD", day="2024-01-10") == Decimal("3194900000000000000000000000000.00")
    assert str(rates.convert("-0.001", "USD", day="2024-01-10")) == "0.00"
    assert rates.convert(-100, "USD", day="2024-01-10") == Decimal("-319.49")


@pytest.mark.parametrize("kwargs, message", [
    ({"amount": float("nan")}, "amount: expected a finite amount, got nan"),
    ({"amount": float("-inf")}, "amount: expected a finite amount, got -inf"),
    ({"amount": Decimal("NaN")}, "amount: expected a finite amount, got Decimal('NaN')"),
    ({"amount": "abc"}, "amount: 'abc' is not an amount like 100 or -1250.50"),
    ({"amount": 10**100}, "amount: 1000000000000000000000000000000000000000000000000000000000000000000000000000000000"
                          "0000000000000000000 has more than 100 digits before the point"),
    ({"amount": 1, "precision": -2}, "precision: expected a whole number from 0 to 8, or None, got -2"),
    ({"amount": 1, "precision": 9}, "precision: expected a whole number from 0 to 8, or None, got 9"),
    ({"amount": 1, "precision": 2.0}, "precision: expected a whole number from 0 to 8, or None, got 2.0"),
])
def test_convert_refuses_bad_arguments_naming_them(rates, kwargs, message):
    with pytest.raises(ValueError) as caught:
        rates.convert(source="USD", day="2024-01-10", **kwargs)
    assert str(caught.value) == message


@pytest.mark.parametrize("call, message", [
    (lambda r: r.on("USD", "2026-02-30"),
     "day: expected a date, YYYY-MM-DD, today, tomorrow or yesterday, got '2026-02-30'"),
    (lambda r: r.on("USD", "17.03.2026"),
     "day: expected a date, YYYY-MM-DD, today, tomorrow or yesterday, got '17.03.2026'"),
    (lambda r: r.on("USD", 20260317), "day: expected a date, YYYY-MM-DD, today, tomorrow or yesterday, got 20260317"),
    (lambda r: r.on(None), "code: expected a three-letter currency code, got None"),
    (lambda r: r.quote("US"), "code: expected a three-letter currency code, got 'US'"),
    (lambda r: list(r.series("USD", since="last week")),
     "since: expected a date, YYYY-MM-DD, today, tomorrow or yesterday, got 'last week'"),
    (lambda r: r.convert(1, "USD", "€", "2024-01-10"), "target: expected a three-letter currency code, got '€'"),
])
def test_arguments_that_cannot_be_meant_are_a_value_error_naming_them(rates, call, message):
    with pytest.raises(ValueError) as caught:
        call(rates)
    assert str(caught.value) == message


def test_days_may_be_words(rates):
    with minsk("2026-03-18 09:00"):
        assert rates.on("USD", "yesterday") == Decimal("2.9463")
        assert list(rates.series("USD", "yesterday", "yesterday")) == [(date(2026, 3, 17), Decimal("2.9463"))]
    with pytest.raises(ValueError, match="since: 2024-01-31 is after until 2024-01-01"):
        rates.series("USD", "2024-01-31", "2024-01-01")


def test_series_matches_the_recorded_january(rates):
    january = list(rates.series("USD", "2024-01-01", date(2024, 1, 31)))
    recorded = sorted((date.fromisoformat(day), Decimal(text)) for (_, day), (code, _, text)
                      in recorded_rates().items() if code == "USD" and day.startswith("2024-01-"))
    assert january == recorded and len(january) == 31
    assert january[4] == (date(2024, 1, 5), Decimal("3.1980"))


def test_series_normalises_across_the_redenomination(rates):
    everything = list(rates.series("USD"))
    assert everything[0] == (date(2015, 1, 1), Decimal("1.19"))
    assert everything[-1] == (date(2026, 3, 17), Decimal("2.9463"))
    assert [d for d, _ in everything] == sorted(d for d, _ in everything)
    assert len(everything) == 1 + 31 + 17


def test_unknown_code_and_missing_day_raise_nodata(rates, tmp_path):
    with pytest.raises(NoData, match=r"no XYZ rates in the database \(it has AED"):
        rates.on("XYZ", "2024-01-10")
    with pytest.raises(NoData, match="no XYZ rates"):
        rates.series("XYZ")
    with pytest.raises(NoData, match="the EUR rate for 2024-01-11 is missing"):
        rates.on("EUR", "2024-01-11")
    with pytest.raises(NoData, match="no database at"):
        Rates(tmp_path / "missing.sqlite")


def test_a_monthly_currency_answers_any_day_of_its_month_with_the_rate_set_that_month(monthly_db):
    with Rates(monthly_db) as rates:
        q = rates.quote("KRW", "2026-03-17")
        assert (q.code, q.date, q.scale, q.rate, q.cur_id, q.periodicity) == (
            "KRW", date(2026, 3, 1), 1000, Decimal("2.1367"), 515, 1)
        assert rates.on("KRW", "2026-03-31") == Decimal("0.0021367")
        assert rates.quote("BRL", "2022-07-31").date == date(2022, 7, 1)  # monthly, then daily from 2022-08-01
        assert rates.quote("BRL", "2026-03-17").periodicity == 0
        # 8.441 BYN / 0.0021367 BYN per won, carried 60 places past the point.
        assert rates.convert(100, "THB", "KRW", "2026-03-17", precision=None) == Decimal(
            "3950.484391819160387513455328310010764262648008611410118406889128")
        # One row a month: the series gives each day a rate was set, and the one in force on `since`.
        assert list(rates.series("KRW", "2026-01-15", "2026-03-17")) == [
            (date(2026, 1, 1), Decimal("0.0021389")), (date(2026, 2, 1), Decimal("0.0021159")),
            (date(2026, 3, 1), Decimal("0.0021367"))]
        with pytest.raises(NoData, match=r"^No data: no KRW rate before 2022-06-01 in the database"):
            rates.on("KRW", "2022-05-31")


def test_import_ticker_stays_cheap():
    code = ("import sys, ticker; loaded = set(sys.modules); from ticker import Rates; "
            "print('ticker.api' in loaded, 'sqlite3' in loaded, Rates.__module__)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out == "False False ticker.api\n"
