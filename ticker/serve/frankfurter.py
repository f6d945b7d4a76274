"""Frankfurter's v1 and v2 APIs (lineofflight/frankfurter) answered from NBRB's official rates.

The shapes, status codes and error bodies are Frankfurter's; the values are NBRB's, and BYN is a
currency like the others. Every cross rate goes through BYN on exact decimals (BYN per one unit:
the rate as published, the scale and any BYR/BYB factor divided out) and is rounded only at the
end, as Frankfurter rounds (`frankfurter_round`), into a JSON number. Weekends are NBRB's own
published days, and a monthly currency answers with the rate in force (set that month).

Where this differs from Frankfurter is said in the README ("Serving over HTTP").
"""

import re
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation, localcontext

from ..model import BASE, round_half_up
from ..store import reader, serving
from . import Refused

DEFAULT_BASE = "EUR"  # Frankfurter's: an unchanged client gets what it expects
LOOKBACK = 14  # days a single-day answer may reach back to the last day stored (Frankfurter's carry-forward)
BYN_NAME = "Belarusian Ruble"  # as NBRB's catalogue writes the English names ("US Dollar", "Russian Ruble")
BYN_NUMERIC = "933"
DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
RANGE = re.compile(r"(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})?")
CODE = re.compile(r"[A-Z]{3}")
NOT_FOUND = "not found"
_HIGH, _ROUND = Decimal(5000), [(Decimal(80), 2), (Decimal(20), 3), (Decimal(1), 4), (Decimal("0.0001"), 5)]


def frankfurter_round(value: Decimal) -> float | int:
    """Frankfurter's rounding (its Roundable): whole above 5000, 2 decimals above 80, 3 above 20,
    4 above 1, 5 above 0.0001, else 6; here half up on the exact value, then a JSON number."""
    if value > _HIGH:
        return int(value.to_integral_value(ROUND_HALF_UP))
    for bound, places in _ROUND:
        if value > bound:
            return float(round_half_up(value, places))
    return float(round_half_up(value, 6))


def per_unit(rates) -> dict[str, Decimal]:
    """code -> BYN per one unit, exactly, for `rates` (Rates, or a code -> Rate dict), with BYN itself."""
    values = rates.values() if isinstance(rates, dict) else rates
    found = {q.code: q.byn_per_unit for q in values}
    found[BASE] = Decimal(1)
    return found


def cross(values: dict[str, Decimal], base: str, quote: str, amount: Decimal = Decimal(1)) -> float | int:
    """`amount` units of `base` in `quote`, rounded as Frankfurter rounds."""
    with localcontext() as exact:
        exact.prec = 40
        return frankfurter_round(amount * values[base] / values[quote])


def parse_day(text: str) -> date:
    """YYYY-MM-DD; Refused 422 "invalid date" for an impossible one (2024-02-30), as Frankfurter."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise Refused(422, "invalid date") from None


def _codes(text: str | None) -> list[str] | None:
    if text is None:
        return None
    return [c.strip().upper() for c in text.split(",") if c.strip()]


# -- v1 ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Query:
    """A v1 query: `amount` of `base` in each of `symbols` (None: every currency)."""

    amount: Decimal
    base: str
    symbols: list[str] | None


def query(params, *days: str) -> tuple[Query, list[date]]:
    """`amount`, `base` (alias `from`) and `symbols` (alias `to`), and the path's `days`, checked in
    Frankfurter's order: 422 "invalid amount" for an amount that is not a positive number, 422
    "invalid date" for an impossible day, 422 "bad currency pair" when the only symbol is the base."""
    amount = Decimal(1)
    if "amount" in params:
        try:
            amount = Decimal(params["amount"].strip())
        except InvalidOperation:
            raise Refused(422, "invalid amount") from None
        if not amount.is_finite() or amount <= 0 or amount.adjusted() > 30:
            raise Refused(422, "invalid amount")
    parsed = [parse_day(text) for text in days]
    given = params.get("from") or params.get("base")
    symbols = _codes(params.get("to") or params.get("symbols"))
    if given and symbols == [given.upper()]:
        raise Refused(422, "bad currency pair")
    return Query(amount, (given or DEFAULT_BASE).upper(), symbols), parsed


def _rates(values: dict[str, Decimal], q: Query) -> dict | None:
    """The `rates` object of one day, or None when the base or every symbol is missing (404)."""
    if q.base not in values:
        return None
    wanted = q.symbols if q.symbols is not None else values
    codes = sorted(code for code in set(wanted) if code in values and code != q.base)
    return {code: cross(values, q.base, code, q.amount) for code in codes} or None


def _amount(q: Query) -> float:
    return float(q.amount)


def on_day(conn, day: date, q: Query) -> tuple[date, dict]:
    """`/v1/{date}` and `/v1/latest`: the rates of `day`, or of the last day stored before it
    (within LOOKBACK days); Refused 404 "not found" when there is none or nothing to answer."""
    found = serving.snapshot(conn, day, LOOKBACK)
    rates = _rates(per_unit(found[1]), q) if found else None
    if rates is None:
        raise Refused(404, NOT_FOUND)
    return found[0], {"amount": _amount(q), "base": q.base, "date": found[0].isoformat(), "rates": rates}


def span(conn, first: date, last: date, q: Query, today: date, max_days: int):
    """`/v1/{start}..{end}`: (first day answered, a generator of JSON text parts), the answer being
    {amount, base, start_date, rates: {date: {CODE: rate}}, end_date}. Streamed: `end_date`, the
    last day answered, comes last (a JSON object's keys have no order). From the last day stored on
    or before `first` (Frankfurter's start) to `last`. Refused 404 when nothing is found (as
    Frankfurter: a start after the end, or after today), 422 beyond `max_days`."""
    import json

    if first > today or first > last:
        raise Refused(404, NOT_FOUND)
    if (last - first).days + 1 > max_days:
        raise Refused(422, f"date range exceeds {max_days} days; split it into shorter requests")
    start = serving.snapshot(conn, first, (first - date(1991, 1, 1)).days)
    begin = start[0] if start else first
    days = _days(conn, begin, last, q)
    head = next(days, None)
    if head is None:
        raise Refused(404, NOT_FOUND)

    def parts():
        dumps = json.JSONEncoder(separators=(",", ":")).encode
        yield (f'{{"amount":{dumps(_amount(q))},"base":{dumps(q.base)},"start_date":"{head[0]}",'
               f'"rates":{{"{head[0]}":{dumps(head[1])}')
        end = head[0]
        for day, rates in days:
            yield f',"{day}":{dumps(rates)}'
            end = day
        yield f'}},"end_date":"{end}"}}'

    return head[0], parts()


ANCHOR = "USD"  # a currency of NBRB's daily list, whose rows say which days are stored


def _stored_codes(conn, q: Query) -> list[str]:
    """The stored codes a query needs: its symbols and base (every code when it has no symbols),
    and a daily one, so that a range of monthly currencies alone still has its days."""
    stored = reader.codes(conn)
    if q.symbols is None:
        return stored
    return [c for c in stored if c in set(q.symbols) | {q.base, ANCHOR}]


def _days(conn, first: date, last: date, q: Query):
    """(day, rates object) for each day from `first` to `last` that has an answer."""
    codes = _stored_codes(conn, q)
    if not codes:
        return
    for day, rates in serving.days_of(reader.history(conn, codes, first, last), first):
        found = _rates(per_unit(rates), q)
        if found is not None:
            yield day, found


def currencies(conn, today: date) -> dict[str, str]:
    """`/v1/currencies`: code -> English name of every currency with a rate in force today (as
    Frankfurter's: within its lookback), BYN included."""
    found = serving.snapshot(conn, today, LOOKBACK)
    names = serving.catalogue(conn)
    if found is None:
        return {}
    named = {q.code: (names.get(q.code) or {}).get("name_eng") or q.code for q in found[1]}
    return dict(sorted({**named, BASE: BYN_NAME}.items()))


# -- v2 ---------------------------------------------------------------------------------------

V2_PARAMS = ("base", "quotes", "providers", "date", "from", "to", "group", "expand")
PROVIDER = "NBRB"


@dataclass(frozen=True)
class RatesQuery:
    """A v2 `/rates` query, checked."""

    base: str
    quotes: list[str] | None
    day: date | None  # a single day (None with `first`: a range; neither: latest)
    first: date | None
    last: date | None
    expand: bool  # expand=providers: each record names NBRB's observation
    none: bool  # `providers` names no provider ticker has: an empty answer

    @property
    def range(self) -> bool:
        return self.first is not None

    @property
    def relative(self) -> bool:
        """Anchored on today (latest, or a range without `to`): changes when the day turns."""
        return self.day is None and (self.first is None or self.last is None)


def rates_query(conn, params, today: date, max_days: int) -> RatesQuery:
    """Check a v2 query in Frankfurter's order: unknown parameters, dates, conflicts, group,
    expand, currencies, the range's length (each a 422 with Frankfurter's message)."""
    unknown = [name for name in params if name not in V2_PARAMS]
    if unknown:
        raise Refused(422, f"unknown parameter: {', '.join(unknown)}")
    days = {}
    for name in ("date", "from", "to"):
        if name in params:
            days[name] = parse_day(params[name])
    if "date" in days and ("from" in days or "to" in days):
        raise Refused(422, "conflicting params")
    group = params.get("group")
    if group is not None:
        if group.lower() not in ("week", "month"):
            raise Refused(422, "invalid group")
        raise Refused(422, f"group={group.lower()} is not served: ticker gives NBRB's rates as published, "
                           "every day; ask for the range without group")
    expand = _codes(params.get("expand"))
    if expand and any(e != "PROVIDERS" for e in expand):
        raise Refused(422, f"invalid expand: {','.join(e.lower() for e in expand if e != 'PROVIDERS')}")
    base = (params.get("base") or DEFAULT_BASE).upper()
    quotes = _codes(params.get("quotes"))
    invalid = [code for code in ([base] if "base" in params else []) + (quotes or []) if not _currency(conn, code)]
    if invalid:
        raise Refused(422, f"invalid currency: {','.join(invalid)}")
    first = days.get("from")
    last = days.get("to") if first else None
    if first and first > (last or today):
        raise Refused(422, f"from {first} is after to {last or today}")
    if first and ((last or today) - first).days + 1 > max_days:
        raise Refused(422, f"date range exceeds {max_days} days; split the range into shorter requests")
    providers = _codes(params.get("providers"))
    return RatesQuery(base, quotes, days.get("date"), first, last, bool(expand), providers is not None
                      and PROVIDER not in providers)


def _currency(conn, code: str) -> bool:
    return bool(CODE.fullmatch(code)) and (code == BASE or serving.known(conn, code))


def _records(day: date, values: dict[str, Decimal], q: RatesQuery):
    """One day's records, by quote: every currency and BYN against the base, and the base's
    identity record (rate 1), each filtered by `quotes`; none when the base has no rate that day."""
    if q.base not in values:
        return
    text = day.isoformat()
    wanted = set(q.quotes) if q.quotes is not None else None
    for code in sorted(values):
        if wanted is not None and code not in wanted:
            continue
        rate = 1.0 if code == q.base else cross(values, q.base, code)
        record = {"date": text, "base": q.base, "quote": code, "rate": rate}
        if q.expand:
            record["providers"] = [{"key": PROVIDER, "date": text, "rate": rate}]
        yield record


def records(conn, q: RatesQuery, today: date):
    """`/v2/rates`: (the last day the answer is about, a generator of records). A single day (or
    latest: today) answers with the last day stored on or before it, within LOOKBACK; a range with
    every day stored in it, by date then quote."""
    if q.none:
        return None, iter(())
    if not q.range:
        found = serving.snapshot(conn, q.day or today, LOOKBACK)
        if found is None:
            return None, iter(())
        return found[0], _records(found[0], per_unit(found[1]), q)
    last = q.last or today
    codes = _stored_codes(conn, Query(Decimal(1), q.base, None if q.quotes is None else [*q.quotes, q.base]))

    def each():
        for day, rates in serving.days_of(reader.history(conn, codes, q.first, last), q.first):
            yield from _records(day, per_unit(rates), q)

    return last, each() if codes else iter(())


def v2_currencies(conn, params, today: date) -> list[dict]:
    """`/v2/currencies`: every currency with a rate stored in the last 30 days (`scope=all`: ever),
    with its ISO numeric code, English name and the first and last day stored; BYN included."""
    providers = _codes(params.get("providers"))
    if providers is not None and PROVIDER not in providers:
        return []
    extents = serving.extents(conn)
    if not extents:
        return []
    names = serving.catalogue(conn)
    active = (today - timedelta(days=30)).isoformat()
    found = [{"iso_code": code, "iso_numeric": (names.get(code) or {}).get("num_code"),
              "name": (names.get(code) or {}).get("name_eng") or code, "symbol": None,
              "start_date": first, "end_date": last}
             for code, (first, last) in extents.items() if params.get("scope") == "all" or last >= active]
    found.append({"iso_code": BASE, "iso_numeric": BYN_NUMERIC, "name": BYN_NAME, "symbol": "Br",
                  "start_date": min(f for f, _ in extents.values()), "end_date": max(l for _, l in extents.values())})
    return sorted(found, key=lambda c: c["iso_code"])


def providers(conn, today: date, config) -> list[dict]:
    """`/v2/providers`: NBRB with its coverage, and each bank whose section is enabled."""
    from .. import sources
    from ..config import enabled_banks

    extents = serving.extents(conn)
    nbrb = sources.get("nbrb")
    found = []
    if extents:
        end = max(last for _, last in extents.values())
        found.append({
            "key": PROVIDER, "name": nbrb.name, "country_code": "BY", "rate_type": "official rate",
            "pivot_currency": BASE, "data_url": nbrb.url, "terms_url": None,
            "start_date": min(first for first, _ in extents.values()), "end_date": end,
            "publish_cadence": "daily",
            "publishes_missed": max(0, (today - date.fromisoformat(end)).days),
            "currencies": sorted(extents),
        })
    for bank in map(sources.get, enabled_banks(config)):
        seen = reader.bank_extent(conn, bank.id)
        found.append({
            "key": bank.short.upper(), "name": bank.name, "country_code": "BY", "rate_type": "buy and sell rates",
            "pivot_currency": BASE, "data_url": bank.url, "terms_url": None,
            "start_date": seen and seen[0].isoformat(), "end_date": seen and seen[1].isoformat(),
            "publish_cadence": "daily", "publishes_missed": None,
            "currencies": reader.bank_codes(conn, bank.id) or sorted(bank.scales),  # those it quotes now
        })
    return found
