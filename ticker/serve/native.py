"""The native API: what Frankfurter's shapes cannot say. Every rate as NBRB published it (a decimal
string, its scale, Cur_ID, periodicity and unit) and its change against the previous distinct
rate (outputs.line.Item), series, exact conversions (outputs.convert), the best bank rates
(reader.bank_rates) and `ticker status`'s verdict (service.health.report).

Each function returns what the route sends as JSON, or raises Refused: 404 with the one-line
message the command line gives (NoData), 422 for a request that cannot be meant.
"""

from datetime import date

from .. import days
from ..errors import NoData
from ..model import MONTHLY, Rate
from ..outputs import hints
from ..outputs.line import Item, ahead
from ..store import reader, serving
from . import Refused


def day(text: str) -> date:
    """YYYY-MM-DD, today, tomorrow or yesterday (in Minsk); Refused 422 otherwise."""
    try:
        return days.parse_day(text)
    except ValueError:
        raise Refused(422, f"{text!r} is not a date like 2024-01-10, today, tomorrow or yesterday") from None


def code(text: str) -> str:
    from ..model import code as checked

    try:
        return checked(text)
    except ValueError as exc:
        raise Refused(422, str(exc)) from None


def _quote(q: Rate) -> dict:
    return {"code": q.code, "date": q.date.isoformat(), "scale": q.scale, "rate": str(q.rate), "unit": q.unit,
            "cur_id": q.cur_id, "periodicity": q.periodicity, "byn_per_unit": str(q.byn_per_unit)}


def rates_on(conn, on: date) -> dict:
    """`/api/rates/{date}`: every currency's rate in force on `on`, as published, with its English
    name and its change against the previous distinct rate (exact, as strings), and the days NBRB
    has published after `on` (when `on` is today or later). `date` of a monthly rate is the day it
    was set (`set_monthly`: true)."""
    quotes = serving.in_force(conn, on)
    if not any(q.periodicity != MONTHLY for q in quotes):
        raise Refused(404, hints.missing_day(conn, on))
    names = reader.names(conn, [q.cur_id for q in quotes])
    rates = []
    for q in quotes:
        item = Item(q, reader.previous(conn, q))
        rates.append({**_quote(q), "name": names.get(q.cur_id, ""), "set_monthly": q.periodicity == MONTHLY,
                      "previous": None if item.previous is None else {
                          "date": item.previous.date.isoformat(), "rate": str(item.previous_rate)},
                      "change": None if item.change is None else str(item.change),
                      "change_pct": None if item.change is None else str(item.change_pct),
                      "direction": item.direction})
    return {"date": on.isoformat(), "source": "NBRB", "ahead": [d.isoformat() for d in ahead(conn, on)],
            "rates": rates}


SERIES = ("date", "code", "scale", "rate", "unit", "cur_id", "periodicity")


def series(conn, code_: str, first: date, last: date, max_days: int):
    """`/api/rates/{code}?from=&to=`: the stored rows of one currency from `first` to `last` (and a
    monthly rate set earlier in `first`'s month, in force on it), as published, oldest first: a
    generator of dicts with SERIES' keys. Refused 404 for a currency never stored or no row."""
    if first > last:
        raise Refused(422, f"from {first} is after to {last}")
    if (last - first).days + 1 > max_days:
        raise Refused(422, f"date range exceeds {max_days} days; split it into shorter requests")
    try:
        hints.known(conn, [code_])
        rows = reader.history(conn, [code_], first, last)
    except NoData as exc:
        raise Refused(404, str(exc).split(": ", 1)[1]) from None
    head = rows.fetchone()
    if head is None:
        raise Refused(404, f"no {code_} rates from {first} to {last} in the database")

    def each():
        yield dict(zip(SERIES, head))
        for row in rows:
            yield dict(zip(SERIES, row))

    return each()


def convert(conn, params, today: date) -> dict:
    """`/api/convert?amount=&from=&to=&date=&precision=`: the exact amount as a string (and rounded
    half up to `precision`, default 2), with the rates used, as `ticker convert`."""
    from ..outputs.convert import amount, convert as converting, precision

    for name in ("amount", "from"):
        if not params.get(name):
            raise Refused(422, f"{name}: required")
    try:
        value = amount(params["amount"])
    except ValueError as exc:
        raise Refused(422, f"amount: {exc}") from None
    places = params.get("precision", "2")
    try:
        places = precision(int(places))
    except ValueError:
        raise Refused(422, f"precision: expected a whole number from 0 to 8, got {places!r}") from None
    source, target = code(params["from"]), code(params.get("to", "BYN"))
    on = day(params["date"]) if "date" in params else today
    try:
        done = converting(conn, value, source, target, on)
    except NoData as exc:
        raise Refused(404, str(exc).split(": ", 1)[1]) from None
    return {"amount": f"{done.amount:f}", "from": source, "to": target, "date": on.isoformat(),
            "value": f"{done.value:f}", "rounded": f"{done.rounded(places):f}", "precision": places,
            "rates": [_quote(q) for q in done.rates], "text": done.text(places)}


def bank(conn, code_: str, city: str) -> str:
    """`/api/banks/{code}?city=`: `ticker bank CODE --json`, the best buy and sell now and where."""
    from ..outputs import banks

    try:
        hints.banks(conn)
        return banks.as_json(reader.bank_rates(conn, code_, city))
    except NoData as exc:
        raise Refused(404, str(exc).split(": ", 1)[1]) from None


def status(conn, config) -> dict:
    """`/api/status`: `ticker status --json`."""
    from datetime import datetime, timezone

    from ..service import health

    return health.report(config, conn, datetime.now(timezone.utc))
