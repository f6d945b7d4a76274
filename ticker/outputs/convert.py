"""Amounts at the official rates of a day: exact decimals, scale-aware, cross rates through BYN."""

from dataclasses import dataclass
from datetime import date
from decimal import Context, Decimal, InvalidOperation, localcontext

from ..model import PER_BYN, Rate, round_half_up
from . import hints

# The roubles themselves need no rate: BYN, and the old BYR and BYB at their fixed redenomination factors.
ROUBLES = PER_BYN
DIGITS = 60  # significant digits a cross rate's quotient is carried to, beyond the amount's whole digits
# Amounts a person can mean: up to 100 digits before the point and 100 after. Anything bigger would
# print a number of thousands of digits, or millions, and take as long.
MAX_DIGITS = 100
PRECISION = (0, 8)  # decimals a result may be rounded to


def amount(value) -> Decimal:
    """An amount as given (a str, int, Decimal, or float taken as written: 0.1 is 0.1), checked;
    ValueError saying why it cannot be converted. -0 is 0."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float, Decimal)):
        raise ValueError(f"expected a number, got {value!r}")
    try:
        number = Decimal(str(value)) if isinstance(value, float) else Decimal(value.strip() if isinstance(value, str) else value)
    except (InvalidOperation, ValueError):
        raise ValueError(f"{value!r} is not an amount like 100 or -1250.50") from None
    if not number.is_finite():
        raise ValueError(f"expected a finite amount, got {value!r}")
    if number and number.adjusted() >= MAX_DIGITS:
        raise ValueError(f"{value!r} has more than {MAX_DIGITS} digits before the point")
    if number.as_tuple().exponent < -MAX_DIGITS:
        raise ValueError(f"{value!r} has more than {MAX_DIGITS} digits after the point")
    return number.copy_abs() if number.is_zero() else number


def precision(value) -> int | None:
    """Decimals to round to, 0 to 8, or None for unrounded; ValueError otherwise."""
    low, high = PRECISION
    if value is None or (isinstance(value, int) and not isinstance(value, bool) and low <= value <= high):
        return value
    raise ValueError(f"expected a whole number from {low} to {high}, or None, got {value!r}")


@dataclass(frozen=True)
class Conversion:
    """`amount` of `source` in `target` on `day`; `value` is unrounded, `rates` are the rates used."""

    amount: Decimal
    source: str
    target: str
    day: date
    rates: tuple[Rate, ...]
    value: Decimal

    def rounded(self, precision: int = 2) -> Decimal:
        """Money rounding: half up (3.145 -> 3.15), as in accounting, not Python's half even."""
        return round_half_up(self.value, precision)

    def text(self, precision: int = 2) -> str:
        """`100 USD = 319.49 BYN  (2024-01-10: 1 USD = 3.1949 BYN)`, naming every rate used (and the
        day a monthly one was set: `10 BRL = 5.6123 BYN set monthly on 2022-07-01`)."""
        used = [f"{q.scale} {q.code} = {q.rate} {q.unit}" + (f" set monthly on {q.date}" if q.periodicity else "")
                for q in self.rates]
        old = [unit for unit in ("BYR", "BYB") if unit in {q.unit for q in self.rates} | {self.source, self.target}]
        # A rate published in BYR or BYB is turned into BYN (or back) at the redenomination factor: say so.
        rates = f"{self.day}: {', '.join(used)}" if used else f"{self.day}"
        rates += "".join(f"; redenominated at {PER_BYN[unit]} {unit} = 1 BYN" for unit in old)
        return f"{self.amount:f} {self.source} = {self.rounded(precision):f} {self.target}  ({rates})"


def convert(conn, amount: Decimal, source: str, target: str, day: date) -> Conversion:
    """Convert at the rates in force on `day` (see `at_rates`); NoData (one line) for an unknown
    code or a missing day."""
    rates = tuple(hints.rate(conn, code, day) for code in dict.fromkeys((source, target)) if code not in ROUBLES)
    return at_rates(amount, source, target, day, rates)


def at_rates(amount: Decimal, source: str, target: str, day: date, rates: tuple[Rate, ...]) -> Conversion:
    """Convert at `rates`, those of `day` of `source` and `target` (the roubles need none).

    `amount` is a checked one (see `amount`). The product is exact; the quotient by a cross rate
    is carried to DIGITS significant digits past the result's whole digits, so that rounding it to
    8 decimals is exact at any size.
    """
    per_unit = {q.code: q.byn_per_unit for q in rates}
    numerator = Context(prec=len(amount.as_tuple().digits) + 40).multiply(amount, _byn(source, per_unit))
    denominator = _byn(target, per_unit)
    with localcontext() as exact:
        exact.prec = DIGITS + max(0, numerator.adjusted() - denominator.adjusted() + 1)
        value = numerator / denominator
    return Conversion(amount, source, target, day, rates, value)


def _byn(code: str, per_unit: dict[str, Decimal]) -> Decimal:
    """BYN per one unit of `code`."""
    return Decimal(1) / ROUBLES[code] if code in ROUBLES else per_unit[code]
