"""index.html: the header line, the day's official table (and the next rates NBRB has set, once
published), and the charts. A static page, no script, readable on a 390 px phone.

The table is a list of columns: the best bank buy and sell rates of a city are two more.
"""

import html
from dataclasses import dataclass
from datetime import date
from typing import Callable

from ..days import minsk, parse_stamp
from ..store.reader import BankRates
from . import table as tables
from .line import MARKS, Item, in_scale, item_text

NBSP = "\u00a0"


@dataclass(frozen=True)
class Column:
    title: str
    cell: Callable[[tables.Row], str]  # the cell's HTML
    css: str = ""  # "num" right-aligns; "name" is hidden on narrow screens


def _signed(value) -> str:
    return "" if value is None else f"{value:+f}"


COLUMNS = [
    Column("Currency", lambda r: f"{r.current.scale}{NBSP}{r.current.code}", "code"),
    Column("Name", lambda r: html.escape(r.name), "name"),
    Column("Rate, BYN", lambda r: f"{r.current.rate}" + ("" if r.current.unit == "BYN" else f"{NBSP}{r.current.unit}")
           + (f' <span class="set">{r.set_monthly}</span>' if r.set_monthly else ""), "num"),
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


def _bank_columns(banks: Banks) -> list[Column]:
    """Buy and Sell beside each official rate, in its units: the bank buys the currency from you at the one
    and sells it to you at the other."""

    def cell(side: str):
        def show(r: tables.Row) -> str:
            rates = banks.rates.get(r.current.code)
            best = rates and getattr(rates, side)
            return str(in_scale(best, r.current.scale)) if best and r.current.unit == "BYN" else ""
        return show

    return [Column("Buy", cell("buy"), "num bank"), Column("Sell", cell("sell"), "num bank")]


def _bank_note(banks: Banks, day: date) -> str:
    if not banks.rates:
        return f"No bank rates were seen in {html.escape(banks.city)} on {day}."
    as_of = max(r.as_of for r in banks.rates.values())
    shown = parse_stamp(as_of).astimezone(minsk()).strftime("%H:%M")
    return (f"Buy and Sell: the best Belarusbank rates in {html.escape(banks.city)} as of {shown} Minsk time, in the"
            " same units: the bank buys the currency from you at the one and sells it to you at the other.")


def render(day: date, line: list[Item], precision: int, today: tables.Table, ahead: list[tables.Table],
           charts: list[Chart], links: list[str], banks: Banks | None = None) -> str:
    """The page for `day`: `line` (the header line's items), `today` (that day's table), `ahead`
    (the tables of days already published with new rates), `charts` and `links` in latest/; and
    with `banks`, the best bank rates of a city beside the official ones of `day`."""
    shown = banks.rates if banks and banks.line else {}
    header = " · ".join(_item(item, precision, shown.get(item.current.code)) for item in line)
    columns, note = COLUMNS, ""
    if banks and banks.table:
        columns = COLUMNS + (_bank_columns(banks) if banks.rates else [])
        note = f'<p class="note">{_bank_note(banks, day)}</p>\n'
    sections = [_table(today, f"Official rates in force on {day:%A}, {day}", columns, note)]
    sections += [_table(t, f"Published ahead: in force on {t.day:%A}, {t.day}") for t in ahead]
    figures = "".join(
        f'<figure><img src="latest/{html.escape(c.name)}" alt="{html.escape(c.text)}" width="{c.size[0]}"'
        f' height="{c.size[1]}" loading="lazy"></figure>\n' for c in charts)
    footer = " · ".join(f'<a href="latest/{name}">{name}</a>' for name in links)
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>BYN exchange rates, {day}</title>
<style>
body {{ font-family: system-ui, sans-serif; color: #1a1a1a; max-width: 1200px; margin: 0 auto; padding: 0.75rem; }}
.line {{ font-size: 1.5rem; font-weight: 600; margin: 0.5rem 0; line-height: 1.4; }}
.item {{ white-space: nowrap; }}
.note, footer, caption {{ color: #666; }}
h2 {{ font-size: 1.15rem; margin: 1.5rem 0 0.5rem; }}
table {{ border-collapse: collapse; width: 100%; max-width: 48rem; font-variant-numeric: tabular-nums; }}
caption {{ text-align: left; padding-bottom: 0.4rem; }}
th, td {{ padding: 0.25rem 0.5rem; border-bottom: 1px solid #e3e3e3; text-align: left; white-space: nowrap; }}
thead th {{ font-weight: 600; color: #444; }}
.num {{ text-align: right; }}
.name {{ white-space: normal; }}
.set {{ display: block; white-space: normal; font-size: 0.8em; color: #666; }}
.bank {{ background: #f4f7fb; }}
.up .change {{ color: #1e7a44; }}
.down .change {{ color: #b8322a; }}
.charts {{ display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 30rem), 1fr)); gap: 1rem; margin-top: 1.5rem; }}
figure {{ margin: 0; }}
img {{ width: 100%; height: auto; max-width: {max((c.size[0] for c in charts), default=1000)}px; display: block; }}
@media (max-width: 40rem) {{
  .name, table.banks .abs {{ display: none; }}
  table {{ font-size: 0.875rem; }}
  th, td {{ padding: 0.25rem 0.25rem; }}
  .line {{ font-size: 1.25rem; }}
}}
</style>
</head>
<body>
<header>
<p class="line">{header}</p>
<p class="note">Official rates of the National Bank of the Republic of Belarus in force on {day}: BYN per the
number of units shown (100{NBSP}RUB), with the change against the day before.</p>
</header>
<main>
{"".join(sections)}<div class="charts">
{figures}</div>
</main>
<footer><p>{footer}</p></footer>
</body>
</html>
"""


def _item(item: Item, precision: int, bank: BankRates | None = None) -> str:
    """One item of the header line, never broken inside: non-breaking spaces, and nowrap."""
    q = item.current
    title = f"{q.rate} {q.unit} per {q.scale} {q.code}"
    if bank:
        title += "; best bank " + ", ".join(f"{side} {best.rate} per {best.scale}" for side, best in (
            ("buy", bank.buy), ("sell", bank.sell)) if best) + f" in {bank.city}"
    return (f'<span class="item {item.direction}" title="{html.escape(title)}">'
            f"{html.escape(item_text(item, precision, bank)).replace(' ', NBSP)}</span>")


def _table(t: tables.Table, title: str, columns: list[Column] = COLUMNS, note: str = "") -> str:
    head = "".join(f'<th scope="col" class="{c.css}">{c.title}</th>' for c in columns)
    rows = "".join(
        f'<tr class="{r.direction}">'
        + "".join(f'<td class="{c.css}">{c.cell(r)}</td>' for c in columns)
        + "</tr>\n" for r in t.rows)
    css = ' class="banks"' if any("bank" in c.css for c in columns) else ""
    return (f'<section>\n<h2>{title}</h2>\n{note}<table{css}>\n'
            f'<caption>Change in BYN and % against {t.previous_day}</caption>\n'
            f"<thead><tr>{head}</tr></thead>\n<tbody>\n{rows}</tbody>\n</table>\n</section>\n")
