"""The official table of a day, as NBRB and the news sites show it: every stored currency with its
scale, rate and unit, and the change against the day before in BYN and percent, all exact."""

import csv
from dataclasses import dataclass
from datetime import date, timedelta

from ..errors import NoData, printable
from ..model import MONTHLY
from ..store import reader
from . import export, hints
from .line import MARKS, Item, ahead


@dataclass(frozen=True)
class Row(Item):
    """One currency's line: `quote` beside `previous`, the rate in force the day before (None when
    that day is not stored), and the currency's name in NBRB's catalogue."""

    name: str = ""

    @property
    def set_monthly(self) -> str:
        """A monthly rate says so, and the day NBRB set it (it is in force to the end of that
        month): "set monthly on 2026-03-01"; "" for a daily rate."""
        return f"set monthly on {self.current.date}" if self.current.periodicity == MONTHLY else ""


@dataclass(frozen=True)
class Table:
    day: date
    rows: list[Row]
    ahead: list[date]  # days already published after `day` (see line.ahead)

    @property
    def previous_day(self) -> date:
        return self.day - timedelta(days=1)


def build(conn, day: date) -> Table:
    """Every currency stored for `day`, in code order; NoData saying why when none is."""
    quotes = reader.on_day(conn, day)
    if not any(q.periodicity != MONTHLY for q in quotes):  # a month's rates alone are no day's table
        raise NoData(hints.missing_day(conn, day))
    before = {q.code: q for q in reader.on_day(conn, day - timedelta(days=1))}
    names = reader.names(conn, [q.cur_id for q in quotes])
    rows = [Row(q, before.get(q.code), names.get(q.cur_id, "")) for q in quotes]
    return Table(day, rows, ahead(conn, day))


def _signed(value) -> str:
    return "" if value is None else f"{value:+f}"


def text(table: Table) -> str:
    """A fixed-width table for a terminal (NBRB's names with any control character neutralised)."""
    head = f"Official NBRB rates in force on {table.day:%Y-%m-%d (%A)}, change against {table.previous_day}"
    cells = [(f"{r.current.scale} {r.current.code}", r.name, f"{r.current.rate} {r.current.unit}",
              f"{MARKS[r.direction] or ' '} {_signed(r.change)}".rstrip(),
              "" if r.change_pct is None else f"{r.change_pct:+}%", r.set_monthly) for r in table.rows]
    titles = ("currency", "name", "rate", "change", "%", "")
    align = (str.rjust, str.ljust, str.rjust, str.ljust, str.rjust, str.ljust)
    if not any(r.name for r in table.rows):  # a database filled without NBRB's catalogue
        titles, align, cells = titles[:1] + titles[2:], align[:1] + align[2:], [c[:1] + c[2:] for c in cells]
    widths = [max(len(row[n]) for row in [titles, *cells]) for n in range(len(titles))]
    lines = [head, ""] + ["  ".join(a(cell, w) for a, cell, w in zip(align, row, widths)).rstrip()
                          for row in [titles, *cells]]
    if table.ahead:
        later = ", ".join(d.isoformat() for d in table.ahead)
        lines += ["", f"Published ahead: {later} (`ticker table --date {table.ahead[0]}`)"]
    return printable("\n".join(lines), keep_newlines=True) + "\n"


FIELDS = ("date", "code", "name", "scale", "rate", "unit", "cur_id", "previous_rate", "change", "change_pct",
          "direction", "periodicity", "set_on")


def _record(table: Table, r: Row) -> tuple:
    return (table.day.isoformat(), r.current.code, r.name, r.current.scale, str(r.current.rate), r.current.unit,
            r.current.cur_id, _str(r.previous_rate), _str(r.change), _str(r.change_pct), r.direction,
            r.current.periodicity, r.current.date.isoformat())


def _str(value) -> str | None:
    return None if value is None else str(value)


def as_json(table: Table) -> dict:
    """Decimals as strings; `previous_rate` is the day before's rate in this day's scale."""
    return {
        "date": table.day.isoformat(),
        "previous_date": table.previous_day.isoformat(),
        "currencies": [dict(zip(FIELDS[1:], _record(table, r)[1:])) for r in table.rows],
        "ahead": [d.isoformat() for d in table.ahead],
    }


def write_csv(table: Table, out, spreadsheet: bool = False) -> None:
    """CSV (RFC 4180, as `ticker export`), or for a spreadsheet: semicolons, decimal commas, a BOM."""
    writer = export.spreadsheet(out) if spreadsheet else csv.writer(out)
    writer.writerow(FIELDS)
    for r in table.rows:
        record = _record(table, r)
        if spreadsheet:
            record = tuple(export.decimal_comma(v) if n in (4, 7, 8, 9) else v for n, v in enumerate(record))
        writer.writerow(record)
