"""index.html: the header line, the day's official table (and the next rates NBRB has set, once
published), and the charts. A static page, no script, readable on a 390 px phone.

Rendered by Jinja2 with autoescaping on (templates/page.html): every value from the data or the
config reaches the page as text, never as markup, and the page's Content-Security-Policy lets no
script run at all. The table is a list of columns: the best bank buy and sell rates of a city are
two more.
"""

import base64
import hashlib
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Callable

from .. import sources
from ..days import minsk, parse_stamp
from ..store.reader import BankBest, BankRates
from . import table as tables
from .line import MARKS, Item, in_scale, item_text

NBSP = "\u00a0"


@dataclass(frozen=True)
class Column:
    title: str
    text: Callable[[tables.Row], str]  # the cell's text (escaped when rendered)
    css: str = ""  # "num" right-aligns; "name" is hidden on narrow screens
    mark: Callable[[tables.Row], str] = lambda r: ""  # a line under the text: a monthly rate's day


def _signed(value) -> str:
    return "" if value is None else f"{value:+f}"


COLUMNS = [
    Column("Currency", lambda r: f"{r.current.scale}{NBSP}{r.current.code}", "code"),
    Column("Name", lambda r: r.name, "name"),
    Column("Rate, BYN", lambda r: f"{r.current.rate}" + ("" if r.current.unit == "BYN" else f"{NBSP}{r.current.unit}"),
           "num", lambda r: r.set_monthly),
    # "abs" gives way on a phone when the bank columns need the room; "%" stays, in the same colour.
    Column("Change", lambda r: f"{MARKS[r.direction]}{NBSP}{_signed(r.change)}".strip(NBSP), "num change abs"),
    Column("%", lambda r: "" if r.change_pct is None else f"{r.change_pct:+}%", "num change"),
]


@dataclass(frozen=True)
class Chart:
    name: str  # file name in latest/
    text: str  # what it shows, for alt
    size: tuple[int, int]  # pixels


@dataclass(frozen=True)
class Banks:
    """The best bank rates of a city the page shows: in the day's table (`table`), and in the
    header line as ticker.txt has them (`line`); code -> BankRates, as the last answer of the day."""

    city: str
    rates: dict[str, BankRates]
    table: bool
    line: bool


def _offering(best: BankBest) -> str:
    """The banks offering a best rate, by their short names."""
    return ", ".join(sorted({sources.get(p.bank).short for p in best.points}))


def _best_banks(banks: Banks) -> set[str]:
    return {_offering(best) for r in banks.rates.values() for best in (r.buy, r.sell) if best}


def _bank_columns(banks: Banks) -> list[Column]:
    """Buy and Sell beside each official rate, in its units: the bank buys the currency from you at the one
    and sells it to you at the other; under each, the bank offering it, unless one bank offers them all
    (the note names it)."""
    named = len(_best_banks(banks)) > 1

    def best_of(r: tables.Row, side: str) -> BankBest | None:
        rates = banks.rates.get(r.current.code)
        best = rates and getattr(rates, side)
        return best if best and r.current.unit == "BYN" else None

    def cell(side: str):
        def show(r: tables.Row) -> str:
            best = best_of(r, side)
            return str(in_scale(best, r.current.scale)) if best else ""
        return show

    def bank(side: str):
        def show(r: tables.Row) -> str:
            best = best_of(r, side)
            return _offering(best) if best and named else ""
        return show

    return [Column("Buy", cell("buy"), "num bank", bank("buy")), Column("Sell", cell("sell"), "num bank", bank("sell"))]


def _bank_note(banks: Banks, day: date) -> str:
    if not banks.rates:
        return f"No bank rates were seen in {banks.city} on {day}."
    as_of = max(r.as_of for r in banks.rates.values())
    shown = parse_stamp(as_of).astimezone(minsk()).strftime("%H:%M")
    offering = _best_banks(banks)
    quoting = sorted({sources.get(bank).short for r in banks.rates.values() for bank in r.banks})
    if len(quoting) == 1:
        best = f"the best {quoting[0]} rates in {banks.city}"
    else:
        whose = f"all {next(iter(offering))}'s" if len(offering) == 1 else "each with the bank offering it under it"
        best = f"the best rates in {banks.city} across {', '.join(quoting)}, {whose},"
    return (f"Buy and Sell: {best} as of {shown} Minsk time, in the same units: the bank buys the currency from"
            " you at the one and sells it to you at the other.")


@cache
def _templates():
    """Jinja2, loaded on first use (only the chart child renders the page), escaping every value."""
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    return Environment(loader=PackageLoader("ticker.outputs", "templates"), undefined=StrictUndefined,
                       autoescape=select_autoescape(["html"]), keep_trailing_newline=True)


def render(day: date, line: list[Item], precision: int, today: tables.Table, ahead: list[tables.Table],
           charts: list[Chart], links: list[str], banks: Banks | None = None) -> str:
    """The page for `day`: `line` (the header line's items), `today` (that day's table), `ahead`
    (the tables of days already published with new rates), `charts` and `links` in latest/; and
    with `banks`, the best bank rates of a city beside the official ones of `day`."""
    from markupsafe import Markup

    shown = banks.rates if banks and banks.line else {}
    columns, note = COLUMNS, ""
    if banks and banks.table:
        columns = COLUMNS + (_bank_columns(banks) if banks.rates else [])
        note = _bank_note(banks, day)
    sections = [_section(today, f"Official rates in force on {day:%A}, {day}", columns, note)]
    sections += [_section(t, f"Published ahead: in force on {t.day:%A}, {t.day}") for t in ahead]
    # The style is ticker's own (no value of the data in it) and allowed by its hash alone.
    style = _templates().get_template("page.css").render(image_width=max((c.size[0] for c in charts), default=1000))
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    return _templates().get_template("page.html").render(
        day=day, line=[_item(item, precision, shown.get(item.current.code)) for item in line], sections=sections,
        charts=charts, links=links, nbsp=NBSP, style=Markup(style), style_hash=f"sha256-{digest}")


def _item(item: Item, precision: int, bank: BankRates | None = None) -> dict:
    """One item of the header line, never broken inside: non-breaking spaces, and nowrap."""
    q = item.current
    title = f"{q.rate} {q.unit} per {q.scale} {q.code}"
    if bank:
        title += "; best bank " + ", ".join(f"{side} {best.rate} per {best.scale} ({_offering(best)})" for side, best
                                            in (("buy", bank.buy), ("sell", bank.sell)) if best) + f" in {bank.city}"
    return {"direction": item.direction, "title": title, "text": item_text(item, precision, bank).replace(" ", NBSP)}


def _section(t: tables.Table, title: str, columns: list[Column] = COLUMNS, note: str = "") -> dict:
    rows = [{"direction": r.direction,
             "cells": [{"css": c.css, "text": c.text(r), "mark": c.mark(r)} for c in columns]} for r in t.rows]
    return {"title": title, "note": note, "columns": columns, "rows": rows, "previous_day": t.previous_day,
            "banks": any("bank" in c.css for c in columns)}
