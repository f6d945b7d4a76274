"""Belgazprombank: the buy and sell rates of each of its branches, tiered by amount, from its XML feed.

One `GET /upload/courses.xml` answers for the whole bank (shared/banks/FACTS.md §4; about 64 KB and
46 branches on 2026-10-08). The documented `/export_courses.php` redirects there through plain http
(301 to an http:// URL, then to https://.../upload/courses.xml), which a strict client refuses: this
module asks for the file itself. What is known of the file:

    <branch name="ЦБУ №501">
      <rate currency="usd" Units="1">
        <range min-amount="0" max-amount="9999"><buy>3.035</buy><sell>3.059</sell></range>
        <range min-amount="10000" ...>...</range>
      </rate>
      ...

Field by field, as this module reads them:
- `currency`: lower-case codes (usd, eur, rub, uah, gbp, chf, pln, cny) for rates against BYN, and
  pairs (eur_rub, usd_rub, usd_pln, eur_usd, gbp_usd, usd_cny and their reverses) for cross rates
  of the first against the second.
- `Units`: the units of the currency each rate is for, stated (RUB 100, PLN 10, CNY 10, the others
  1); kept as the quote's scale, so `scales` is empty.
- `range`: a tier, `min-amount` to `max-amount` of the currency, both included; one without
  `max-amount` has no upper bound. The tiers of a currency must start at 0 and not overlap, or
  that currency is refused at that branch: "best" rates use the tier from 0 (`BankRate.typical`).
  A `rate` with `buy` and `sell` and no `range` is not tiered.
- `buy`: the bank's buy (it buys the currency from the client); `sell`: its sell. BYN per `Units`
  units; a cross rate, both sides, the second currency per `Units` of the first (`BankRate.per`).
  Checked by real numbers: a pair bought dearer than sold is refused. 0, empty or missing: that
  side is not offered.
- `name`: the branch's name, its only detail, and so its id: no address, city, coordinates, hours
  or time of the rates (`effective_at` None).
"""

import re
from collections import Counter
from datetime import date
from decimal import Decimal

from ..errors import BadResponse
from ..model import BASE, BUY, SELL, Point, BankRate
from . import Answer, BankSource, Coverage, Schedule, http
from .answers import NUMBER, answer, rate

SHORT = "Belgazprombank"
CURRENCY = re.compile(r"^([A-Za-z]{3})(?:_([A-Za-z]{3}))?$")


class Belgazprombank(BankSource):
    """Rates of about 46 branches (2026) in one request, tiered by amount, with their units stated."""

    id = "belgazprombank"
    short = SHORT
    name = "Belgazprombank (ОАО «Белгазпромбанк»), exchange rates of its branches, tiered by amount"
    url = "https://belgazprombank.by/upload/courses.xml"
    coverage = Coverage(
        since=date(2026, 10, 8),  # no answer on record: the first one described (FACTS §4, RECON26)
        days="every day: the rates in force now, at each branch",
        history=False,
    )
    # Every 30 minutes, 08:12 to 20:42 Minsk time, every day, apart from the other banks' polls.
    schedule = Schedule(
        published="whenever the bank changes a rate; the answer does not say when",
        poll="12-59/30 8-20 * * mon-sun",
    )
    scales: dict[str, int] = {}  # the answer states each rate's Units
    unverified = (
        "no answer on record: the shape is RECON26's description of 2026-10-08; the root element's name is unknown",
        "that buy is the bank's buy and sell its sell (checked on each answer)",
        "whether the rates are cash or non-cash (the feed does not say; BankRate.channel None)",
        "which currency min-amount and max-amount count (taken as the rate's first currency), and that both are"
        " included",
        "which city each branch is in: the feed names branches only (Point.city '')",
        "that a cross rate is the second currency per Units of the first on both sides",
        "the encoding and content type of the answer",
    )

    def rates(self) -> Answer:
        """Every branch and its non-zero buy and sell rates now, each tier of each."""
        url, root = self.client.xml("/upload/courses.xml")
        branches = list(root.iter("branch"))
        if not branches:
            raise BadResponse(SHORT, f"{url}: the answer lists no <branch> (its root is <{http.tag(root)}>)")
        names = Counter((b.get("name") or "").strip() for b in branches)
        points, quotes, refused, wrong = [], [], [], {}
        for branch in branches:
            name = (branch.get("name") or "").strip()
            try:
                if not name:
                    raise ValueError("it has no name")
                if names[name] > 1:
                    raise ValueError(f"the name {name} appears more than once in the answer")
                branch_quotes, tiers = _rates(branch, name)
            except ValueError as exc:
                refused.append(f"branch {name or '(no name)'}: {exc}")
                continue
            points.append(Point(name, "", "", "", name, "", ""))
            quotes += branch_quotes
            for what, problem in tiers:
                wrong.setdefault(what, []).append((name, problem))
        return answer(SHORT, url, len(branches), points, quotes, refused, wrong)


def _rates(branch, name: str) -> tuple[list[BankRate], list[tuple[tuple, str]]]:
    """A branch's quotes, and the currencies whose tiers are refused, each ((code, against, None,
    None, None), problem); ValueError names the first damaged field."""
    quotes, wrong = [], []
    for element in branch.iter("rate"):
        shown = element.get("currency")
        match = CURRENCY.match((shown or "").strip())
        if not match:
            raise ValueError(f"currency is {shown!r}, expected a code (usd) or a pair (eur_rub)")
        code, against = match.group(1).upper(), (match.group(2) or BASE).upper()
        units = element.get("Units", element.get("units"))
        if not (units or "").strip().isdigit() or int(units) == 0:
            raise ValueError(f"{shown}: Units is {units!r}, expected a whole number of units")
        ranges = list(element.iter("range"))
        tiers = [(_amount(shown, r, "min-amount"), _amount(shown, r, "max-amount", True), r) for r in ranges] \
            or [(None, None, element)]
        problem = _tiers(tiers) if ranges else None
        if problem:
            wrong.append(((code, against, None, None, None, None), f"{shown}: {problem}"))
            continue
        for low, high, tier in tiers:
            sides = {http.tag(f): (f.text or "").strip() for f in tier if http.tag(f) in ("buy", "sell")}
            for side in (BUY, SELL):
                value = rate(f"{shown} {side}", sides.get(side) or "0")
                if value is not None:
                    quotes.append(BankRate(name, code, against, side, value, None, int(units),
                                        min_amount=low, max_amount=high, per=code))
    return quotes, wrong


def _amount(shown: str, tier, key: str, optional: bool = False) -> Decimal | None:
    text = (tier.get(key) or "").strip()
    if not text and optional:
        return None
    if not NUMBER.match(text):
        raise ValueError(f"{shown}: {key} is {tier.get(key)!r}, not an amount")
    return Decimal(text)


def _tiers(tiers: list[tuple]) -> str | None:
    """Why a currency's tiers cannot be told apart, in words: they must start at 0 and follow each
    other without overlapping (only the last may be open-ended); None when they do."""
    ordered = sorted(tiers, key=lambda t: t[0])
    shown = ", ".join(f"{low}-{'' if high is None else high}" for low, high, _ in ordered)
    if ordered[0][0] != 0:
        return f"its tiers ({shown}) do not start at 0: which one a typical amount gets is unknown"
    for (low, high, _), (next_low, _, _) in zip(ordered, ordered[1:]):
        if high is None or next_low <= high:
            return f"its tiers ({shown}) overlap"
    if any(high is not None and high < low for low, high, _ in ordered):
        return f"its tiers ({shown}) end before they start"
    return None
