"""Bank rates as people read them: the `ticker bank` table and its JSON, from `reader.bank_rates`."""

import json

from .. import days, sources
from ..errors import printable, printable_json
from ..model import round_half_up
from ..store.reader import BankBest, BankRates

SHOWN = 3  # points listed per side in the table; --json lists every one


def _minsk(stamp: str) -> str:
    return days.parse_stamp(stamp).astimezone(days.minsk()).strftime("%Y-%m-%d %H:%M")


def _pct(rates: BankRates, best: BankBest | None) -> str | None:
    pct = rates.vs_official(best)
    return None if pct is None else f"{round_half_up(pct, 2):+}"


def table(rates: BankRates) -> str:
    """The answer to "where do I get the best rate for CODE in CITY now", with the official rate beside it."""
    banks = sorted({sources.get(p.bank).short for best in (rates.buy, rates.sell) if best for p in best.points})
    scale = next(best.scale for best in (rates.buy, rates.sell) if best)
    lines = [f"{rates.code} in {rates.city}: {', '.join(banks)}, as of {_minsk(rates.as_of)} Minsk time"
             f" (BYN per {scale} {rates.code})"]
    rows = []
    for best in (rates.buy, rates.sell):
        side = "buy" if best is rates.buy else "sell"
        if best is None:
            rows.append([side, "none", "", "", f"no point in {rates.city} {side}s {rates.code}"])
            continue
        pct = _pct(rates, best)
        where = [f"{p.address}: {p.label}, {p.hours}" for p in best.points[:SHOWN]]
        if len(best.points) > SHOWN:
            where.append(f"and {len(best.points) - SHOWN} more (--json lists them all)")
        rows.append([side, str(best.rate), f"{pct} %" if pct else "n/a", f"{len(best.points)} of {best.quoting}",
                     where[0]])
        rows += [["", "", "", "", more] for more in where[1:]]
    official = rates.official
    if official:
        rows.append(["NBRB", str(official.rate), "", "", f"the official rate in force on {official.date}"
                     + (f", per {official.scale} {rates.code}" if official.scale != scale else "")])
    else:
        day = days.parse_stamp(rates.as_of).astimezone(days.minsk()).date()
        rows.append(["NBRB", "none", "", "", f"no official {rates.code} rate for {day} in the database;"
                                             f" run `ticker fetch --date {day}`"])
    header = ["side", "rate", "vs NBRB", "points", "where"]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(4)]
    for row in [header, *rows]:
        lines.append("  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[4])
    lines.append(f"buy: the bank buys {rates.code} from you (the highest rate is best); "
                 f"sell: it sells you {rates.code} (the lowest is best).")
    if any(best and not best.checked for best in (rates.buy, rates.sell)):
        lines.append("Scale unchecked: there was no official rate in the database to check it against.")
    # Points' names, addresses and hours are the bank's text: control characters never reach the terminal.
    return printable("\n".join(line.rstrip() for line in lines), keep_newlines=True) + "\n"


def as_json(rates: BankRates) -> str:
    """The same as JSON: decimals as strings, every point at the best rates, times in UTC."""

    def side(best: BankBest | None):
        if best is None:
            return None
        return {
            "rate": str(best.rate), "scale": best.scale, "vs_official_pct": _pct(rates, best),
            "checked": best.checked, "quoting": best.quoting,
            "points": [{"bank": p.bank, "point_id": p.point_id, "label": p.label, "address": p.address,
                        "hours": p.hours, "effective_at": p.effective_at, "since": p.since} for p in best.points],
        }

    official = rates.official
    return printable_json(json.dumps({
        "code": rates.code, "city": rates.city, "unit": "BYN", "as_of": rates.as_of,
        "official": official and {"date": official.date.isoformat(), "rate": str(official.rate),
                                  "scale": official.scale, "cur_id": official.cur_id},
        "buy": side(rates.buy), "sell": side(rates.sell),
    }, indent=2, ensure_ascii=False)) + "\n"
