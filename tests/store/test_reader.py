"""Reading the store: what the outputs read, on a database the real backfill filled."""

from datetime import date, timedelta
from decimal import Decimal

from support.nbrb_data import monthly_rates

from ticker.store import reader


def test_a_series_fills_each_day_a_monthly_rate_is_in_force(monthly_db):
    krw = monthly_rates()[515]  # KRW's made-up monthly rates (Cur_ID 515), per 1000 won
    series = reader.series(reader.connect(monthly_db), "KRW", date(2026, 2, 20), date(2026, 3, 17))
    # February's rate answers to the end of February, March's from the 1st: never a gap, never a
    # value carried into a month it was not set for.
    expected = [Decimal(krw["2026-02-01" if day.month == 2 else "2026-03-01"])
                for day in (date(2026, 2, 20) + timedelta(days=n) for n in range(26))]
    assert series.scale == 1000 and series.exact == expected
    assert series.values == [float(v) for v in expected]


def test_a_series_leaves_a_month_without_its_monthly_rate_empty(monthly_db):
    series = reader.series(reader.connect(monthly_db), "KRW", date(2026, 3, 20), date(2026, 4, 10))
    assert series.exact[:12] == [Decimal(monthly_rates()[515]["2026-03-01"])] * 12  # to 2026-03-31
    assert series.exact[12:] == [None] * 10  # April's rate is not stored: a gap, not March's
