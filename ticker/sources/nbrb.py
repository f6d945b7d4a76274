"""NBRB: the official rates of the National Bank of the Republic of Belarus, from its public JSON API.

Two lists, two sources sharing this code: the daily rates (`NBRB`, Cur_Periodicity 0) and the
rates NBRB sets once a month (`NBRBMonthly`, Cur_Periodicity 1), whose currencies are absent from
the daily lists.

Every answer is checked before it is returned (shapes, dates, positive rates, no day twice): a
damaged answer (no rates, or a hole inside a dynamics answer, for days already published) raises
DamagedResponse and is retried by the client; one that is well-formed but wrong raises BadResponse.
Neither is ever stored.
"""

import json
import re
from datetime import date, timedelta
from decimal import Decimal

from .. import days
from ..errors import BadResponse, DamagedResponse
from ..model import DAILY, MONTHLY, Currency, Rate, in_force_until, set_from, unit_on
from . import Coverage, OfficialSource, Schedule, Span, http

SHORT = "NBRB"
ISO_DAY = re.compile(r"^(\d{4}-\d{2}-\d{2})T00:00:00$")
CODE = re.compile(r"[A-Z]{3}\Z")
OPEN_END = date(2050, 1, 1)  # how NBRB ends a catalogue record still in force


class NBRB(OfficialSource):
    """Official daily rates: one request per day for every currency, or per 365 days per Cur_ID."""

    id = "nbrb"
    short = SHORT
    name = "National Bank of the Republic of Belarus"
    url = "https://www.nbrb.by/statistics/rates/ratesdaily/"
    coverage = Coverage(
        since=date(1991, 1, 1),
        days="every calendar day; weekends and holidays repeat the last working day's rate",
    )
    # NBRB sets the next working day's rates after the exchange session, about 10:00-13:00 Minsk time
    # (FACTS: "When rates exist"): polls from 12:00 to 16:40, every 20 minutes, Monday to Saturday
    # (a working Saturday gets a rate too).
    schedule = Schedule(
        published="after the morning session, Minsk time, for the next working day",
        poll="*/20 12-16 * * mon-sat",
    )
    unverified = (
        "what dynamics answers past the last published day or outside a Cur_ID's validity",
        "what a list for a future date returns (an empty list is assumed)",
    )
    periodicity = DAILY  # Cur_Periodicity of the list it reads
    listing = "daily"
    max_span = 365  # days per dynamics request
    lookahead = 7  # days after today already published, at most: Thursday's session sets Friday to Sunday

    def __init__(self, base_url: str, timeout: float = 15, retries: int = 4, backoff: float = 0.5, **limits):
        hint = "set nbrb.base_url in the config to use a mirror or proxy"
        self.client = http.Client(SHORT, base_url, timeout, retries, backoff, hint, **limits)
        self.notes: list[str] = []  # records and rows skipped, one line each (see `_coded`)

    @classmethod
    def from_config(cls, config) -> "NBRB":
        nbrb = config.nbrb
        return cls(nbrb.base_url, nbrb.timeout, nbrb.retries, nbrb.backoff, **http.limits(nbrb))

    def currencies(self) -> list[Currency]:
        """The whole catalogue: one record per Cur_ID period since 1991; a record whose code is not
        ISO 4217's three capital letters is skipped (see `_coded`)."""
        url, body = self.client.json("/exrates/currencies")
        return [_currency(url, item) for item in self._coded(_list(url, body), "a catalogue record")]

    def _coded(self, items: list[dict], what: str) -> list[dict]:
        """The items whose Cur_Abbreviation is a currency code (three ASCII capitals); each other one
        is skipped with one note naming its Cur_ID and text. An odd record never splits a currency
        (`pln` beside `PLN`) nor makes a code of markup, and never costs the rest of the answer."""
        kept = []
        for item in items:
            code = item.get("Cur_Abbreviation")
            if isinstance(code, str) and CODE.match(code):
                kept.append(item)
                continue
            note = (f"{SHORT}: skipped {what} with the code {str(code)[:40]!r} (Cur_ID {item.get('Cur_ID')!r}):"
                    " a currency code is three capital letters (ISO 4217)")
            if note not in self.notes:
                self.notes.append(note)
        return kept

    def day(self, on: date) -> list[Rate]:
        """The daily rates in force on a day; an empty list while that day is unpublished."""
        published = on <= days.today()  # today's rates were set on an earlier working day

        def check(url, body):
            rates = self._listed(url, body)
            if published and all(r.date != on for r in rates):
                raise DamagedResponse(SHORT, f"{url}: it listed no rates in force on {on}, a day already published")
            return rates

        return self._list(on, check)

    def _list(self, on: date, check) -> list[Rate]:
        """This source's list of `on`, checked by `check(url, body)`."""
        return self.client.json("/exrates/rates", check, ondate=on.isoformat(), periodicity=self.periodicity)[1]

    def _listed(self, url, body) -> list[Rate]:
        rates = [_listed_rate(url, item, self.periodicity) for item in self._coded(_list(url, body),
                                                                                  f"a row of the {self.listing} list")]
        _unique(url, [(r.code, r.date) for r in rates])
        return rates

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

    def periods(self, records: list[Currency], code: str, first: date, last: date) -> list[Span]:
        """The Cur_ID periods of `code` in this list that overlap [first, last], each clipped to it."""
        periods = sorted((r for r in records if r.code == code and r.periodicity == self.periodicity),
                         key=lambda r: r.start)
        return [Span(r, max(first, r.start), min(last, r.end)) for r in periods if r.start <= last and r.end >= first]

    def spans(self, records: list[Currency], code: str, first: date, last: date) -> list[Span]:
        """The dynamics requests that fill [first, last] for `code`: at most 365 days and one Cur_ID each."""
        return [Span(currency, a, b) for currency, start, end in self.periods(records, code, first, last)
                for a, b in days.spans(start, end, self.max_span)]


class NBRBMonthly(NBRB):
    """Official rates set once a month (NBRB's monthly list): one request a month for every currency.

    The list of a day shows each monthly currency's rate in force that day, dated the day it was
    set (NBRB: "the date the rate in force on the requested date was set"), so the list of a
    month's last day holds what was set that month, for every monthly currency at once: a backfill
    asks one list a month, whatever the number of currencies, where dynamics would take one
    request per currency, Cur_ID and year (and what dynamics answers for a monthly Cur_ID is not
    documented).
    """

    id = "nbrb-monthly"
    name = "National Bank of the Republic of Belarus, rates set monthly"
    url = "https://www.nbrb.by/apihelp/exrates"  # its API help, which describes both lists
    coverage = Coverage(
        since=date(1991, 1, 1),
        days="one rate a month for each currency, dated the day it was set and in force to the end of that month",
    )
    schedule = Schedule(published="once a month", poll=None)  # the daily catch-up asks for a month's rate
    unverified = (
        "NBRB's real monthly list was never recorded: which currencies it holds",
        "whether a month's rate can be set later than its first working day",
    )
    periodicity = MONTHLY
    listing = "monthly"
    max_span = 31  # days per request: one month's list
    lookahead = 0  # a month's rate is asked for once the month has begun

    def day(self, on: date) -> list[Rate]:
        """The monthly rates in force on a day, each dated the day it was set (that month)."""
        return self.span(None, set_from(MONTHLY, on), on)

    def span(self, currency: Currency | None, first: date, last: date) -> list[Rate]:
        """The monthly rates set from `first` to `last` (one month at most) of `currency`, or of
        every monthly currency when None: from the list of `last`."""
        if not first <= last <= in_force_until(MONTHLY, first):
            raise ValueError(f"span {first}..{last} is not inside one month")
        published = last <= days.today()

        def check(url, body):
            rates = self._listed(url, body)
            later = [r.date for r in rates if r.date > last]
            if later:
                raise BadResponse(SHORT, f"{url}: a monthly rate set on {later[0]}, after the day asked")
            if not rates and published:
                raise DamagedResponse(SHORT, f"{url}: it listed no monthly rates in force on {last}, a day already "
                                             "published")
            return [r for r in rates if r.date >= first and (currency is None or r.cur_id == currency.cur_id)]

        return self._list(last, check)

    def spans(self, records: list[Currency], code: str, first: date, last: date) -> list[Span]:
        """The lists that fill [first, last] for `code`: one a month, from the month's first day
        (a rate set then is in force on a later `first`) to its last day, `last` or the end of the
        Cur_ID. The same for every monthly currency, so codes share them."""
        requests = []
        for _, start, end in self.periods(records, code, first, last):
            month = set_from(MONTHLY, start)
            while month <= end:
                month_end = in_force_until(MONTHLY, month)
                requests.append(Span(None, month, min(end, month_end)))
                month = month_end + timedelta(days=1)
        return requests


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


def _listed_rate(url, item: dict, periodicity: int) -> Rate:
    on = _day(url, item)
    return _exact(url, Rate(item["Cur_Abbreviation"], on, _scale(url, item), _rate(url, item), unit_on(on),
                            _field(url, item, "Cur_ID", int), periodicity))


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
