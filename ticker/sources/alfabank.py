"""Alfa-Bank Belarus: its bank-wide buy and sell rates, from its public partner API (JSON, port 8273).

One `GET /partner/1.0.1/public/rates` (shared/banks/FACTS.md §2; no key) answers with one entry per
currency pair for the whole bank, no branches: six on 2026-10-08 (EUR/RUB, USD/RUB, EUR/USD, RUB/BYN,
EUR/BYN, USD/BYN), in an order that changes from year to year, so each is read by its codes:

    {"rates": [{"sellRate": 94.000000, "sellIso": "EUR", "sellCode": 978, "buyRate": 104.000000,
                "buyIso": "RUB", "buyCode": 643, "quantity": 1, "name": null, "date": "16.02.2024"}, ...]}

Field by field, as this module reads them (the names are the client's side, not the bank's):
- `sellIso`: the currency; `buyIso`: what it is priced in (BYN, or the second currency of a cross
  rate). An entry priced the other way round (sellIso BYN) is refused: no reading of it is known.
- `sellRate`: the bank's BUY (the client sells `sellIso` to the bank at it); `buyRate`: the bank's
  SELL. Both `buyIso` per `quantity` units of `sellIso`, cross rates too (`BankRate.per`). In the 2024
  entries sellRate < buyRate, as a bank's buy below its sell; each answer is checked so.
- `quantity`: the units each rate is for, stated (RUB/BYN 100, the others 1): the quote's scale.
- `date`: DD.MM.YYYY, the day only: `effective_at` "2024-02-16".
- `sellCode`, `buyCode` (numeric ISO codes, numbers or strings) and `name` are not read.
The rates are the whole bank's: they are quoted at one point, `model.BANK_WIDE`, with no city.
"""

from datetime import date

from ..errors import BadResponse
from ..model import BANK_WIDE, BASE, BUY, SELL, Point, BankRate, code
from . import Answer, BankSource, Coverage, Schedule, http
from .answers import answer, local_time, rate

SHORT = "Alfa-Bank"
PATH = "/partner/1.0.1/public/rates"


class AlfaBank(BankSource):
    """Bank-wide rates of six currency pairs (2026) in one request: no branch, no city."""

    id = "alfabank"
    short = SHORT
    name = "Alfa-Bank (ЗАО «Альфа-Банк»), bank-wide exchange rates"
    url = "https://developerhub.alfabank.by:8273/partner/1.0.1/public/rates"
    coverage = Coverage(
        since=date(2024, 2, 16),  # the first answer known, cut to 2 of its entries (shared/banks/samples/fragments)
        days="every day: the rates in force now, for the whole bank",
        history=False,
    )
    # Every 30 minutes, 08:18 to 20:48 Minsk time, every day, apart from the other banks' polls.
    schedule = Schedule(
        published="whenever the bank changes a rate; the answer gives only the day",
        poll="18-59/30 8-20 * * mon-sun",
    )
    scales: dict[str, int] = {}  # the answer states each entry's quantity
    unverified = (
        "no whole answer on record: 2 of 6 entries (2024) and RECON26's list of the six (2026-10-08)",
        "whether the rates are cash, non-cash or online (the answer does not say; BankRate.channel None)",
        "that sellRate is the bank's buy and buyRate its sell (from the 2024 values; checked on each answer)",
        "whether they hold at every branch and in which cities: the feed lists no branches",
        "the answer's shape on an error (its gateway is WSO2: a 404 says \"No matching resource\")",
    )

    def rates(self) -> Answer:
        """The bank-wide point and its non-zero buy and sell rates now."""
        url, body = self.client.json(PATH)
        entries = body.get("rates") if isinstance(body, dict) else None
        if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
            raise BadResponse(SHORT, f"{url}: expected {{\"rates\": [...]}}, got {http.snippet(str(body))}")
        if not entries:
            raise BadResponse(SHORT, f"{url}: the answer lists no rates")
        quotes, refused = [], []
        for n, entry in enumerate(entries, 1):
            try:
                quotes += _entry(entry)
            except ValueError as exc:
                refused.append(f"entry {n} ({entry.get('sellIso')}/{entry.get('buyIso')}): {exc}")
        point = Point(BANK_WIDE, "", "", "", f"{SHORT}: bank-wide rates", "", "")
        return answer(SHORT, url, len(entries), [point], quotes, refused)


def _entry(entry: dict) -> list[BankRate]:
    """One entry's non-zero quotes; ValueError names the first damaged field."""
    foreign, against = code(entry.get("sellIso")), code(entry.get("buyIso"))
    if foreign == BASE:
        raise ValueError(f"it prices BYN in {against}: the other way round from every entry known")
    if foreign == against:
        raise ValueError(f"it prices {foreign} in itself")
    quantity = entry.get("quantity")
    if isinstance(quantity, str) and quantity.isdigit():
        quantity = int(quantity)
    if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 1:
        raise ValueError(f"quantity is {quantity!r}, expected a whole number of units")
    effective_at = local_time("date", entry.get("date"), "%d.%m.%Y")
    quotes = []
    for side, key in ((BUY, "sellRate"), (SELL, "buyRate")):
        value = rate(key, entry.get(key))
        if value is not None:
            quotes.append(BankRate(BANK_WIDE, foreign, against, side, value, effective_at, quantity, per=foreign))
    return quotes
