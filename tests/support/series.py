"""The outputs' inputs built in memory, from the recorded rates: no database, no HTTP (pricehist tests
its outputs on in-memory series).

The rates are `support.recorded()`'s (the CSVs in shared/nbrb, read in place), the monthly ones
`nbrb_data.monthly_rates()`'s (made up: there is no recording) and the bank rates the recorded
Belarusbank answer's. These helpers only gather them into the shapes the outputs take (Item, Row,
Table, reader.Series, reader.BankRates ...); they never work out what an output shows, which each
test does from the inputs.
"""

import math
from datetime import date, timedelta
from decimal import Decimal
from functools import cache

from ticker.model import MONTHLY, Rate
from ticker.outputs.line import Item
from ticker.outputs.table import Row, Table
from ticker.store.reader import BankBest, BankPoint, BankRates, Series

from . import recorded
from .nbrb_data import catalogue, monthly_rates


def day_of(day) -> date:
    return day if isinstance(day, date) else date.fromisoformat(day)


@cache
def _rates() -> dict[tuple[str, date], Rate]:
    return {(q.code, q.date): q for q in recorded()}


def rate(code: str, day) -> Rate:
    """The recorded rate of `code` on `day` (a date or ISO text); KeyError when none is recorded."""
    return _rates()[code, day_of(day)]


def recorded_days(code: str) -> list[date]:
    return sorted(d for c, d in _rates() if c == code)


def previous_distinct(code: str, day) -> Rate | None:
    """The last rate recorded before `day` whose value per unit differs from that day's: what the
    header line compares a rate with."""
    current = rate(code, day)
    earlier = [d for d in recorded_days(code) if d < current.date]
    return next((rate(code, d) for d in reversed(earlier) if rate(code, d).byn_per_unit != current.byn_per_unit), None)


def item(code: str, day) -> Item:
    """A header-line item: the rate of `day` beside its previous distinct rate."""
    return Item(rate(code, day), previous_distinct(code, day))


def name(cur_id: int) -> str:
    """The currency's English name in the catalogue fixture, as the day's table shows it."""
    return next(r["Cur_Name_Eng"] for r in catalogue() if r["Cur_ID"] == cur_id)


def row(code: str, day) -> Row:
    """A line of the day's table: the rate of `day` beside the one recorded the day before (None
    when there is none), with the currency's name."""
    current = rate(code, day)
    before = _rates().get((code, current.date - timedelta(days=1)))
    return Row(current, before, name(current.cur_id))


def table(day, codes, ahead=()) -> Table:
    """The day's table of `codes`, in code order, as `ticker table` builds it."""
    return Table(day_of(day), [row(code, day) for code in sorted(codes)], [day_of(d) for d in ahead])


def monthly(code: str, day) -> Rate:
    """The made-up monthly rate of `code` set on `day` (nbrb_data.monthly_rates), with its scale
    and Cur_ID from the catalogue record valid then."""
    day = day_of(day)
    [record] = [r for r in catalogue() if r["Cur_Abbreviation"] == code and r["Cur_Periodicity"] == MONTHLY
                and r["Cur_DateStart"][:10] <= day.isoformat() <= r["Cur_DateEnd"][:10]]
    text = monthly_rates()[record["Cur_ID"]][day.isoformat()]
    return Rate(code, day, record["Cur_Scale"], Decimal(text), "BYN", record["Cur_ID"], MONTHLY)


def series(code: str, first, last, on=None) -> Series:
    """`code` on every calendar day from `first` to `last` as the charts take it: the rate recorded
    that day (only on the days in `on`, when given) in BYN per the scale of the last such day,
    exactly, None (NaN among the floats) where there is none."""
    first, last = day_of(first), day_of(last)
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    kept = {d for d in recorded_days(code) if first <= d <= last and (on is None or d in on)}
    scale = rate(code, max(kept)).scale
    exact = [rate(code, d).byn_per_unit * scale if d in kept else None for d in days]
    return Series(code, scale, days, [math.nan if v is None else float(v) for v in exact], exact)


def history(codes=(), since=None, until=None) -> list[tuple]:
    """The recorded rows of `codes` (all when empty) from `since` to `until` as the store streams
    them to the exporter (reader.HISTORY's columns), in date then code order."""
    rows = [(q.date.isoformat(), q.code, q.scale, str(q.rate), q.unit, q.cur_id, q.periodicity)
            for (code, day), q in _rates().items()
            if (not codes or code in codes) and (since is None or day >= day_of(since))
            and (until is None or day <= day_of(until))]
    return sorted(rows, key=lambda r: (r[0], r[1]))


def bank_rates(code: str, city: str, as_of: str, official: Rate | None, points: list[dict]) -> BankRates:
    """The best Belarusbank buy and sell of `code` against BYN among the points of `city` in the
    answer `points` (as support.banks gives it), each with every point offering it (ordered by
    address), as they stand at the UTC stamp `as_of`, with `official` beside them; the scale as
    the bank quotes `code`, checked when there is an official rate to check it against."""
    from ticker.sources.belarusbank import Belarusbank, worktime

    here = [p for p in points if p["name"] == city]

    def best(side: str, key: str) -> BankBest | None:
        quoting = [p for p in here if Decimal(p[key])]
        if not quoting:
            return None
        value = (max if side == "buy" else min)(Decimal(p[key]) for p in quoting)
        at_best = [BankPoint("belarusbank", str(p["filial_id"]), p["filials_text"],
                             " ".join(filter(None, (p["street_type"], p["street"], p["home_number"]))),
                             worktime(p["info_worktime"]), p.get("kurs_date_time") or None, as_of)
                   for p in quoting if Decimal(p[key]) == value]
        at_best.sort(key=lambda p: (p.address, p.label, p.point_id))
        text = next(p[key] for p in quoting if Decimal(p[key]) == value)
        return BankBest(side, Decimal(text), Belarusbank.scales.get(code, 1), official is not None, at_best,
                        len(quoting))

    return BankRates(code, city, as_of, best("buy", f"{code}_in"), best("sell", f"{code}_out"), official,
                     ("belarusbank",))
