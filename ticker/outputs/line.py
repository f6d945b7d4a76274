"""The header line: `RUB 3.67 BYN ▲ · USD 2.95 BYN ▼ · EUR 3.37 BYN ▲`, and its exact JSON."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from .. import days
from ..model import PER_BYN, Rate, round_half_up
from ..store import reader

MARKS = {"up": "▲", "down": "▼", "none": ""}


@dataclass(frozen=True)
class Item:
    """A rate beside an earlier one (`previous`: the previous distinct rate in the line, the day
    before in the day's table), and the change between them, all exact."""

    quote: Rate
    previous: Rate | None

    @property
    def previous_rate(self) -> Decimal | None:
        """The earlier rate in this quote's scale and unit: exact, as scales and units are powers of ten."""
        p, q = self.previous, self.quote
        if p is None:
            return None
        if (p.scale, p.unit) == (q.scale, q.unit):
            return p.rate
        value = p.byn_per_unit * q.scale * PER_BYN[q.unit]
        tidy = value.quantize(q.rate)  # 0.7000 per 10 is 7.0000 per 100, written as q's rate is
        return tidy if tidy == value else value.normalize()

    @property
    def change(self) -> Decimal | None:
        """`unit` per `scale`; 0 when only the scale changed (0.7000 per 10, then 7.0000 per 100)."""
        return None if self.previous is None else self.quote.rate - self.previous_rate

    @property
    def change_pct(self) -> Decimal | None:
        """The change in percent of the earlier rate, rounded half up to 2 decimals."""
        return None if self.previous is None else round_half_up(100 * self.change / self.previous_rate, 2)

    @property
    def direction(self) -> str:
        """`up`, `down`, or `none` (no earlier rate, or no change)."""
        if not self.change:
            return "none"
        return "up" if self.change > 0 else "down"


def items(conn, codes, day: date, stored_only: bool = False) -> list[Item]:
    """Each code's rate in force on `day` beside its previous distinct rate; NoData for a code
    without one, or with `stored_only` that code left out."""
    if stored_only:
        quotes = [q for q in (reader.find(conn, code, day) for code in codes) if q is not None]
    else:
        quotes = [reader.rate(conn, code, day) for code in codes]
    return [Item(q, reader.previous(conn, q)) for q in quotes]


def ahead(conn, day: date) -> list[date]:
    """The days NBRB has already published after `day`, when `day` is today or later in Minsk
    (for an earlier day, the days after it are history, not news): [] when none is stored."""
    return reader.after(conn, day) if day >= days.today() else []


def item_text(item: Item, precision: int = 2) -> str:
    q = item.quote
    mark = MARKS[item.direction]
    return f"{q.code} {round_half_up(q.rate, precision)} {q.unit}" + (f" {mark}" if mark else "")


def text(line: list[Item], precision: int = 2) -> str:
    return " · ".join(item_text(item, precision) for item in line)


def as_json(line: list[Item], day: date, precision: int = 2, upcoming: list[tuple[date, list[Item]]] = ()) -> dict:
    """Exact values as decimal strings, so no reader meets a binary float. `upcoming`: the days
    already published after `day`, each with its line (see `ahead`)."""
    return {
        "date": day.isoformat(),
        "line": text(line, precision),
        "currencies": [_currency(item) for item in line],
        "ahead": [{"date": later.isoformat(), "line": text(found, precision),
                   "currencies": [_currency(item) for item in found]} for later, found in upcoming],
    }


def _currency(item: Item) -> dict:
    return {
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
        "change_pct": None if item.change is None else str(item.change_pct),
        "direction": item.direction,
    }
