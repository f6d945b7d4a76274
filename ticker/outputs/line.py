"""The header line: `RUB 3.67 BYN ▲ · USD 2.95 BYN ▼ · EUR 3.37 BYN ▲`, and its exact JSON."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from ..model import PER_BYN, Rate, round_half_up
from ..store import reader

MARKS = {"up": "▲", "down": "▼", "none": ""}


@dataclass(frozen=True)
class Item:
    quote: Rate
    previous: Rate | None

    @property
    def previous_rate(self) -> Decimal | None:
        """The previous distinct rate, in this quote's scale and unit (exact when those agree)."""
        p, q = self.previous, self.quote
        if p is None:
            return None
        if (p.scale, p.unit) == (q.scale, q.unit):
            return p.rate
        return round_half_up(p.byn_per_unit * q.scale * PER_BYN[q.unit], 6)

    @property
    def change(self) -> Decimal | None:
        return None if self.previous is None else self.quote.rate - self.previous_rate

    @property
    def direction(self) -> str:
        if self.change is None:
            return "none"
        return "up" if self.change > 0 else "down"


def items(conn, codes, day: date) -> list[Item]:
    """Each code's rate in force on `day` beside its previous distinct rate."""
    quotes = [reader.rate(conn, code, day) for code in codes]
    return [Item(q, reader.previous(conn, q)) for q in quotes]


def text(line: list[Item], precision: int = 2) -> str:
    parts = []
    for item in line:
        q = item.quote
        mark = MARKS[item.direction]
        parts.append(f"{q.code} {round_half_up(q.rate, precision)} {q.unit}" + (f" {mark}" if mark else ""))
    return " · ".join(parts)


def as_json(line: list[Item], day: date, precision: int = 2) -> dict:
    """Exact values as decimal strings, so no reader meets a binary float."""
    return {
        "date": day.isoformat(),
        "line": text(line, precision),
        "currencies": [
            {
                "code": item.quote.code,
                "date": item.quote.date.isoformat(),
                "scale": item.quote.scale,
                "unit": item.quote.unit,
                "rate": str(item.quote.rate),
                "previous": None if item.previous is None else {
                    "date": item.previous.date.isoformat(),
                    "rate": str(item.previous_rate),
                },
                "change": None if item.change is None else str(item.change),
                "change_pct": None if item.change is None else str(round_half_up(100 * item.change / item.previous_rate, 2)),
                "direction": item.direction,
            }
            for item in line
        ],
    }
