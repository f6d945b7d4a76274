"""The NBRB source: the public JSON API of the National Bank of the Republic of Belarus."""

import json
import re
from datetime import date
from decimal import Decimal
from typing import NamedTuple

from . import http
from .days import MAX_SPAN, per_unit, unit_on
from .errors import BadResponse, SourceUnavailable


class Currency(NamedTuple):
    """One catalogue record: a Cur_ID and the period it is valid in."""

    cur_id: int
    parent_id: int
    code: str
    num_code: str
    name: str
    name_eng: str
    scale: int
    periodicity: int
    start: date
    end: date


class Rate(NamedTuple):
    """BYN (or BYR/BYB, see `unit`) per `scale` units of `code`, in force on `date`."""

    code: str
    date: date
    scale: int
    rate: Decimal
    unit: str
    cur_id: int

    @property
    def byn_per_unit(self) -> Decimal:
        return per_unit(self.rate, self.scale, self.unit)


ISO_DAY = re.compile(r"^(\d{4}-\d{2}-\d{2})T00:00:00$")


class NBRB:
    """Official daily rates: one request per day for every currency, or per 365 days per Cur_ID."""

    id = "nbrb"
    name = "National Bank of the Republic of Belarus"
    url = "https://www.nbrb.by/statistics/rates/ratesdaily/"
    coverage = {"since": date(1991, 1, 1), "days": "every calendar day", "published": "early afternoon, Minsk, for the next working day"}

    def __init__(self, base_url: str, timeout: float = 15, retries: int = 4, backoff: float = 0.5):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._http = http.session(retries, backoff)

    def currencies(self) -> list[Currency]:
        """The whole catalogue: one record per Cur_ID period since 1991."""
        url, body = self._get("/exrates/currencies")
        return [_currency(url, item) for item in _list(url, body)]

    def day(self, on: date) -> list[Rate]:
        """The daily rates in force on a day; an empty list while that day is unpublished."""
        url, body = self._get("/exrates/rates", ondate=on.isoformat(), periodicity=0)
        rates = [_day_rate(url, item) for item in _list(url, body)]
        _unique(url, [(r.code, r.date) for r in rates])
        return rates

    def dynamics(self, currency: Currency, first: date, last: date) -> list[Rate]:
        """One Cur_ID's rates, one row per day, for a span inside its validity."""
        if not (currency.start <= first <= last <= currency.end) or (last - first).days >= MAX_SPAN:
            raise ValueError(f"span {first}..{last} outside Cur_ID {currency.cur_id} or over {MAX_SPAN} days")
        url, body = self._get(
            f"/exrates/rates/dynamics/{currency.cur_id}",
            startdate=first.isoformat(),
            enddate=last.isoformat(),
        )
        rates = []
        for item in _list(url, body):
            if _field(url, item, "Cur_ID", int) != currency.cur_id:
                raise BadResponse(f"{url}: row for Cur_ID {item['Cur_ID']}, asked for {currency.cur_id}")
            on = _day(url, item)
            if not first <= on <= last:
                raise BadResponse(f"{url}: row dated {on}, outside {first}..{last}")
            rates.append(Rate(currency.code, on, currency.scale, _rate(url, item), unit_on(on), currency.cur_id))
        _unique(url, [r.date for r in rates])
        if rates:
            # Every calendar day has a rate: a hole inside the answer is a damaged answer, not a
            # day without rates. (Days before the first row or after the last may be unquoted.)
            first_row, last_row = min(r.date for r in rates), max(r.date for r in rates)
            if len(rates) != (last_row - first_row).days + 1:
                raise BadResponse(f"{url}: days missing between {first_row} and {last_row}")
        return rates

    def _get(self, path: str, **params):
        url = self.base_url + path
        hint = "set nbrb.base_url in the config to use a mirror or proxy"
        response = http.get(self._http, url, params, self.timeout, hint)
        if response.status_code != 200:
            detail = f"{response.url}: HTTP {response.status_code}{_problem_title(response)}"
            if response.status_code in http.RETRY_STATUSES:
                raise SourceUnavailable(f"{detail}, still after retries; {hint}")
            raise BadResponse(detail)
        kind = response.headers.get("Content-Type", "")
        if "json" not in kind:
            raise BadResponse(f"{response.url}: expected JSON, got {kind or 'no content type'}: {_snippet(response.text)}")
        try:
            return response.url, json.loads(response.text, parse_float=Decimal)
        except ValueError as exc:
            raise BadResponse(f"{response.url}: malformed JSON ({exc})") from None


def _problem_title(response) -> str:
    try:
        return f" {json.loads(response.text)['title']}"
    except (ValueError, KeyError, TypeError):
        return ""


def _snippet(text: str) -> str:
    return " ".join(text.split())[:80]


def _list(url, body) -> list:
    if not isinstance(body, list) or not all(isinstance(item, dict) for item in body):
        raise BadResponse(f"{url}: expected a list of objects, got {_snippet(json.dumps(body, default=str))}")
    return body


def _field(url, item: dict, name: str, kind):
    value = item.get(name)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise BadResponse(f"{url}: field {name} is {value!r}, expected {kind.__name__}")
    return value


def _day(url, item: dict, name: str = "Date") -> date:
    match = ISO_DAY.match(_field(url, item, name, str))
    try:
        return date.fromisoformat(match.group(1))
    except (AttributeError, ValueError):
        raise BadResponse(f"{url}: field {name} is {item[name]!r}, expected YYYY-MM-DDT00:00:00") from None


def _rate(url, item: dict) -> Decimal:
    value = item.get("Cur_OfficialRate")
    if isinstance(value, int) and not isinstance(value, bool):
        value = Decimal(value)
    if not isinstance(value, Decimal) or not value.is_finite() or value <= 0:
        raise BadResponse(f"{url}: Cur_OfficialRate is {value!r}, expected a positive number")
    return value


def _scale(url, item: dict) -> int:
    scale = _field(url, item, "Cur_Scale", int)
    if scale <= 0:
        raise BadResponse(f"{url}: Cur_Scale is {scale}, expected a positive whole number")
    return scale


def _code(url, item: dict) -> str:
    code = _field(url, item, "Cur_Abbreviation", str)
    if not re.match(r"^[A-Z]{3}$", code):
        raise BadResponse(f"{url}: Cur_Abbreviation is {code!r}, expected three letters")
    return code


def _day_rate(url, item: dict) -> Rate:
    on = _day(url, item)
    return Rate(_code(url, item), on, _scale(url, item), _rate(url, item), unit_on(on), _field(url, item, "Cur_ID", int))


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
        end=_day(url, item, "Cur_DateEnd"),
    )


def _unique(url, keys: list):
    if len(set(keys)) != len(keys):
        raise BadResponse(f"{url}: the same day appears twice")


def covering(records: list[Currency], code: str, first: date, last: date) -> list[tuple[Currency, date, date]]:
    """The daily Cur_ID periods of `code` that overlap [first, last], each clipped to it."""
    periods = sorted((r for r in records if r.code == code and r.periodicity == 0), key=lambda r: r.start)
    return [(r, max(first, r.start), min(last, r.end)) for r in periods if r.start <= last and r.end >= first]

