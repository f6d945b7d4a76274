"""Amounts at the official rates of a day: exact decimals, scale-aware, cross rates through BYN."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, localcontext

from ..model import PER_BYN, Rate, round_half_up
from ..store import reader

# The roubles themselves need no rate: BYN, and the old BYR and BYB at their fixed redenomination factors.
ROUBLES = PER_BYN


@dataclass(frozen=True)
class Conversion:
    """`amount` of `source` in `target` on `day`; `value` is unrounded, `quotes` are the rates used."""

    amount: Decimal
    source: str
    target: str
    day: date
    quotes: tuple[Rate, ...]
    value: Decimal

    def rounded(self, precision: int = 2) -> Decimal:
        """Money rounding: half up (3.145 -> 3.15), as in accounting, not Python's half even."""
        return round_half_up(self.value, precision)

    def text(self, precision: int = 2) -> str:
        """`100 USD = 319.49 BYN  (2024-01-10: 1 USD = 3.1949 BYN)`, naming every rate used (and the
        day a monthly one was set: `10 BRL = 5.6123 BYN set monthly on 2022-07-01`)."""
        used = [f"{q.scale} {q.code} = {q.rate} {q.unit}" + (f" set monthly on {q.date}" if q.periodicity else "")
                for q in self.quotes]
        old = [unit for unit in ("BYR", "BYB") if unit in {q.unit for q in self.quotes} | {self.source, self.target}]
        # A rate published in BYR or BYB is turned into BYN (or back) at the redenomination factor: say so.
        rates = f"{self.day}: {', '.join(used)}" if used else f"{self.day}"
        rates += "".join(f"; redenominated at {PER_BYN[unit]} {unit} = 1 BYN" for unit in old)
        return f"{self.amount:f} {self.source} = {self.rounded(precision):f} {self.target}  ({rates})"


def convert(conn, amount: Decimal, source: str, target: str, day: date) -> Conversion:
    """Convert at the rates in force on `day`; NoData (one line) for an unknown code or a missing day."""
    quotes = tuple(reader.rate(conn, code, day) for code in dict.fromkeys((source, target)) if code not in ROUBLES)
    per_unit = {q.code: q.byn_per_unit for q in quotes}
    with localcontext() as exact:
        # Wide enough that only the final rounding rounds: a cross rate's quotient is the one inexact step.
        exact.prec = 60
        value = amount * _byn(source, per_unit) / _byn(target, per_unit)
    return Conversion(amount, source, target, day, quotes, value)


def _byn(code: str, per_unit: dict[str, Decimal]) -> Decimal:
    """BYN per one unit of `code`."""
    return Decimal(1) / ROUBLES[code] if code in ROUBLES else per_unit[code]
