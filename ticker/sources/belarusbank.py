"""Belarusbank: the cash buy and sell rates of every branch and exchange point, from its public JSON API.

One `GET /api/kursExchange` answers for the whole country: a list of flat objects, one per point,
every value a string (see shared/banks/FACTS.md). What this module knows of that feed:
- rate keys are `XXX_in` (the bank buys XXX for BYN) and `XXX_out` (it sells), and crosses
  `XXX_YYY_in` / `XXX_YYY_out`; the codes are read from the keys, as the field set changes over
  the years (UAH gone, CNY crosses and `kurs_date_time` added);
- "0.0000" means the point does not trade that currency or side: never a rate;
- no scale is stated: the direct rates follow NBRB's scales (`scales` below), crosses are per 1;
- `kurs_date_time` ("2026-10-07 17:20:00", Minsk time, no zone) says when the rate set took effect.
"""

import json
import re
from collections import Counter
from datetime import date
from functools import lru_cache

from ..errors import BadResponse
from ..model import BASE, BUY, CASH, SELL, BankRate, Point
from . import Answer, BankSource, Coverage, Schedule, http
from .answers import answer, rate

SHORT = "Belarusbank"
RATE_KEY = re.compile(r"^([A-Z]{3})(?:_([A-Z]{3}))?_(in|out)$")
STAMP = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")
WEEK = ("Пн", "Вт", "Ср", "Чт", "Пт", "Сб", "Вс")


class Belarusbank(BankSource):
    """Cash rates of about 1,100 points (2026) in one request; rates can differ between points of one city."""

    id = "belarusbank"
    short = SHORT
    name = "Belarusbank (ОАО «АСБ Беларусбанк»), cash exchange rates of its branches and exchange points"
    url = "https://belarusbank.by/o-banke/for-developers/informatsionnye-api/api_kursy_valyut/"
    coverage = Coverage(
        since=date(2019, 9, 29),  # the first whole answer on record (shared/banks/samples)
        days="every day: the rates in force now, at each point",
        history=False,
    )
    schedule = Schedule(
        published="whenever the bank changes a rate set, several times on some days; kurs_date_time says when",
        poll="*/30 8-20 * * mon-sun",  # every 30 minutes, 08:00 to 20:30 Minsk time, every day
    )
    unverified = (
        "the Content-Type of the live answer (no recording has its headers)",
        "the fields added since 2019 (kurs_date_time, CNY crosses), known from third-party code only",
    )
    # Units of the currency per quoted rate: nothing in the answer says so (FACTS §1.4). The sync
    # checks each against NBRB's scale and official rate of the day before storing it.
    scales = {"USD": 1, "EUR": 1, "GBP": 1, "CAD": 1, "CHF": 1, "RUB": 100, "CZK": 100, "JPY": 100,
              "UAH": 100, "PLN": 10, "CNY": 10, "SEK": 10, "NOK": 10}

    def __init__(self, base_url: str, timeout: float = 15, retries: int = 4, backoff: float = 0.5,
                 cities: tuple[str, ...] = (), **limits):
        super().__init__(base_url, timeout, retries, backoff, **limits)
        self.cities = tuple(cities)  # () keeps every city
        self._kept_names = {city.casefold() for city in cities}

    def rates(self) -> Answer:
        """Every point of the country (or of the cities kept) and its non-zero buy and sell rates now."""
        url, body = self.client.json("/api/kursExchange")
        if not isinstance(body, list) or not all(isinstance(item, dict) for item in body):
            raise BadResponse(SHORT, f"{url}: expected a list of exchange points, got "
                                     f"{http.snippet(json.dumps(body, default=str, ensure_ascii=False))}")
        if not body:
            raise BadResponse(SHORT, f"{url}: the answer lists no exchange points")
        kept = [item for item in body if self._kept(item.get("name"))]
        if not kept:
            raise BadResponse(SHORT, f"{url}: none of its {len(body)} points is in the cities kept "
                                     f"(belarusbank.cities: {', '.join(self.cities)}); cities are named as the "
                                     f"bank writes them, e.g. Минск")
        twice = {i for i, n in Counter(str(item.get("filial_id")) for item in kept).items() if n > 1} - {"None", ""}
        points, rates, refused = [], [], []
        for item in kept:
            try:
                if str(item.get("filial_id")) in twice:
                    raise ValueError(f"filial_id {item.get('filial_id')} appears more than once in the answer")
                point, point_rates = _point(item, self.scales)
            except ValueError as exc:
                refused.append(f"point {_name(item)}: {exc}")
                continue
            points.append(point)
            rates += point_rates
        return answer(SHORT, url, len(body), points, rates, refused)

    def _kept(self, city) -> bool:
        return not self.cities or isinstance(city, str) and city.casefold() in self._kept_names


def _text(item: dict, key: str, required: bool = False) -> str:
    value = item.get(key, "")
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or (required and not value.strip()):
        raise ValueError(f"{key} is {value!r}, expected {'a non-empty' if required else 'a'} string")
    return value.strip()


def _name(item: dict) -> str:
    """How a log line names a point, whatever state it is in."""
    where = ", ".join(str(item[k]) for k in ("name", "filials_text") if item.get(k))
    return f"{item.get('filial_id')!s}" + (f" ({where})" if where else "")


def _point(item: dict, scales: dict[str, int]) -> tuple[Point, list[BankRate]]:
    """One answer row as a Point and its non-zero BankRates; ValueError names the first damaged field."""
    point_id = _text(item, "filial_id", required=True)
    hours_text = _text(item, "info_worktime")
    point = Point(
        id=point_id,
        city=_text(item, "name", required=True),
        city_type=_text(item, "name_type"),
        address=" ".join(filter(None, (_text(item, k) for k in ("street_type", "street", "home_number")))),
        label=_text(item, "filials_text"),
        hours=worktime(hours_text),
        hours_text=hours_text,
    )
    effective_at = item.get("kurs_date_time") or None
    if effective_at is not None and not (isinstance(effective_at, str) and STAMP.match(effective_at)):
        raise ValueError(f"kurs_date_time is {effective_at!r}, expected YYYY-MM-DD HH:MM:SS")
    rates = []
    for key, value in item.items():
        parsed = _key(key)
        if parsed is None:
            continue
        value = rate(key, value)
        if value is None:  # "0.0000": this point does not trade it
            continue
        code, against, side = parsed
        rates.append(BankRate(point_id, code, against, side, value, effective_at,
                              scales.get(code) if against == BASE else 1, channel=CASH))
    return point, rates


@lru_cache(maxsize=1024)
def _key(key: str) -> tuple[str, str, str] | None:
    """(code, against, side) of a rate key ("USD_in", "USD_EUR_out"), None for other fields; the
    same few dozen keys come in every point, so each is read once."""
    match = RATE_KEY.match(key)
    if not match:
        return None
    code, against, direction = match.groups()
    return code, against or BASE, BUY if direction == "in" else SELL


@lru_cache(maxsize=4096)  # a few hundred distinct strings in a country
def worktime(text: str) -> str:
    """Belarusbank's weekly hours ("Пн 9 00 19 00    |...|Вс        |", FACTS §1.8: per day open and
    close, and maybe a break) as "Пн-Пт 09:00-19:00, Сб 09:00-15:00" (closed days left out, a break
    in brackets); text in any other shape is returned as published, on one line."""
    as_published = " ".join(text.split())
    chunks = [chunk.split() for chunk in text.split("|") if chunk.strip()]
    if [chunk[0] for chunk in chunks] != list(WEEK):
        return as_published
    week = []
    for _, *numbers in chunks:
        if len(numbers) == 6:  # a break whose hours are left blank ("18 00  00  00"), as in 2019: none
            numbers = numbers[:4]
        if len(numbers) not in (0, 4, 8) or not all(n.isdigit() for n in numbers):
            return as_published
        times = [(int(h), int(m)) for h, m in zip(numbers[::2], numbers[1::2])]
        if any(h > 24 or m > 59 for h, m in times):
            return as_published
        shown = [f"{h:02}:{m:02}" for h, m in times]
        hours = None
        if shown:
            hours = f"{shown[0]}-{shown[1]}" + (f" (break {shown[2]}-{shown[3]})" if len(shown) == 4 else "")
        week.append(hours)
    spans = []  # (first day, last day, hours) for runs of days with the same hours
    for n, hours in enumerate(week):
        if spans and spans[-1][2] == hours and spans[-1][1] == n - 1:
            spans[-1] = (spans[-1][0], n, hours)
        else:
            spans.append((n, n, hours))
    shown = [(WEEK[a] if a == b else f"{WEEK[a]}-{WEEK[b]}") + f" {hours}" for a, b, hours in spans if hours]
    return ", ".join(shown) or "closed every day"
