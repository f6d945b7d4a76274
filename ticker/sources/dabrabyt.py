"""Bank Dabrabyt: the buy and sell rates of each of its branches, and when they were set, from its XML feed.

One `GET /export_courses.php` answers for the whole bank (shared/banks/FACTS.md §6.1; read by at
least ten public clients, no answer on record):

    <root>
      <time>08.10.2026 14:15</time>
      <filials>
        <filial name="Центральный офис">
          <rates><value iso="USD" buy="3.02" sale="3.07"/><value iso="USD/EUR" buy="..." sale="..."/>...

Field by field, as this module reads them:
- `time`: DD.MM.YYYY HH:MM, Minsk time, when the rates were set (an element, or an attribute of the
  root: the clients' code allows either reading): `effective_at` "2026-10-08 14:15".
- `filial`: a branch; its `name`, its only detail, is its id: no address, city, coordinates or hours.
- `value`: one currency, selected by its `iso` (clients that read USD, EUR, RUB by position break
  when the order changes). `iso` "USD/EUR" is a cross rate of the first against the second (the
  clients skip these; they are kept here), codes in any case.
- `buy`: the bank's buy (it buys the currency from the client); `sale`: its sell. BYN per `scales`
  units, which the answer does not state (RUB per 100, as clients that store a quantity have it);
  a cross rate, both sides, the second currency per 1 of the first (`BankRate.per`). Checked by real
  numbers: a pair bought dearer than sold is refused. 0 or missing: that side is not offered (the
  clients drop values <= 0); a negative or unreadable value refuses its branch.
TLS is verified as for every source (one PHP client turns verification off for this host, for a
reason nobody wrote down): a failure says so, naming the host.
"""

import re
from collections import Counter
from datetime import date

from ..errors import BadResponse
from ..model import BASE, BUY, SELL, Point, BankRate
from . import Answer, BankSource, Coverage, Schedule, http
from .answers import answer, local_time, rate

SHORT = "Dabrabyt"
ISO = re.compile(r"^([A-Za-z]{3})(?:/([A-Za-z]{3}))?$")


class Dabrabyt(BankSource):
    """Rates of each branch in one request, with the time they were set."""

    id = "dabrabyt"
    short = SHORT
    name = "Bank Dabrabyt (ЗАО «Банк Дабрабыт»), exchange rates of its branches"
    url = "https://bankdabrabyt.by/export_courses.php"
    coverage = Coverage(
        since=date(2026, 10, 8),  # no answer on record: read as public clients read it (FACTS §6.1)
        days="every day: the rates in force now, at each branch",
        history=False,
    )
    # Every 30 minutes, 08:24 to 20:54 Minsk time, every day, apart from the other banks' polls.
    schedule = Schedule(
        published="whenever the bank changes a rate; `time` says when",
        poll="24-59/30 8-20 * * mon-sun",
    )
    # Units per quoted rate, which the answer does not state (FACTS §6.1): RUB per 100 as clients
    # have it, the others NBRB's scales (the sync checks each against NBRB).
    scales = {"USD": 1, "EUR": 1, "GBP": 1, "CHF": 1, "RUB": 100, "PLN": 10, "CNY": 10}
    unverified = (
        "no answer on record, and no live look: the shape is what public clients read",
        "whether time is an element or an attribute of the root, and its time zone (Minsk assumed)",
        "that buy is the bank's buy and sale its sell (checked on each answer)",
        "the units: RUB per 100 as clients have it; the others NBRB's scales, assumed",
        "whether the rates are cash or non-cash (the feed does not say; BankRate.channel None)",
        "which city each branch is in: the feed names branches only (Point.city '')",
        "that a cross rate USD/EUR is EUR per 1 USD on both sides",
        "the encoding and content type of the answer, and why a client turns TLS verification off",
    )

    def rates(self) -> Answer:
        """Every branch and its non-zero buy and sell rates now."""
        url, root = self.client.xml("/export_courses.php")
        if http.tag(root) != "root":
            raise BadResponse(SHORT, f"{url}: expected <root>, got <{http.tag(root)}>")
        branches = list(root.iter("filial"))
        if not branches:
            raise BadResponse(SHORT, f"{url}: the answer lists no <filial>")
        element = root.find("time")
        shown = element.text if element is not None else root.get("time")
        try:
            effective_at = local_time("time", shown, "%d.%m.%Y %H:%M") if shown is not None else None
        except ValueError as exc:
            raise BadResponse(SHORT, f"{url}: {exc}") from None
        names = Counter((b.get("name") or "").strip() for b in branches)
        points, quotes, refused = [], [], []
        for branch in branches:
            name = (branch.get("name") or "").strip()
            try:
                if not name:
                    raise ValueError("it has no name")
                if names[name] > 1:
                    raise ValueError(f"the name {name} appears more than once in the answer")
                branch_quotes = _rates(branch, name, effective_at, self.scales)
            except ValueError as exc:
                refused.append(f"branch {name or '(no name)'}: {exc}")
                continue
            points.append(Point(name, "", "", "", name, "", ""))
            quotes += branch_quotes
        return answer(SHORT, url, len(branches), points, quotes, refused)


def _rates(branch, name: str, effective_at: str | None, scales: dict[str, int]) -> list[BankRate]:
    """A branch's non-zero quotes; ValueError names the first damaged field."""
    quotes = []
    for value in branch.iter("value"):
        shown = value.get("iso")
        match = ISO.match((shown or "").strip())
        if not match:
            raise ValueError(f"iso is {shown!r}, expected a code (USD) or a pair (USD/EUR)")
        code, against = match.group(1).upper(), (match.group(2) or BASE).upper()
        for side, key in ((BUY, "buy"), (SELL, "sale")):
            given = value.get(key)
            number = rate(f"{shown} {key}", given.strip()) if given is not None else None
            if number is not None:
                quotes.append(BankRate(name, code, against, side, number, effective_at,
                                    scales.get(code) if against == BASE else 1, per=code))
    return quotes
