"""The model's rule for when a rate is in force: a daily rate on its day, a monthly one to the end of its month."""

from datetime import date

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
