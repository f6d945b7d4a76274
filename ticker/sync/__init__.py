"""Sources -> the store: the only code that meets both.

- `official.Sync`: one official list (NBRB's daily rates, or its monthly ones) into the store;
- `catch_up` and `fetch` here: every official list in turn, as `ticker backfill`, `ticker fetch`
  and the daemon's catch-up all run them (a failure in one list never keeps the next from
  storing; the first is given after all of them);
- `pool`: many requests at once, retries scheduled rather than slept;
- `banks`: one poll of a commercial bank, checked against NBRB's official rates.
"""

from dataclasses import dataclass, field
from datetime import date

from .. import days, sources
from ..errors import Incomplete


@dataclass
class Part:
    """One list's share of a catch-up: {code: [new, revised]} and what still failed, if anything."""

    source: sources.OfficialSource
    summary: dict[str, list[int]]
    failure: Incomplete | None = None

    @property
    def stored(self) -> int:
        return sum(new + revised for new, revised in self.summary.values())


@dataclass
class Run:
    """What a catch-up or a fetch did, list by list, and the notes of all of them (an ended
    currency, a catalogue that could not be re-read): what a person should know that is no failure."""

    parts: list[Part] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    report: list = field(default_factory=list)  # a fetch's [(day, new rates, [(revised rate, old text)])]

    @property
    def failure(self) -> Incomplete | None:
        """The first list's failure, counting every rate the run stored, or None."""
        failure = next((part.failure for part in self.parts if part.failure), None)
        if failure is not None:
            failure.stored = self.stored
        return failure

    @property
    def stored(self) -> int:
        fetched = sum(len(new) + len(revised) for _, new, revised in self.report)
        return fetched + sum(part.stored for part in self.parts)


def _syncs(config, store, lists):
    """A Sync per list, on one store, sharing one list of notes."""
    from .official import Sync

    syncs = [Sync(config, store, source_id) for source_id in lists]
    for sync in syncs[1:]:
        sync.notes = syncs[0].notes
    return syncs


def catch_up(config, store, since: date | None = None, until: date | None = None, codes=None, progress=None,
             lists=sources.LISTS) -> Run:
    """Fill every missing day from `since` (default track.since) to `until` (default: the last day
    each list has published) in each of `lists`, in turn: see `official.Sync.backfill`.

    `progress(source, Progress)` is called after each request. A list that answered only in part
    is that part's `failure` (Incomplete); the others still run. Interrupted (a stop asked by
    `progress`) and KeyboardInterrupt end it at once, after the last batch stored.
    """
    syncs = _syncs(config, store, lists)
    run = Run(notes=syncs[0].notes)
    for sync in syncs:
        part = Part(sync.source, {})
        run.parts.append(part)
        each = progress and (lambda state, source=sync.source: progress(source, state))
        try:
            part.summary = sync.backfill(since, until, codes, each)
        except Incomplete as exc:
            part.summary, part.failure = exc.result, exc
    return run


def fetch(config, store, dates: list[date] | None = None) -> Run:
    """Record the daily list's rates in force on `dates` (default: today and the days after it
    already published) and then, for the same days up to today, whatever the other lists lack
    (a monthly rate not stored yet: one request, and none when it is).

    `Run.report` is the daily list's [(day, new, revised)]; a code missing from a day's list for
    no reason the catalogue gives is the first part's failure, raised by the caller after the
    rest is stored.
    """
    [daily] = _syncs(config, store, sources.LISTS[:1])
    run = Run(notes=daily.notes)
    part = Part(daily.source, {})
    run.parts.append(part)
    try:
        run.report = daily.fetch(dates or None)
    except Incomplete as exc:
        run.report, part.failure = exc.result, exc
    today = days.today()
    first, last = min(dates or [today]), min(max(dates or [today]), today)
    if first <= last:
        rest = catch_up(config, store, first, last, lists=sources.LISTS[1:])
        run.parts += rest.parts
        run.notes += [note for note in rest.notes if note not in run.notes]
    return run
