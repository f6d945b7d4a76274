"""The Python API for scripts: read-only, exact decimals, the standard library only.

    from ticker import Rates
    rates = Rates("db/rates.sqlite")
    rates.on("USD", "2024-01-10")                  # Decimal('3.1949'): BYN per ONE dollar
    rates.on("RUB", "2026-03-17")                  # Decimal('0.036709'): per ONE rouble, not per 100
    rates.quote("RUB", "2026-03-17").rate          # Decimal('3.6709'): as published, per `scale` (100)
    rates.convert(100, "USD", "EUR", "2024-01-10")  # Decimal('91.37')
    for day, byn in rates.series("USD", "2024-01-01", "2024-01-31"): ...
"""

from datetime import date
from decimal import Decimal
from pathlib import Path

from . import days
from .model import Rate, per_unit
from .model import code as model_code
from .outputs import convert as conversions
from .outputs import hints
from .store import reader

Day = date | str | None  # a date, "YYYY-MM-DD", "today", "tomorrow", "yesterday", or None for today in Minsk


class Rates:
    """The rates recorded in one database, opened read-only. Errors are ticker.errors.NoData."""

    def __init__(self, path: str | Path = "db/rates.sqlite"):
        self.path = Path(path)
        self._conn = reader.connect(self.path)

    def quote(self, code: str, day: Day = None) -> Rate:
        """The stored row in force on `day`: `rate` in `unit` per `scale` units, exactly as published.
        A monthly currency's (`periodicity` 1) is the one set that month, dated the day it was set."""
        return hints.rate(self._conn, _code(code), _day(day) or days.today())

    def on(self, code: str, day: Day = None) -> Decimal:
        """BYN per ONE unit of `code` in force on `day`: the scale and any BYR/BYB unit divided out."""
        return self.quote(code, day).byn_per_unit

    def series(self, code: str, since: Day = None, until: Day = None):
        """(date, BYN per one unit) for every stored day from `since` to `until` (both optional), in
        order; for a monthly currency, each day a rate was set (and the one in force on `since`).

        ValueError when `since` is after `until`."""
        since, until = _day(since, "since"), _day(until, "until")
        if since and until and since > until:
            raise ValueError(f"since: {since} is after until {until}")
        code = _code(code)
        hints.known(self._conn, [code])
        rows = reader.history(self._conn, [code], since, until)
        return ((date.fromisoformat(d), per_unit(Decimal(text), scale, unit))
                for d, _, scale, text, unit, _, _ in rows)

    def convert(self, amount, source: str, target: str = "BYN", day: Day = None, precision: int | None = 2) -> Decimal:
        """`amount` of `source` in `target` at the rates of `day`, rounded half up to `precision`
        decimals (0 to 8; None: unrounded, 60 significant digits past the whole ones).

        `amount` is an int, str, Decimal or float (taken as written), finite, with at most 100
        digits before and after the point; ValueError names the argument that is not.
        """
        try:
            amount = conversions.amount(amount)
        except ValueError as exc:
            raise ValueError(f"amount: {exc}") from None
        try:
            precision = conversions.precision(precision)
        except ValueError as exc:
            raise ValueError(f"precision: {exc}") from None
        result = conversions.convert(self._conn, amount, _code(source, "source"), _code(target, "target"),
                                     _day(day) or days.today())
        return result.value if precision is None else result.rounded(precision)

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> "Rates":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _day(value: Day, name: str = "day") -> date | None:
    """A date, None, or a string: `YYYY-MM-DD`, `today`, `tomorrow` or `yesterday` (in Minsk);
    ValueError naming the argument for anything else."""
    if value is None or isinstance(value, date):
        return value
    try:
        return days.parse_day(value)
    except (ValueError, TypeError, AttributeError):
        raise ValueError(f"{name}: expected a date, YYYY-MM-DD, today, tomorrow or yesterday, got {value!r}") from None


def _code(value, name: str = "code") -> str:
    try:
        return model_code(value)
    except ValueError as exc:
        raise ValueError(f"{name}: {exc}") from None
