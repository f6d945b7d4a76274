"""The header line: `RUB 3.67 BYN ▲ · USD 2.95 BYN ▼ · EUR 3.37 BYN ▲`, and its exact JSON; with bank
rates shown, each item has the city's best buy and sell beside it: `USD 2.95 BYN ▼ (2.93/2.98)`."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from .. import days
from ..model import PER_BYN, Rate, round_half_up
from ..store import reader
from . import hints
from ..store.reader import BankBest, BankRates

MARKS = {"up": "▲", "down": "▼", "none": ""}


@dataclass(frozen=True)
class Item:
    """A rate beside an earlier one (`previous`: the previous distinct rate in the line, the day
    before in the day's table), and the change between them, all exact."""

    current: Rate
    previous: Rate | None

    @property
    def previous_rate(self) -> Decimal | None:
        """The earlier rate in the current rate's scale and unit: exact, as scales and units are powers of ten."""
        p, q = self.previous, self.current
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
        return None if self.previous is None else self.current.rate - self.previous_rate

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
        quotes = [hints.rate(conn, code, day) for code in codes]
    return [Item(q, reader.previous(conn, q)) for q in quotes]


def ahead(conn, day: date) -> list[date]:
    """The days NBRB has already published after `day`, when `day` is today or later in Minsk
    (for an earlier day, the days after it are history, not news): [] when none is stored."""
    return reader.after(conn, day) if day >= days.today() else []


def in_scale(best: BankBest, scale: int) -> Decimal:
    """A best bank rate per `scale` units (the official quote's), exactly: scales are powers of ten."""
    return best.rate if best.scale == scale else (best.rate * scale / best.scale).normalize()


def item_text(item: Item, precision: int = 2, bank: BankRates | None = None) -> str:
    """`USD 2.95 BYN ▲`, and with `bank` the city's best buy and sell in the same units: `(2.93/2.98)`."""
    q = item.current
    mark = MARKS[item.direction]
    text_ = f"{q.code} {round_half_up(q.rate, precision)} {q.unit}" + (f" {mark}" if mark else "")
    if bank and q.unit == "BYN":
        sides = [best and str(round_half_up(in_scale(best, q.scale), precision)) for best in (bank.buy, bank.sell)]
        text_ += f" ({sides[0] or '–'}/{sides[1] or '–'})"
    return text_


def text(line: list[Item], precision: int = 2, banks: dict[str, BankRates] | None = None) -> str:
    """The header line; with `banks` (code -> the city's best bank rates) each item shows them too."""
    return " · ".join(item_text(item, precision, (banks or {}).get(item.current.code)) for item in line)


def as_json(line: list[Item], day: date, precision: int = 2, upcoming: list[tuple[date, list[Item]]] = (),
            banks: dict[str, BankRates] | None = None) -> dict:
    """Exact values as decimal strings, so no reader meets a binary float. `upcoming`: the days
    already published after `day`, each with its line (see `ahead`). With `banks` (the city's best
    bank rates across the banks, see `reader.bank_on_day`), each currency of `day` has `bank`: null when
    none, else the best buy and sell and the banks offering each (`buy_banks`, `sell_banks`)."""
    currencies = [_currency(item) for item in line]
    if banks is not None:
        for entry, item in zip(currencies, line):
            entry["bank"] = _bank(banks.get(item.current.code), item.current)
    return {
        "date": day.isoformat(),
        "line": text(line, precision, banks),
        "currencies": currencies,
        "ahead": [{"date": later.isoformat(), "line": text(found, precision),
                   "currencies": [_currency(item) for item in found]} for later, found in upcoming],
    }


def _bank(rates: BankRates | None, quote: Rate) -> dict | None:
    if rates is None or quote.unit != "BYN":
        return None
    sides = (("buy", rates.buy), ("sell", rates.sell))
    return {"city": rates.city, "as_of": rates.as_of, "scale": quote.scale,
            **{side: best and str(in_scale(best, quote.scale)) for side, best in sides},
            # The source ids of the banks offering each best rate ([] for a side none quotes).
            **{f"{side}_banks": sorted({p.bank for p in best.points}) if best else [] for side, best in sides}}


def _currency(item: Item) -> dict:
    return {
        "code": item.current.code,
        "date": item.current.date.isoformat(),
        "scale": item.current.scale,
        "unit": item.current.unit,
        "rate": str(item.current.rate),
        "previous": None if item.previous is None else {
            "date": item.previous.date.isoformat(),
            "rate": str(item.previous_rate),
        },
        "change": None if item.change is None else str(item.change),
        "change_pct": None if item.change is None else str(item.change_pct),
        "direction": item.direction,
    }
