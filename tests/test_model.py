"""The model's rule for when a rate is in force: a daily rate on its day, a monthly one to the end of its month."""

from datetime import date
from decimal import Decimal

from ticker.model import DAILY, MONTHLY, days_in_force, in_force_until, set_from


def test_a_monthly_rate_is_in_force_to_the_end_of_the_month_it_was_set_in():
    assert in_force_until(MONTHLY, date(2024, 2, 1)) == date(2024, 2, 29)  # a leap year
    assert in_force_until(MONTHLY, date(2021, 7, 9)) == date(2021, 7, 31)
    assert in_force_until(MONTHLY, date(2025, 12, 1)) == date(2025, 12, 31)
    assert in_force_until(DAILY, date(2025, 12, 1)) == date(2025, 12, 1)
    assert set_from(MONTHLY, date(2024, 2, 29)) == date(2024, 2, 1) and set_from(DAILY, date(2024, 2, 29)) == date(2024, 2, 29)


def test_the_days_rates_are_in_force():
    assert days_in_force(DAILY, [date(2024, 2, 28), date(2024, 3, 1)]) == {date(2024, 2, 28), date(2024, 3, 1)}
    covered = days_in_force(MONTHLY, [date(2024, 2, 20), date(2024, 3, 1)])
    assert len(covered) == 10 + 31 and min(covered) == date(2024, 2, 20) and max(covered) == date(2024, 3, 31)


def test_the_new_quote_fields_are_optional_and_say_what_the_rate_is_per():
    from ticker.model import BANK_WIDE, CASH, Point, BankRate

    old = BankRate("16", "USD", "EUR", "sell", Decimal("1.0725"), None, 1, True)  # built as before issue 19
    assert (old.channel, old.min_amount, old.max_amount, old.per, old.typical) == (None, None, None, None, True)
    assert old.quoted_per == "EUR"  # Belarusbank's cross sell side: USD per 1 EUR
    assert old._replace(side="buy").quoted_per == "USD"
    stated = BankRate("ЦБУ №501", "EUR", "USD", "sell", Decimal("1.1000"), None, 1, channel=CASH,
                   min_amount=Decimal("10000"), per="EUR")
    assert (stated.quoted_per, stated.typical) == ("EUR", False)
    assert stated._replace(min_amount=Decimal("0")).typical
    point = Point("16", "Брест", "г.", "", "", "", "")
    assert (point.latitude, point.longitude, point.bank_wide) == (None, None, False)
    assert point._replace(id=BANK_WIDE).bank_wide
