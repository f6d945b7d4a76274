"""One official list -> the store: fill missing days from it and record newly published ones.

A backfill works through every planned request: one that still fails after its retries is set
aside, and those set aside are tried again at the end of the same run, in at most ROUNDS rounds;
what still fails then is raised as one Incomplete naming the currencies and days, after everything
else was stored. Codes the source's catalogue does not quote on some days (a currency that ended)
never stop the others: they become `notes`, one line each.

A Sync works on one source (one list: NBRB's daily rates, or its monthly ones): it records the
tracked codes of its own list and leaves a code's other days to the list that quotes them (BRL was
set monthly until 2022-07-31). `ticker.sync` runs the lists in turn.
"""

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from itertools import zip_longest

from .. import days, sources
from ..errors import (
    BadRange,
    BadResponse,
    DamagedResponse,
    Incomplete,
    NoData,
    SourceError,
    SourceUnavailable,
)
from ..model import DAILY, Currency, Rate, days_in_force, set_from
from ..sources import Span
from ..store.writer import Store
from .pool import Pool

log = logging.getLogger("ticker")

CATALOGUE_MAX_AGE = timedelta(days=1)
ROUNDS = 3  # rounds, at the end of a backfill, for the requests set aside
GIVE_UP = 3  # currencies failing in a row (each request after its retries) that end a pass: the source is down
SHOWN = 8  # currencies named in the line about what still fails


@dataclass
class Progress:
    """How far a backfill has got, after each request: what it planned, stored and failed so far."""

    codes: int  # currencies planned
    requests: int
    days: int
    codes_done: int = 0  # currencies whose every request has been tried
    requests_done: int = 0
    days_done: int = 0
    stored: int = 0  # rates stored new or revised
    failed: int = 0  # requests that failed after their retries
    tried: set = field(default_factory=set, repr=False)
    done: set = field(default_factory=set, repr=False)

    @property
    def fraction(self) -> float:
        return self.days_done / self.days if self.days else 1.0


class Sync:
    """Everything that writes rates: the one place where a source meets the store.

    `notes` collects, without repeats, what a person should know but that is no failure: a tracked
    currency that ended, days before a currency's first rate, a catalogue that could not be re-read
    (the cached one was used).
    """

    def __init__(self, config, store: Store | None = None, source: "sources.OfficialSource | str" = sources.DEFAULT):
        """On `store` (a new one on the config's database when None), for `source`: an official
        source, or its id in the registry (default NBRB's daily list)."""
        self.config = config
        self.store = store or Store(config.database.path)
        self.source = sources.get(source).from_config(config) if isinstance(source, str) else source
        self.source.notes = []
        self._refreshed = False

    @property
    def notes(self) -> list[str]:
        """What a person should know that is no failure: this Sync's and its source's (a record it
        skipped), one line each; Syncs of one run share one list."""
        return self.source.notes

    @notes.setter
    def notes(self, shared: list[str]) -> None:
        self.source.notes = shared

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    def catalogue(self, refresh: bool = False) -> list[Currency]:
        """The Cur_ID catalogue, cached in the database and re-read once a day or on demand.

        When it cannot be re-read, the cached one serves (with a note); without one, the error is raised.
        """
        records, read_at = self.store.catalogue()
        old = read_at is None or datetime.now(timezone.utc) - days.parse_stamp(read_at) > CATALOGUE_MAX_AGE
        if (refresh or old) and not self._refreshed:
            try:
                with self.store.attempt("catalogue", f"{self.source.id} currencies"):
                    fresh = self.source.currencies()
                    # No daily currency at all is a broken catalogue; none of a rarer list (monthly) is news.
                    if not any(r.periodicity == DAILY for r in fresh):
                        raise BadResponse(self.source.short, "the catalogue lists no daily currency")
                    self.store.save_catalogue(fresh)
                records = fresh
            except SourceError as exc:
                if not records:
                    raise
                self.note(f"{exc}; used the catalogue read at {read_at}")
            self._refreshed = True
        return records

    def tracked(self, records: list[Currency], first: date, last: date) -> list[str]:
        """The configured codes, or for "*" every currency of the source's list quoted between first and last."""
        if not self.config.track.all:
            return list(self.config.track.currencies)
        return sorted({r.code for r in records if r.periodicity == self.source.periodicity
                       and r.start <= last and r.end >= first})

    def unquoted(self, records: list[Currency], code: str, first: date, last: date) -> list[str]:
        """Why no list of the source has a rate of `code` on some days of [first, last], one line per
        stretch: "BGN: NBRB stopped quoting it after 2025-12-31", "XYZ has no daily rate before
        2022-08-01". Days another of its lists quotes are no such days (BRL was set monthly until
        2022-07-31, daily since): that list's Sync records them, and says what there is to say
        about a code it alone quotes ([] here).

        A code in none of the catalogue's lists (a typo in [track] currencies, say) is one such line
        too: it never stops the other codes from being recorded.
        """
        short, periodicity = self.source.short, self.source.periodicity
        periods = sorted((r for r in records if r.code == code), key=lambda r: r.start)
        if not periods:
            return [f"{code}: {short} does not quote it (it is not in {short}'s catalogue of currencies)"]
        lists = {r.periodicity for r in periods}
        if periodicity not in lists:
            return []
        rate = f"{self.source.listing} rate" if lists == {periodicity} else "rate"
        notes = []
        if first < periods[0].start:
            notes.append(f"{code} has no {rate} before {periods[0].start}")
        reach = periods[0].end
        for record in periods[1:]:
            gap_first, gap_last = reach + timedelta(days=1), record.start - timedelta(days=1)
            if gap_first <= gap_last and gap_first <= last and gap_last >= first:
                notes.append(f"{code} has no {rate} from {max(gap_first, first)} to {min(gap_last, last)}")
            reach = max(reach, record.end)
        if reach < last:
            notes.append(f"{code}: {short} stopped quoting it after {reach}")
        return notes

    def _lists(self, codes: list[str] | None, first: date, last: date) -> bool:
        """Whether the source's list has any of `codes` (the tracked ones when None) between first
        and last, by the cached catalogue; True when the catalogue has not been read, or does not
        know a code (the backfill then reads it, and says what is wrong)."""
        records, _ = self.store.catalogue()
        named = codes or (None if self.config.track.all else list(self.config.track.currencies))
        known = {r.code for r in records}
        if not records or any(code not in known for code in named or ()):
            return True
        return any(r.periodicity == self.source.periodicity and r.start <= last and r.end >= first
                   and (named is None or r.code in named) for r in records)

    def _quotes(self, records: list[Currency], code: str, day: date) -> bool:
        """Whether the source's list quotes `code` on `day`."""
        return any(r.code == code and r.periodicity == self.source.periodicity and r.start <= day <= r.end
                   for r in records)

    def plan(self, codes: list[str] | None, since: date, until: date) -> dict[Span, list[str]]:
        """The requests that fill every missing day (see the source's `spans`), each with the codes
        it serves: one code for a dynamics span, every code missing that month for a monthly list.

        A day is missing when no stored rate of the source's list is in force on it (a monthly
        rate is, from the day it was set to the end of that month). Days a named code has no rate
        on (see `unquoted`) become notes; "*" names none.
        """
        records = self.catalogue()
        named = codes or (None if self.config.track.all else list(self.config.track.currencies))
        periodicity = self.source.periodicity
        requests: dict[Span, list[str]] = {}
        for code in named or self.tracked(records, since, until):
            if not any(r.code == code for r in records):
                records = self.catalogue(refresh=True)  # a new currency, perhaps
            if named:
                for text in self.unquoted(records, code, since, until):
                    self.note(text)
            covered = days_in_force(periodicity, self.store.stored_dates(code, set_from(periodicity, since), until,
                                                                         periodicity))
            missing = [day for day in days.each_day(since, until) if day not in covered]
            for first, last in days.runs(missing):
                for request in self.source.spans(records, code, first, last):
                    requests.setdefault(request, []).append(code)
        return requests

    def backfill(self, since: date | None = None, until: date | None = None, codes=None, progress=None):
        """Fill every missing day in [since, until]; returns {code: [new, changed]}.

        `until` defaults to the last day the source has published: today, and the days after it
        already published. `progress(Progress)` is called after each request. Requests still
        failing after ROUNDS rounds raise Incomplete, once everything else is stored.
        """
        since = since or self.config.track.since
        today = days.today()
        if until is not None and since > until:
            raise BadRange(f"--since {since} is after --until {until}")
        summary: dict[str, list[int]] = {}
        if not self._lists(codes, since, until or today):
            return summary  # none of the codes is in the source's list then: nothing to ask, nothing to log
        detail = self._named(f"{','.join(codes or self.config.track.currencies)} {since}..{until or f'{today}+'}")
        with self.store.attempt("backfill", detail) as attempt:
            plan = self.plan(codes, since, until or today)
            requests = _interleaved(plan)
            state = Progress(len({code for served in plan.values() for code in served}), len(requests),
                             sum((b - a).days + 1 for _, a, b in requests))
            failures, gave_up = self._spans(requests, plan, attempt, summary, state, progress)
            rounds = 0
            for round_ in range(ROUNDS):
                retryable = [f for f in failures if isinstance(f[1], (SourceUnavailable, DamagedResponse))]
                if gave_up or not retryable:
                    break  # a source that is down is asked again by the next run, not now
                log.info("backfill: trying again %d request(s) set aside (round %d of %d)",
                         len(retryable), round_ + 1, ROUNDS)
                again, gave_up = self._spans([request for request, _ in retryable], plan, attempt, summary, state,
                                             progress)
                rounds += 1
                failures = [f for f in failures if f not in retryable] + again
            if until is None and self.source.lookahead and self._lists(codes, today, today + timedelta(days=1)):
                self._published_after(today, max(since, today + timedelta(days=1)), codes, attempt, summary, failures)
            if failures:
                raise Incomplete(self.source.short, _still_failing(failures, rounds, gave_up, self.source.listing),
                                 attempt.new + attempt.changed,
                                 [request for request, _ in failures], summary)
        return summary

    def _spans(self, requests, plan, attempt, summary, state: Progress, progress):
        """Ask for the spans, a Pool's workers at a time, and store each as it arrives, in this thread.

        Returns ([(request, error)] for those still failing, in plan order; whether it gave up):
        after GIVE_UP failures in a row of different currencies, the rest of the list is set aside
        unasked (those already asked are still taken in). `plan` maps each request to the codes it serves."""
        failures = []
        streak, failing, gave_up = 0, set(), False
        # The source is down when GIVE_UP requests fail in a row for different currencies; one
        # currency failing throughout says nothing of the others (unless there are no others).
        alone = len({tuple(plan[request]) for request in requests}) == 1
        left = Counter(code for request in requests for code in plan[request])
        with Pool(self.source.span, requests) as asking:
            for request, answer in asking:
                _, first, last = request
                if isinstance(answer, SourceError):
                    failures.append((request, answer))
                    state.failed += 1
                    streak += 1
                    failing.add(tuple(plan[request]))
                    if (len(failing) >= GIVE_UP or alone and streak >= GIVE_UP) and not gave_up:
                        gave_up = True
                        failures += [(rest, answer) for rest in asking.stop()]
                elif isinstance(answer, BaseException):
                    raise answer
                else:
                    streak, failing = 0, set()
                    # A list answers for every currency in it: keep those the request was asked for.
                    new, changed = self.store.write([r for r in answer if r.code in plan[request]], attempt)
                    _count(summary, new, changed)
                    state.stored += len(new) + len(changed)
                if request not in state.tried:  # a retried request counts once
                    state.tried.add(request)
                    state.requests_done += 1
                    state.days_done += (last - first).days + 1
                for code in plan[request]:
                    left[code] -= 1
                    if not left[code] and code not in state.done:
                        state.done.add(code)
                        state.codes_done += 1
                if progress:
                    progress(state)
        order = {request: n for n, request in enumerate(requests)}
        failures.sort(key=lambda failure: order[failure[0]])
        return failures, gave_up

    def _published_after(self, today: date, first: date, codes, attempt, summary, failures) -> None:
        """Store the days after today the source has already published (the lists of those days)."""
        try:
            for _, new, changed in self._days(days.each_day(first, today + timedelta(days=self.source.lookahead)),
                                              today, False, attempt, codes):
                _count(summary, new, changed)
        except SourceError as exc:
            failures.append((Span(None, first, None), exc))

    def fetch(self, dates: list[date] | None = None, first: date | None = None):
        """Record the rates in force on `dates`, or on `first` (default today) and the following
        days, as long as the source has published them.

        Returns [(day, new rates, [(changed rate, old text)])]. A named code missing from a day's
        list for a reason the catalogue gives is a note; for no reason, an Incomplete raised once
        the other codes are stored.
        """
        today = days.today()
        first = first or today
        if dates:
            start = min((r.start for r in self.catalogue() if r.periodicity == self.source.periodicity), default=None)
            if start and min(dates) < start:  # asked, NBRB would answer [] and be taken for damaged
                raise NoData(f"{self.source.short} has no {self.source.listing} rates before {start}")
        detail = self._named(",".join(d.isoformat() for d in dates) if dates else f"{first}+")
        with self.store.attempt("fetch", detail) as attempt:
            wanted = dates or days.each_day(first, today + timedelta(days=self.source.lookahead))
            return self._days(wanted, today, bool(dates), attempt)

    def _days(self, wanted, today: date, explicit: bool, attempt, codes=None):
        report, absent = [], []
        for day in wanted:
            found = self._day(day, today, explicit, codes)
            if found is None:
                break
            rates, missing = found
            report.append((day, *self.store.write(rates, attempt)))
            absent += [f"{code} on {day}" for code in missing]
        if absent:
            stored = sum(len(new) + len(changed) for _, new, changed in report)
            raise Incomplete(self.source.short, f"{', '.join(absent)} missing from its list, though its catalogue "
                                                "quotes it then", stored, absent, report)
        return report

    def poll(self):
        """Record the first day not stored yet, and any later ones already published.

        It starts from the day after the last stored one (today when behind), so while the source
        has not published that day, a poll costs one request. Codes the cached catalogue says are
        no longer quoted (an ended currency) do not hold it back. Returns what `fetch` returns.
        """
        today = days.today()
        track = self.config.track
        codes = None
        if not track.all:
            records, _ = self.store.catalogue()
            codes = [code for code in track.currencies if not self._ended(records, code, today)]
        last = self.store.last_date(codes or None, self.source.periodicity)
        return self.fetch(first=today if last is None or last < today else last + timedelta(days=1))

    def _ended(self, records: list[Currency], code: str, day: date) -> bool:
        """Whether the cached catalogue says the source's list quotes `code` no more from `day` on
        (or never did: a currency of another list)."""
        periods = [r for r in records if r.code == code and r.periodicity == self.source.periodicity]
        return bool(records) and (not periods or max(r.end for r in periods) < day)

    def _named(self, detail: str) -> str:
        """What a `fetches` row says was asked: the source's id first, unless it is the default one."""
        return detail if self.source.id == sources.DEFAULT else f"{self.source.id}: {detail}"

    def _day(self, day: date, today: date, explicit: bool, codes=None) -> tuple[list[Rate], list[str]] | None:
        """The tracked rates in force on `day` and the named codes missing from its list for no
        reason the catalogue knows; None when that day is not published yet."""
        short = self.source.short
        rates = self.source.day(day)
        if not rates or all(r.date != day for r in rates):
            if day <= today:  # sources raise this themselves; a safeguard for one that does not
                raise DamagedResponse(short, f"it listed no rates in force on {day}, a day already published")
            if explicit:
                raise NoData(f"the rates for {day} are not published yet ({short} publishes them "
                             f"{self.source.schedule.published})")
            return None
        if any(r.date != day for r in rates):
            raise BadResponse(short, f"the list for {day} mixes in other dates")
        named = codes or (None if self.config.track.all else list(self.config.track.currencies))
        if not named:
            return rates, []
        quoted = {r.code for r in rates}
        missing = []
        for code in named:
            if code in quoted:
                continue
            records = self.catalogue()
            if not any(r.code == code for r in records):
                records = self.catalogue(refresh=True)
            reasons = self.unquoted(records, code, day, day)
            if reasons:
                self.note(reasons[0])
            elif self._quotes(records, code, day):
                missing.append(code)
            # else another list of the source quotes it that day: its Sync records it
        return [r for r in rates if r.code in named], missing


def _count(summary: dict[str, list[int]], new: list[Rate], changed) -> None:
    """Add a batch's new and changed rates to a backfill's {code: [new, changed]}."""
    for r in new:
        summary.setdefault(r.code, [0, 0])[0] += 1
    for r, _ in changed:
        summary.setdefault(r.code, [0, 0])[1] += 1


def _interleaved(plan: dict[Span, list[str]]) -> list[Span]:
    """The planned requests taking the currencies in turn (each one's spans in date order), so
    that failures in a row are different currencies' and say the source is down, while one
    currency that fails throughout (a hole at the source) never stops the others being asked."""
    by_codes: dict[tuple, list[Span]] = {}
    for request, codes in plan.items():
        by_codes.setdefault(tuple(codes), []).append(request)
    turns = zip_longest(*by_codes.values())
    return [request for turn in turns for request in turn if request is not None]


def _still_failing(failures, rounds: int, gave_up: bool, listing: str) -> str:
    """One line: the currencies (or lists) and days still failing, and the last error."""
    spans: dict[str, list[tuple[date, date]]] = {}
    for (currency, first, last), _ in failures:
        if last is None:
            spans.setdefault("the days published", []).append((first, None))
            continue
        merged = spans.setdefault(currency.code if currency else f"the {listing} list", [])
        if merged and merged[-1][1] + timedelta(days=1) == first:
            merged[-1] = (merged[-1][0], last)
        else:
            merged.append((first, last))
    shown = []
    for code, runs in list(spans.items())[:SHOWN]:
        shown.append(f"{code} " + " and ".join(f"{a}..{b}" if b else f"from {a}" for a, b in runs))
    more = f" and {len(spans) - SHOWN} more currencies" if len(spans) > SHOWN else ""
    error = str(failures[-1][1])
    when = (f"stopped asking after {GIVE_UP} requests failed in a row" if gave_up
            else f"still failing after {rounds} more round{'s' * (rounds != 1)}")
    return f"{when}: {', '.join(shown)}{more} ({error})"
