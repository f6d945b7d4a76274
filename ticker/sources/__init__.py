"""Where rates come from: each source is one module with one class behind `OfficialSource` or
`BankSource`, named in REGISTRY.

Nothing outside this package imports a source module: the sync code asks the registry for a
source by its id and talks to it through the interface below; `ticker sources` lists the
registry's metadata. Adding a source is one module and one line in REGISTRY.
"""

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import date
from importlib import import_module
from typing import ClassVar, NamedTuple

from ..model import BankRate, Currency, Point, Rate


@dataclass(frozen=True)
class Coverage:
    """What a source has, as data: from when, which days, and whether the past can be asked."""

    since: date  # the first day it has rates for (a bank: the first answer known to us)
    days: str  # which days have a rate, in words
    history: bool = True  # whether past days can be asked for; a bank tells only its rates now


@dataclass(frozen=True)
class Schedule:
    """When a source publishes and when ticker asks it by default, as data (as Frankfurter keeps
    its providers' publication times): the daemon's crontab for it, in Minsk time with day names."""

    published: str  # when new rates appear, in the source's words
    poll: str | None  # when `ticker run` asks for new rates; None: only by the catch-up


class Span(NamedTuple):
    """One request of a backfill: `currency`'s rates (every currency of the list when None) from
    `first` to `last`, inside one Cur_ID period and one request's reach (`max_span`)."""

    currency: Currency | None
    first: date
    last: date


@dataclass(frozen=True)
class Answer:
    """What a bank source answered: its points and their non-zero rates, and what it refused.

    `refused` holds one line per point or currency left out (a value that is not a number, say);
    the points and rates never include any part of a refused point.
    """

    url: str
    listed: int  # points in the answer, before the cities kept and the refusals
    points: list[Point]
    rates: list[BankRate]
    refused: list[str] = field(default_factory=list)


class Source(ABC):
    """A source of rates and its metadata, as `ticker sources` shows them.

    Every method that asks the source raises `SourceUnavailable` when it cannot be reached and
    `BadResponse` when its answer cannot be used (both name the source); nothing they return is
    ever partial.
    """

    id: ClassVar[str]  # short, stable, used in the database and the config: "nbrb"
    short: ClassVar[str]  # how messages name it: "NBRB"
    name: ClassVar[str]  # its full name
    url: ClassVar[str]  # where people can read about the data
    kind: ClassVar[str]  # "official" (NBRB) or "bank" (a commercial bank's buy and sell rates)
    coverage: ClassVar[Coverage]
    schedule: ClassVar[Schedule]
    # What of its feed nobody has checked against the live service, one line each (shared/banks/
    # FACTS.md says what is known and from where); () when its answers are on record.
    unverified: ClassVar[tuple[str, ...]] = ()

    @classmethod
    @abstractmethod
    def from_config(cls, config) -> "Source":
        """The source as the config sets it up (its section: base_url, timeout, retries ...)."""


class OfficialSource(Source):
    """Official rates, by day: a catalogue of currencies, a day's list, and spans of history."""

    kind = "official"
    periodicity: ClassVar[int]  # Cur_Periodicity of the list it reads
    listing: ClassVar[str]  # "daily" or "monthly", as messages name the list
    max_span: ClassVar[int]  # days one request may cover
    lookahead: ClassVar[int]  # days after today already published, at most

    @abstractmethod
    def currencies(self) -> list[Currency]:
        """The catalogue: one record per Cur_ID period."""

    @abstractmethod
    def day(self, on: date) -> list[Rate]:
        """The rates in force on a day; [] while that day is unpublished."""

    @abstractmethod
    def spans(self, records: list[Currency], code: str, first: date, last: date) -> list[Span]:
        """The requests that fill [first, last] for one code; requests several codes need are
        equal, and asked once."""

    @abstractmethod
    def span(self, currency: Currency | None, first: date, last: date) -> list[Rate]:
        """The rates one Span answers."""


class BankSource(Source):
    """A commercial bank's buy and sell rates now, at each of its points, in one request."""

    kind = "bank"
    # {code: units per quoted rate} for the direct rates, as data: the bank's convention, which its
    # answers do not state (cross rates are per 1 unit); {} for a feed that states each rate's units.
    scales: ClassVar[dict[str, int]] = {}

    def __init__(self, base_url: str, timeout: float = 15, retries: int = 4, backoff: float = 0.5, **limits):
        from . import http  # here, not above: read-only commands import this package, never requests

        hint = f"set {self.id}.base_url in the config to use a mirror or proxy"
        self.client = http.Client(self.short, base_url, timeout, retries, backoff, hint, **limits)

    @classmethod
    def from_config(cls, config) -> "BankSource":
        """The bank as its section sets it up; `cities` too, for a feed that names each point's city."""
        from . import http

        bank = getattr(config, cls.id)
        kept = {"cities": bank.cities} if getattr(bank, "cities", ("*",)) != ("*",) else {}
        return cls(bank.base_url, bank.timeout, bank.retries, bank.backoff, **kept, **http.limits(bank))

    @abstractmethod
    def rates(self) -> Answer:
        """Its points and their buy and sell rates now. Zeros ("not offered") are left out; a point
        with a damaged value is refused whole and named in `Answer.refused`, and so is a currency the
        bank would buy dearer than it sells (`answers.directions`); an answer with no usable rate
        raises BadResponse. Every bank source ends its answer through `answers.answer`."""


# NBRB's official lists, daily first: a backfill and the daemon's catch-up record each, in turn;
# polls and `ticker fetch` ask the first.
LISTS = ("nbrb", "nbrb-monthly")
DEFAULT = LISTS[0]
# The commercial banks, each with its [section] in the config and a poll job of its own.
BANKS = ("belarusbank", "mtbank", "belgazprombank", "alfabank", "dabrabyt")
# id -> "module:class", imported on first use so that read-only commands never load requests.
REGISTRY = {
    "nbrb": "ticker.sources.nbrb:NBRB",
    "nbrb-monthly": "ticker.sources.nbrb:NBRBMonthly",
    "belarusbank": "ticker.sources.belarusbank:Belarusbank",
    "mtbank": "ticker.sources.mtbank:MTBank",
    "belgazprombank": "ticker.sources.belgazprombank:Belgazprombank",
    "alfabank": "ticker.sources.alfabank:AlfaBank",
    "dabrabyt": "ticker.sources.dabrabyt:Dabrabyt",
}


def get(source_id: str) -> type[Source]:
    """The source class registered under `source_id`; KeyError names the known ones."""
    try:
        module, name = REGISTRY[source_id].split(":")
    except KeyError:
        raise KeyError(f"no source {source_id!r} (known: {', '.join(REGISTRY)})") from None
    return getattr(import_module(module), name)
