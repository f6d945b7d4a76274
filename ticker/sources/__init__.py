"""Where rates come from: each source is one module with one class behind `Source`, named in REGISTRY.

Nothing outside this package imports a source module: the sync code asks the registry for a
source by its id and talks to it through the interface below. Adding a source is one module
and one line in REGISTRY.
"""

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from importlib import import_module

from ..errors import BadResponse
from ..model import BASE, BUY, SELL, Point, Quote


@dataclass(frozen=True)
class Coverage:
    """What a source has, as data: from when, which days, and when new rates appear."""

    since: date  # the first day it has rates for (a bank: the first answer known to us)
    days: str  # which days have a rate
    published: str  # when the next rates appear, in the source's words
    history: bool = True  # whether past days can be asked for; a bank tells only its rates now


@dataclass(frozen=True)
class Answer:
    """What a bank source answered: its points and their non-zero rates, and what it refused.

    `refused` holds one line per point left out (a value that is not a number, say); the points
    and quotes never include any part of a refused point.
    """

    url: str
    listed: int  # points in the answer, before the cities kept and the refusals
    points: list[Point]
    quotes: list[Quote]
    refused: list[str] = field(default_factory=list)


class Source:
    """A source of rates and its metadata. Subclasses set the attributes and `from_config`.

    Official-rate sources (`kind == "official"`) also provide, for the sync code:
    - `currencies() -> list[Currency]`: the catalogue, one record per Cur_ID period;
    - `day(on: date) -> list[Rate]`: the rates in force on a day, [] while unpublished;
    - `spans(records, code, first, last) -> [(currency or None, first, last)]`: the requests that
      fill [first, last] for one code, each to be passed to `span`; requests that several codes
      need are equal tuples, asked once (None: a request for every currency of its list);
    - `span(currency, first, last) -> list[Rate]`: the rates one such request answers;
    - `periods(records, code, first, last)`: the catalogue periods of one code in its list;
    - `periodicity` (Cur_Periodicity of its list), `listing` ("daily", "monthly"), `max_span`
      (days a request may cover) and `lookahead` (days after today already published, at most).
    Commercial-bank sources (`kind == "bank"`) provide:
    - `schedule`: when to poll by default, a crontab (day names) in Minsk time;
    - `scales`: {code: units per quoted rate} for the direct rates, as data: the bank's convention,
      which its answers do not state (cross rates are per 1 unit); {} for a feed that states them;
    - `unverified`: what of its feed nobody has checked against the live service, one line each
      (shared/banks/FACTS.md says what is known and from where); () when an answer is on record;
    - `rates() -> Answer`: its points and their buy and sell rates now, in one request. Zeros
      ("not offered") are left out; a point with a damaged value is refused whole and named in
      `Answer.refused`, and so is a currency the bank would buy dearer than it sells (`directions`);
      an answer with no usable rate raises BadResponse.
    Every method raises `SourceUnavailable` when the source cannot be reached and `BadResponse`
    when its answer cannot be used (both name the source); nothing they return is ever partial.
    """

    id: str  # short, stable, used in the database and the config: "nbrb"
    short: str  # how messages name it: "NBRB"
    name: str  # its full name
    url: str  # where people can read about the data
    kind: str  # "official" (NBRB) or "bank" (a commercial bank's buy and sell rates)
    coverage: Coverage
    unverified: tuple[str, ...] = ()

    @classmethod
    def from_config(cls, config) -> "Source":
        raise NotImplementedError


# -- what every bank source does with its answer ------------------------------------------

NUMBER = re.compile(r"^\d+(\.\d+)?$")


def rate(key: str, value) -> Decimal | None:
    """A published rate as an exact Decimal, trailing zeros kept, or None for zero ("not offered");
    ValueError naming `key` when it is not a rate (a decimal comma, a sign, text, a bool)."""
    if isinstance(value, str) and NUMBER.match(value):
        return Decimal(value) if value.strip("0.") else None
    if isinstance(value, (Decimal, int)) and not isinstance(value, bool) and value >= 0:
        return Decimal(value) if value else None
    raise ValueError(f"{key} is {value!r}, not a rate")


def local_time(key: str, value, pattern: str) -> str:
    """A feed's local date or time ("08.10.2026", "08.10.2026 14:15" for "%d.%m.%Y %H:%M") in ISO
    order and to the precision published ("2026-10-08", "2026-10-08 14:15"); ValueError naming `key`."""
    try:
        parsed = datetime.strptime(value.strip(), pattern)
    except (AttributeError, ValueError):
        shown = pattern.replace("%d", "DD").replace("%m", "MM").replace("%Y", "YYYY").replace("%H", "HH").replace("%M", "MM")
        raise ValueError(f"{key} is {value!r}, expected {shown}") from None
    return parsed.strftime("%Y-%m-%d %H:%M" if "%H" in pattern else "%Y-%m-%d")


def answer(short: str, url: str, listed: int, points: list[Point], quotes: list[Quote], refused: list[str],
           wrong: dict | None = None) -> Answer:
    """A bank source's Answer once its points are read: `refused` (one reason per point or entry left
    out) and `wrong` (see `lines`) become the answer's lines, and the quotes pass `directions`.

    Raises BadResponse when nothing is left: every point refused, no rate at all, every rate refused.
    """
    if not points:
        raise BadResponse(short, f"{url}: every point refused, e.g. {refused[0]}")
    if not quotes:
        if refused:
            raise BadResponse(short, f"{url}: no rate left, e.g. refused {refused[0]}")
        raise BadResponse(short, f"{url}: {len(points)} point{'s' * (len(points) > 1)} but no rates (every value is 0)")
    quotes, reversed_ = directions(short, quotes)
    later = lines(short, wrong or {}) + reversed_
    if not quotes:
        raise BadResponse(short, f"{url}: every rate refused, e.g. {later[0]}")
    return Answer(url, listed, points, quotes, [f"{short}: refused {reason}" for reason in refused] + later)


def directions(short: str, quotes: list[Quote]) -> tuple[list[Quote], list[str]]:
    """The quotes whose bank buys cheaper than it sells (or quotes one side only), and one line per
    currency pair, channel and tier that it would buy dearer than it sells somewhere, or quotes
    twice at one point: both sides refused at those points, never stored.

    Every bank source calls this on its answer: a bank that buys dearer than it sells would lose on
    every exchange, so its labels are the other way round (or the value is damaged), and which way
    cannot be told from the answer. Buying at exactly its selling rate is allowed. Compared exactly,
    per one unit; Belarusbank's cross sell side (`code` per 1 `against`) is turned round by
    multiplying: the bank buys dearer when buy x sell > 1.
    """
    pairs: dict[tuple, list] = {}  # (point, code, against, channel, tier) -> [buy, sell, more of one side]
    for q in quotes:
        key = (q.point, q.code, q.against, q.channel, q.min_amount, q.max_amount)
        slot = pairs.get(key)
        if slot is None:
            slot = pairs[key] = [None, None]
        i = 0 if q.side == BUY else 1
        if slot[i] is None:
            slot[i] = q
        else:
            slot.append(q)
    kept, refused = [], defaultdict(list)
    for (point, *what), slot in pairs.items():
        buy, sell, *more = slot
        problem = None
        if more:
            both = [q for q in (buy, sell, *more) if q is not None]
            problem = f"quoted {len(both)} times at one point: {', '.join(f'{q.side} {q.rate}' for q in both)}"
        elif buy is not None and sell is not None:
            problem = _dearer(buy, sell)
        if problem:
            refused[tuple(what)].append((point, problem))
        else:
            kept += [q for q in (buy, sell) if q is not None]
    return kept, lines(short, refused)


def lines(short: str, refused: dict[tuple, list[tuple[str, str]]]) -> list[str]:
    """One line per (code, against, channel, min amount, max amount) refused at some points: how many,
    the first three, and the first one's problem (the others are the same mistake with other values)."""
    said = []
    for (code, against, channel, low, high), bad in refused.items():
        pair = code if against == BASE else f"{code}/{against}"
        kind = f" {channel}" if channel else ""
        tier = "" if low is None else f" (amounts {low} to {'any' if high is None else high})"
        where = ", ".join(point for point, _ in bad[:3]) + (", ..." if len(bad) > 3 else "")
        said.append(f"{short}: refused{kind} {pair}{tier} at {len(bad)} point{'s' * (len(bad) > 1)} ({where}):"
                    f" {bad[0][1]}")
    return said


def _dearer(buy: Quote, sell: Quote) -> str | None:
    """Why the bank would buy dearer than it sells, in words, or None."""
    if sell.quoted_per == sell.code:  # both sides `against` per `scale` units of `code`
        if buy.rate * (sell.scale or 1) <= sell.rate * (buy.scale or 1):
            return None
        return (f"it would buy at {buy.rate} and sell at {sell.rate} {buy.against} per {buy.scale or 1} {buy.code},"
                " dearer than it sells: the labels reversed?")
    if buy.rate * sell.rate <= 1:  # the sell side is `code` per 1 `against`: 1/sell is its price
        return None
    return (f"it would buy 1 {buy.code} for {buy.rate} {buy.against} and sell 1 {buy.against} for {sell.rate}"
            f" {buy.code}, dearer than it sells: the labels reversed?")


# NBRB's official lists, daily first: a backfill and the daemon's catch-up record each (the daily
# one is also what `Sync` works on unless told otherwise, and what polls and `ticker fetch` ask).
LISTS = ("nbrb", "nbrb-monthly")
DEFAULT = LISTS[0]
# id -> "module:class", imported on first use so that read-only commands never load requests.
REGISTRY = {
    "nbrb": "ticker.sources.nbrb:NBRB",
    "belarusbank": "ticker.sources.belarusbank:Belarusbank",
    "mtbank": "ticker.sources.mtbank:MTBank",
    "belgazprombank": "ticker.sources.belgazprombank:Belgazprombank",
    "alfabank": "ticker.sources.alfabank:AlfaBank",
    "dabrabyt": "ticker.sources.dabrabyt:Dabrabyt",
    "nbrb-monthly": "ticker.sources.nbrb:NBRBMonthly",
}


def get(source_id: str) -> type[Source]:
    """The source class registered under `source_id`; KeyError names the known ones."""
    try:
        module, name = REGISTRY[source_id].split(":")
    except KeyError:
        raise KeyError(f"no source {source_id!r} (known: {', '.join(REGISTRY)})") from None
    return getattr(import_module(module), name)
