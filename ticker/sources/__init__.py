"""Where rates come from: each source is one module with one class behind `Source`, named in REGISTRY.

Nothing outside this package imports a source module: the sync code asks the registry for a
source by its id and talks to it through the interface below. Adding a source is one module
and one line in REGISTRY.
"""

from dataclasses import dataclass, field
from datetime import date
from importlib import import_module

from ..model import Point, Quote


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
      which its answers do not state (cross rates are per 1 unit);
    - `rates() -> Answer`: its points and their buy and sell rates now, in one request. Zeros
      ("not offered") are left out; a point with a damaged value is refused whole and named in
      `Answer.refused`; an answer with no usable rate raises BadResponse.
    Every method raises `SourceUnavailable` when the source cannot be reached and `BadResponse`
    when its answer cannot be used (both name the source); nothing they return is ever partial.
    """

    id: str  # short, stable, used in the database and the config: "nbrb"
    short: str  # how messages name it: "NBRB"
    name: str  # its full name
    url: str  # where people can read about the data
    kind: str  # "official" (NBRB) or "bank" (a commercial bank's buy and sell rates)
    coverage: Coverage

    @classmethod
    def from_config(cls, config) -> "Source":
        raise NotImplementedError


# NBRB's official lists, daily first: a backfill and the daemon's catch-up record each (the daily
# one is also what `Sync` works on unless told otherwise, and what polls and `ticker fetch` ask).
LISTS = ("nbrb", "nbrb-monthly")
DEFAULT = LISTS[0]
# id -> "module:class", imported on first use so that read-only commands never load requests.
REGISTRY = {
    "nbrb": "ticker.sources.nbrb:NBRB",
    "belarusbank": "ticker.sources.belarusbank:Belarusbank",
    "nbrb-monthly": "ticker.sources.nbrb:NBRBMonthly",
}


def get(source_id: str) -> type[Source]:
    """The source class registered under `source_id`; KeyError names the known ones."""
    try:
        module, name = REGISTRY[source_id].split(":")
    except KeyError:
        raise KeyError(f"no source {source_id!r} (known: {', '.join(REGISTRY)})") from None
    return getattr(import_module(module), name)
