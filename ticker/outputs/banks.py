"""Bank rates as people read them: the `ticker bank` table and its JSON, from `reader.bank_rates`
(a city's best across the banks) and `reader.bank_elsewhere` (rates tied to no city, shown apart)."""

import json
import sqlite3

from .. import days, sources
from ..errors import NoData, printable, printable_json
from ..model import BANK_WIDE, round_half_up
from ..store import reader
from ..store.reader import BankBest, BankPoint, BankRates

SHOWN = 3  # points listed per side in the table; --json lists every one


def answer(conn: sqlite3.Connection, code: str, city: str, banks=()) -> tuple[BankRates, list[BankRates]]:
    """The best buy and sell rates of `code` in `city` across the banks (or only `banks`, source
    ids), and apart from them each bank's rates that its feed ties to no city (`reader.bank_elsewhere`:
    Alfa-Bank's bank-wide rates, the branches of Belgazprombank and Dabrabyt), which no city's best
    counts. When only the latter quote `code`, the city's sides are None.

    Raises NoData as `reader.bank_rates` does (an unknown city: the cities there are) when there is
    nothing to show at all, or the city is unknown while some bank names cities.
    """
    elsewhere = reader.bank_elsewhere(conn, code, banks)
    try:
        return reader.bank_rates(conn, code, city, banks=banks), elsewhere
    except NoData:
        if not elsewhere or not _known(conn, city):
            raise
    as_of = max(r.as_of for r in elsewhere)
    return BankRates(code, city, as_of, None, None, elsewhere[0].official), elsewhere


def _known(conn: sqlite3.Connection, city: str) -> bool:
    """Whether `city` is one the banks name, or no bank names any (then no name is wrong)."""
    names = [name.casefold() for name in reader.bank_city_names(conn) if name]
    return not names or city.casefold() in names


def _minsk(stamp: str) -> str:
    return days.parse_stamp(stamp).astimezone(days.minsk()).strftime("%Y-%m-%d %H:%M")


def _pct(rates: BankRates, best: BankBest | None) -> str | None:
    pct = rates.vs_official(best)
    return None if pct is None else f"{round_half_up(pct, 2):+}"


def _short(bank: str) -> str:
    return sources.get(bank).short


def place(p: BankPoint) -> str:
    """Where a point is, in the bank's words: "address: label, hours", of what the bank gives."""
    named = ", ".join(part for part in (p.label, p.hours) if part)
    return f"{p.address}: {named}" if p.address else named


def _rows(rates: BankRates, scale: int, elsewhere: bool = False) -> list[list[str]]:
    """The rows of one answer's two sides: side, rate, vs NBRB, points, bank, where (one row a point shown)."""
    rows = []
    for side, best in (("buy", rates.buy), ("sell", rates.sell)):
        if best is None:
            if not elsewhere:
                rows.append([side, "none", "", "", "", f"no point in {rates.city} {side}s {rates.code}"])
            continue
        pct = _pct(rates, best)
        per = f", per {best.scale} {rates.code}" if best.scale != scale else ""
        wide = elsewhere and best.points[0].point_id == BANK_WIDE
        where = [("bank-wide: the feed names no branch" if wide else
                  place(p) + (" (the feed names no city)" if elsewhere else "")) + per for p in best.points[:SHOWN]]
        banks = [_short(p.bank) for p in best.points[:SHOWN]]
        if len(best.points) > SHOWN:
            where.append(f"and {len(best.points) - SHOWN} more (--json lists them all)")
            banks.append("")
        rows.append([side, str(best.rate), f"{pct} %" if pct else "n/a",
                     "bank-wide" if wide else f"{len(best.points)} of {best.quoting}", banks[0], where[0]])
        rows += [["", "", "", "", bank, more] for bank, more in zip(banks[1:], where[1:])]
    return rows


def table(rates: BankRates, elsewhere: list[BankRates] = ()) -> str:
    """The answer to "where do I get the best rate for CODE in CITY now": the best of every bank
    there, which bank and point offers it, and the official rate beside it; then, apart and not
    counted, the rates of `elsewhere` (see `answer`)."""
    quoting = [_short(bank) for bank in rates.banks]
    scale = next((best.scale for r in (rates, *elsewhere) for best in (r.buy, r.sell) if best), 1)
    as_of = max(r.as_of for r in (rates, *elsewhere))
    lines = [f"{rates.code} in {rates.city}: {', '.join(quoting) or 'no bank'}, as of {_minsk(as_of)} Minsk time"
             f" (BYN per {scale} {rates.code})"]
    body: list = _rows(rates, scale)  # rows (lists of cells) and lines between them (text)
    apart = [row for r in elsewhere for row in _rows(r, scale, elsewhere=True)]
    if apart:
        body += [f"Not counted in {rates.city}: rates their feeds tie to no city", *apart]
    official = rates.official
    if official:
        body.append(["NBRB", str(official.rate), "", "", "", f"the official rate in force on {official.date}"
                     + (f", per {official.scale} {rates.code}" if official.scale != scale else "")])
    else:
        day = days.parse_stamp(as_of).astimezone(days.minsk()).date()
        body.append(["NBRB", "none", "", "", "", f"no official {rates.code} rate for {day} in the database;"
                                                 f" run `ticker fetch --date {day}`"])
    header = ["side", "rate", "vs NBRB", "points", "bank", "where"]
    cells = [row for row in [header, *body] if isinstance(row, list)]
    widths = [max(len(row[i]) for row in cells) for i in range(5)]
    for row in [header, *body]:
        lines.append(row if isinstance(row, str) else
                     "  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[5])
    lines.append(f"buy: the bank buys {rates.code} from you (the highest rate is best); "
                 f"sell: it sells you {rates.code} (the lowest is best).")
    if any(best and not best.checked for r in (rates, *elsewhere) for best in (r.buy, r.sell)):
        lines.append("Scale unchecked: there was no official rate in the database to check it against.")
    # Points' names, addresses and hours are the bank's text: control characters never reach the terminal.
    return printable("\n".join(line.rstrip() for line in lines), keep_newlines=True) + "\n"


def _side(rates: BankRates, best: BankBest | None):
    if best is None:
        return None
    return {
        "rate": str(best.rate), "scale": best.scale, "vs_official_pct": _pct(rates, best),
        "checked": best.checked, "quoting": best.quoting,
        "banks": sorted({p.bank for p in best.points}),
        "points": [{"bank": p.bank, "point_id": p.point_id, "label": p.label, "address": p.address,
                    "hours": p.hours, "effective_at": p.effective_at, "since": p.since} for p in best.points],
    }


def _official(rates: BankRates):
    official = rates.official
    return official and {"date": official.date.isoformat(), "rate": str(official.rate),
                         "scale": official.scale, "cur_id": official.cur_id}


def as_json(rates: BankRates, elsewhere: list[BankRates] = ()) -> str:
    """The same as JSON: decimals as strings, every point at the best rates, times in UTC; `banks`
    the source ids of the banks quoting in the city, and `elsewhere` each bank's rates tied to no
    city (`bank_wide` true for a bank's rates for the whole bank), not counted in `buy` and `sell`."""
    return printable_json(json.dumps({
        "code": rates.code, "city": rates.city, "unit": "BYN", "as_of": rates.as_of,
        "official": _official(rates), "banks": list(rates.banks),
        "buy": _side(rates, rates.buy), "sell": _side(rates, rates.sell),
        "elsewhere": [{"bank": r.banks[0], "name": _short(r.banks[0]), "as_of": r.as_of, "official": _official(r),
                       "bank_wide": all(p.point_id == BANK_WIDE for best in (r.buy, r.sell) if best for p in best.points),
                       "buy": _side(r, r.buy), "sell": _side(r, r.sell)} for r in elsewhere],
    }, indent=2, ensure_ascii=False)) + "\n"
