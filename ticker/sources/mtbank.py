"""MTBank: the cash and non-cash buy and sell rates of each of its departments, from its XML feed.

One `GET /currxml.php?ver=2` answers for the whole bank (shared/banks/FACTS.md §3; about 309 KB and
105 departments on 2026-10-08):

    <rates name="MTBank rates" date="08.10.2026">
      <department id="168,768,968,868" label="Обменный пункт №10" address="..." city="Минск" x="27.56" y="53.90">
        <currency><code>USD</code><codeTo>BYN</codeTo><purchase>3.02</purchase><sale>3.07</sale>
          <cacheless>0</cacheless></currency>
        ...

Field by field, as this module reads them:
- the currency: whichever of `code` and `codeTo` is not BYN. The 2026 feed writes code USD, codeTo
  BYN; older clients read code BYN, codeTo USD for the same rate; both read the same here. A pair
  without BYN (EUR/RUB, EUR/USD, USD/RUB at every department) is a cross rate of `code` against
  `codeTo`. Codes in any case.
- `purchase`: the bank's buy (it buys the currency from the client); `sale`: its sell. BYN per
  `scales` units of the currency, which nothing in the answer states (PLN 7.40/8.00 implies per 10,
  RUB 3.35/3.60 per 100); a cross rate, both sides: `codeTo` per 1 `code` (`BankRate.per`). Checked
  by real numbers, not by the names: a pair bought dearer than sold is refused. 0, empty or
  missing: that side is not offered.
- `cacheless`: 0 cash (CASH), 1 non-cash (NON_CASH); each pair comes once with each.
- `id`: the department's id; a comma list of internal ids for one department ("168,768,968,868")
  is one point, its id the list as published (spaces dropped).
- `x` the longitude, `y` the latitude (79 of 105 had them); `label`, `address`, `city` as written.
- the root's `date` (DD.MM.YYYY, no time of day): the day of the rates, `effective_at` "2026-10-08".
- `weight` and `metals` (precious metals) are not read; nor are opening hours, which it has none of.
"""

from collections import Counter
from datetime import date
from decimal import Decimal, InvalidOperation

from ..errors import BadResponse
from ..model import BASE, BUY, CASH, NON_CASH, SELL, Point, BankRate, code
from . import Answer, BankSource, Coverage, Schedule, http
from .answers import answer, local_time, rate

SHORT = "MTBank"
CHANNELS = {"0": CASH, "1": NON_CASH}


class MTBank(BankSource):
    """Cash and non-cash rates of about 105 departments (2026), with their coordinates, in one request."""

    id = "mtbank"
    short = SHORT
    name = "MTBank (ЗАО «МТБанк»), cash and non-cash exchange rates of its departments"
    url = "https://www.mtbank.by/currxml.php?ver=2"
    coverage = Coverage(
        since=date(2026, 10, 8),  # no answer on record: the first one described (FACTS §3, RECON26)
        days="every day: the rates in force now, at each department",
        history=False,
    )
    # Every 30 minutes, 08:06 to 20:36 Minsk time, every day: minutes apart from the other banks'
    # polls, so that their writes to the one database do not all queue at the same moment.
    schedule = Schedule(
        published="whenever the bank changes a rate; the answer gives only the day",
        poll="6-59/30 8-20 * * mon-sun",
    )
    # Units per quoted rate, which the answer does not state (FACTS §3): NBRB's scales; RUB and PLN
    # follow from the levels RECON26 saw, the others are assumed (the sync checks each against NBRB).
    scales = {"USD": 1, "EUR": 1, "GBP": 1, "RUB": 100, "PLN": 10, "CNY": 10, "TRY": 10}
    unverified = (
        "no answer on record: the shape is RECON26's description of 2026-10-08 and clients' code",
        "that cacheless 0 is cash and 1 non-cash (RECON26's inference)",
        "the units: RUB per 100 and PLN per 10 from the levels seen; USD, EUR, GBP 1, CNY and TRY 10 assumed",
        "that purchase is the bank's buy and sale its sell (one client's reading; checked on each answer)",
        "that a cross rate is codeTo per 1 code on both sides",
        "that x is the longitude and y the latitude, in WGS 84",
        "the encoding and content type of the answer",
    )

    def __init__(self, base_url: str, timeout: float = 15, retries: int = 4, backoff: float = 0.5,
                 cities: tuple[str, ...] = (), **limits):
        super().__init__(base_url, timeout, retries, backoff, **limits)
        self.cities = tuple(cities)  # () keeps every city
        self._kept_names = {city.casefold() for city in cities}

    def rates(self) -> Answer:
        """Every department (or those of the cities kept) and its non-zero buy and sell rates now."""
        url, root = self.client.xml("/currxml.php", ver="2")
        if http.tag(root) != "rates":
            raise BadResponse(SHORT, f"{url}: expected <rates>, got <{http.tag(root)}>")
        departments = [d for d in root if http.tag(d) == "department"]
        if not departments:
            flat = sum(1 for c in root if http.tag(c) == "currency")
            raise BadResponse(SHORT, f"{url}: the answer lists no departments" +
                                     (f" but {flat} currencies: the un-versioned feed?" if flat else ""))
        try:
            effective_at = local_time("date", root.get("date"), "%d.%m.%Y") if root.get("date") else None
        except ValueError as exc:
            raise BadResponse(SHORT, f"{url}: {exc}") from None
        kept = [d for d in departments if self._kept(d.get("city"))]
        if not kept:
            raise BadResponse(SHORT, f"{url}: none of its {len(departments)} departments is in the cities kept "
                                     f"(mtbank.cities: {', '.join(self.cities)}); cities are named as the bank "
                                     "writes them, e.g. Минск")
        ids = Counter(_id(d) for d in kept)
        points, quotes, refused = [], [], []
        for department in kept:
            try:
                if ids[_id(department)] > 1:
                    raise ValueError(f"id {_id(department)} appears more than once in the answer")
                point, point_quotes = _point(department, effective_at, self.scales)
            except ValueError as exc:
                refused.append(f"department {_name(department)}: {exc}")
                continue
            points.append(point)
            quotes += point_quotes
        return answer(SHORT, url, len(departments), points, quotes, refused)

    def _kept(self, city) -> bool:
        return not self.cities or isinstance(city, str) and city.strip().casefold() in self._kept_names


def _id(department) -> str:
    return "".join((department.get("id") or "").split())


def _name(department) -> str:
    """How a log line names a department, whatever state it is in."""
    where = ", ".join(department.get(k).strip() for k in ("city", "label") if (department.get(k) or "").strip())
    return (_id(department) or "without id") + (f" ({where})" if where else "")


def _point(department, effective_at: str | None, scales: dict[str, int]) -> tuple[Point, list[BankRate]]:
    """One department as a Point and its non-zero Quotes; ValueError names the first damaged field."""
    point_id = _id(department)
    if not point_id:
        raise ValueError("it has no id")
    city = (department.get("city") or "").strip()
    if not city:
        raise ValueError("it has no city")
    point = Point(point_id, city, "", (department.get("address") or "").strip(),
                  (department.get("label") or "").strip(), "", "",
                  latitude=_degrees(department, "y", 90), longitude=_degrees(department, "x", 180))
    quotes = []
    for n, currency in enumerate((c for c in department if http.tag(c) == "currency"), 1):
        fields = {http.tag(f): (f.text or "").strip() for f in currency}
        try:
            first, second = code(fields.get("code")), code(fields.get("codeTo"))
        except ValueError as exc:
            raise ValueError(f"currency {n}: {exc}") from None
        if first == second:
            raise ValueError(f"currency {n}: {first} against itself")
        foreign, against = (second, BASE) if first == BASE else (first, second)
        channel = CHANNELS.get(fields.get("cacheless"))
        if channel is None:
            raise ValueError(f"currency {n} ({first}/{second}): cacheless is {fields.get('cacheless')!r}, expected 0 or 1")
        scale = scales.get(foreign) if against == BASE else 1
        for side, key in ((BUY, "purchase"), (SELL, "sale")):
            value = rate(f"{first}/{second} {key}", fields.get(key, "0") or "0")
            if value is not None:
                quotes.append(BankRate(point_id, foreign, against, side, value, effective_at, scale,
                                    channel=channel, per=foreign))
    return point, quotes


def _degrees(department, key: str, bound: int) -> Decimal | None:
    text = (department.get(key) or "").strip()
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite() or abs(value) > bound:
        raise ValueError(f"{key} is {text!r}, not a {'latitude' if key == 'y' else 'longitude'}")
    return value
