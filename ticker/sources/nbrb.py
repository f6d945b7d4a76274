"""NBRB: the official rates of the National Bank of the Republic of Belarus, from its public JSON API.

Every answer is checked before it is returned (shapes, dates, positive rates, no day twice): a
damaged answer (no rates, or a hole inside a dynamics answer, for days already published) raises
DamagedResponse and is retried by the client; one that is well-formed but wrong raises BadResponse.
Neither is ever stored.
"""

import json
import re
from datetime import date
from decimal import Decimal

from .. import days
from ..errors import BadResponse, DamagedResponse
from ..model import Currency, Rate, unit_on
from . import Coverage, Source, http

SHORT = "NBRB"
ISO_DAY = re.compile(r"^(\d{4}-\d{2}-\d{2})T00:00:00$")
OPEN_END = date(2050, 1, 1)  # how NBRB ends a catalogue record still in force


class NBRB(Source):
    """Official daily rates: one request per day for every currency, or per 365 days per Cur_ID."""

    id = "nbrb"
    short = SHORT
    name = "National Bank of the Republic of Belarus"
    url = "https://www.nbrb.by/statistics/rates/ratesdaily/"
    kind = "official"
    coverage = Coverage(
        since=date(1991, 1, 1),
        days="every calendar day; weekends and holidays repeat the last working day's rate",
        published="after the morning session, Minsk time, for the next working day",
    )
    periodicity = 0  # Cur_Periodicity of the list it reads
    listing = "daily"
    max_span = 365  # days per dynamics request

    def __init__(self, base_url: str, timeout: float = 15, retries: int = 4, backoff: float = 0.5):
        hint = "set nbrb.base_url in the config to use a mirror or proxy"
        self.client = http.Client(SHORT, base_url, timeout, retries, backoff, hint)

    @classmethod
    def from_config(cls, config) -> "NBRB":
        return cls(config.nbrb.base_url, config.nbrb.timeout, config.nbrb.retries, config.nbrb.backoff)

    def currencies(self) -> list[Currency]:
        """The whole catalogue: one record per Cur_ID period since 1991."""
        url, body = self.client.json("/exrates/currencies")
        return [_currency(url, item) for item in _list(url, body)]

    def day(self, on: date) -> list[Rate]:
        """The daily rates in force on a day; an empty list while that day is unpublished."""
        published = on <= days.today()  # today's rates were set on an earlier working day

        def check(url, body):
            rates = [_day_rate(url, item) for item in _list(url, body)]
            _unique(url, [(r.code, r.date) for r in rates])
            if published and all(r.date != on for r in rates):
                raise DamagedResponse(SHORT, f"{url}: it listed no rates in force on {on}, a day already published")
            return rates

        return self.client.json("/exrates/rates", check, ondate=on.isoformat(), periodicity=self.periodicity)[1]

    def span(self, currency: Currency, first: date, last: date) -> list[Rate]:
        """One Cur_ID's rates, one row per day, for a span inside its validity (the dynamics endpoint)."""
        if not (currency.start <= first <= last <= currency.end) or (last - first).days >= self.max_span:
            raise ValueError(f"span {first}..{last} outside Cur_ID {currency.cur_id} or over {self.max_span} days")
        published = first <= days.today()

        def check(url, body):
            rates = []
            for item in _list(url, body):
                if _field(url, item, "Cur_ID", int) != currency.cur_id:
                    raise BadResponse(SHORT, f"{url}: row for Cur_ID {item['Cur_ID']}, asked for {currency.cur_id}")
                on = _day(url, item)
                if not first <= on <= last:
                    raise BadResponse(SHORT, f"{url}: row dated {on}, outside {first}..{last}")
                rates.append(_exact(url, Rate(currency.code, on, currency.scale, _rate(url, item), unit_on(on), currency.cur_id)))
            _unique(url, [r.date for r in rates])
            if not rates and published:
                raise DamagedResponse(SHORT, f"{url}: no {currency.code} rates (Cur_ID {currency.cur_id}) "
                                             f"for {first}..{last}, days already published")
            if rates:
                # Every calendar day has a rate: a hole inside the answer is a damaged answer, not a
                # day without rates. (Days before the first row or after the last may be unquoted.)
                first_row, last_row = min(r.date for r in rates), max(r.date for r in rates)
                if len(rates) != (last_row - first_row).days + 1:
                    raise DamagedResponse(SHORT, f"{url}: days missing between {first_row} and {last_row}")
            return rates

        return self.client.json(f"/exrates/rates/dynamics/{currency.cur_id}", check,
                                startdate=first.isoformat(), enddate=last.isoformat())[1]

    def periods(self, records: list[Currency], code: str, first: date, last: date) -> list[tuple[Currency, date, date]]:
        """The Cur_ID periods of `code` in this list that overlap [first, last], each clipped to it."""
        periods = sorted((r for r in records if r.code == code and r.periodicity == self.periodicity),
                         key=lambda r: r.start)
        return [(r, max(first, r.start), min(last, r.end)) for r in periods if r.start <= last and r.end >= first]


def _list(url, body) -> list:
    if not isinstance(body, list) or not all(isinstance(item, dict) for item in body):
        raise BadResponse(SHORT, f"{url}: expected a list of objects, got {http.snippet(json.dumps(body, default=str))}")
    return body


def _field(url, item: dict, name: str, kind):
    value = item.get(name)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise BadResponse(SHORT, f"{url}: field {name} is {value!r}, expected {kind.__name__}")
    return value


def _day(url, item: dict, name: str = "Date") -> date:
    match = ISO_DAY.match(_field(url, item, name, str))
    try:
        return date.fromisoformat(match.group(1))
    except (AttributeError, ValueError):
        raise BadResponse(SHORT, f"{url}: field {name} is {item[name]!r}, expected YYYY-MM-DDT00:00:00") from None


def _rate(url, item: dict) -> Decimal:
    value = item.get("Cur_OfficialRate")
    if isinstance(value, int) and not isinstance(value, bool):
        value = Decimal(value)
    if not isinstance(value, Decimal) or not value.is_finite() or value <= 0:
        raise BadResponse(SHORT, f"{url}: Cur_OfficialRate is {value!r}, expected a positive number")
    return value


def _scale(url, item: dict) -> int:
    scale = _field(url, item, "Cur_Scale", int)
    if scale <= 0:
        raise BadResponse(SHORT, f"{url}: Cur_Scale is {scale}, expected a positive whole number")
    return scale


def _code(url, item: dict) -> str:
    code = _field(url, item, "Cur_Abbreviation", str)
    if not re.match(r"^[A-Z]{3}$", code):
        raise BadResponse(SHORT, f"{url}: Cur_Abbreviation is {code!r}, expected three letters")
    return code


def _day_rate(url, item: dict) -> Rate:
    on = _day(url, item)
    return _exact(url, Rate(_code(url, item), on, _scale(url, item), _rate(url, item), unit_on(on),
                            _field(url, item, "Cur_ID", int)))


def _exact(url, rate: Rate) -> Rate:
    """The rate, if the store can hold its value per unit exactly (see model.E16)."""
    try:
        rate.byn_per_unit_e16
    except ValueError as exc:
        raise BadResponse(SHORT, f"{url}: {rate.code} on {rate.date}: {exc}") from None
    return rate


def _currency(url, item: dict) -> Currency:
    return Currency(
        cur_id=_field(url, item, "Cur_ID", int),
        parent_id=_field(url, item, "Cur_ParentID", int),
        code=_field(url, item, "Cur_Abbreviation", str),
        num_code=_field(url, item, "Cur_Code", str),
        name=_field(url, item, "Cur_Name", str),
        name_eng=_field(url, item, "Cur_Name_Eng", str),
        scale=_scale(url, item),
        periodicity=_field(url, item, "Cur_Periodicity", int),
        start=_day(url, item, "Cur_DateStart"),
        # A record still in force ends 2050-01-01, or has no end at all.
        end=OPEN_END if item.get("Cur_DateEnd", "") is None else _day(url, item, "Cur_DateEnd"),
    )


def _unique(url, keys: list):
    if len(set(keys)) != len(keys):
        raise BadResponse(SHORT, f"{url}: the same day appears twice")
