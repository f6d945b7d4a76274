"""Source -> store: fill missing days from an official-rate source and record newly published ones."""

from datetime import date, datetime, timedelta, timezone

from . import days, sources
from .errors import BadRange, BadResponse, NoData, NotQuoted
from .model import Currency, Rate
from .store.writer import Store

CATALOGUE_MAX_AGE = timedelta(days=1)
LOOKAHEAD = 7  # days past today to ask for: Thursday's session sets Friday to Sunday


class Sync:
    """Everything that writes rates: the one place where a source meets the store."""

    def __init__(self, config, store: Store | None = None, source: sources.Source | None = None):
        self.config = config
        self.store = store or Store(config.database.path)
        self.source = source or sources.get("nbrb").from_config(config)
        self._refreshed = False

    def catalogue(self, refresh: bool = False) -> list[Currency]:
        """The Cur_ID catalogue, cached in the database and re-read once a day or on demand."""
        records, read_at = self.store.catalogue()
        old = read_at is None or datetime.now(timezone.utc) - days.parse_stamp(read_at) > CATALOGUE_MAX_AGE
        if (refresh or old) and not self._refreshed:
            with self.store.attempt("catalogue", f"{self.source.id} currencies"):
                records = self.source.currencies()
                if not any(r.periodicity == self.source.periodicity for r in records):
                    raise BadResponse(self.source.short, f"the catalogue lists no {self.source.listing} currency")
                self.store.save_catalogue(records)
            self._refreshed = True
        return records

    def tracked(self, records: list[Currency], first: date, last: date) -> list[str]:
        """The configured codes, or for "*" every currency of the source's list quoted between first and last."""
        if not self.config.track.all:
            return list(self.config.track.currencies)
        return sorted({r.code for r in records if r.periodicity == self.source.periodicity
                       and r.start <= last and r.end >= first})

    def plan(self, codes: list[str] | None, since: date, until: date) -> list[tuple[Currency, date, date]]:
        """The span requests that fill every missing day: at most `max_span` days and one Cur_ID each."""
        records = self.catalogue()
        requests = []
        for code in codes or self.tracked(records, since, until):
            stored = self.store.stored_dates(code, since, until)
            missing = [day for day in days.each_day(since, until) if day not in stored]
            for first, last in days.runs(missing):
                periods = self.source.periods(records, code, first, last)
                if not periods or periods[-1][2] < last:
                    # A code or a date the cached catalogue does not cover: a new Cur_ID, perhaps.
                    records = self.catalogue(refresh=True)
                    periods = self.source.periods(records, code, first, last)
                if not self.source.periods(records, code, date.min, date.max):
                    raise NotQuoted(self.source.short, f"{code} is not in its catalogue of {self.source.listing} currencies")
                requests += [(cur, a, b) for cur, start, end in periods
                             for a, b in days.spans(start, end, self.source.max_span)]
        return requests

    def backfill(self, since: date | None = None, until: date | None = None, codes=None, progress=None):
        """Fill every missing day in [since, until]; returns {code: [new, changed]}.

        `progress(days_done, days_total)` is called after each request.
        """
        since = since or self.config.track.since
        until = until or days.today()
        if since > until:
            raise BadRange(f"--since {since} is after --until {until}")
        summary = {}
        detail = f"{','.join(codes or self.config.track.currencies)} {since}..{until}"
        with self.store.attempt("backfill", detail) as attempt:
            requests = self.plan(codes, since, until)
            total, done = sum((b - a).days + 1 for _, a, b in requests), 0
            for currency, first, last in requests:
                rates = self.source.span(currency, first, last)
                if not rates and first <= days.today():  # today's rate was set on an earlier day
                    raise BadResponse(
                        self.source.short,
                        f"no {currency.code} rates (Cur_ID {currency.cur_id}) for {first}..{last}, days already published",
                    )
                new, changed = self.store.write(rates, attempt)
                counts = summary.setdefault(currency.code, [0, 0])
                counts[0] += len(new)
                counts[1] += len(changed)
                done += (last - first).days + 1
                if progress:
                    progress(done, total)
        return summary

    def fetch(self, dates: list[date] | None = None, first: date | None = None):
        """Record the rates in force on `dates`, or on `first` (default today) and the following
        days, as long as the source has published them.

        Returns [(day, new rates, [(changed rate, old text)])].
        """
        today = days.today()
        first = first or today
        report = []
        detail = ",".join(d.isoformat() for d in dates) if dates else f"{first}+"
        with self.store.attempt("fetch", detail) as attempt:
            for day in dates or days.each_day(first, today + timedelta(days=LOOKAHEAD)):
                rates = self._day(day, today, explicit=bool(dates))
                if rates is None:
                    break
                report.append((day, *self.store.write(rates, attempt)))
        return report

    def poll(self):
        """Record the first day not stored yet, and any later ones already published.

        It starts from the day after the last stored one (today when behind), so while the source
        has not published that day, a poll costs one request. Returns what `fetch` returns.
        """
        today = days.today()
        track = self.config.track
        last = self.store.last_date(None if track.all else list(track.currencies))
        return self.fetch(first=today if last is None or last < today else last + timedelta(days=1))

    def _day(self, day: date, today: date, explicit: bool) -> list[Rate] | None:
        """The tracked rates in force on `day`; None when that day is not published yet."""
        short = self.source.short
        rates = self.source.day(day)
        if not rates or all(r.date != day for r in rates):
            if day <= today:
                raise BadResponse(short, f"it listed no rates in force on {day}, a day already published")
            if explicit:
                raise NoData(f"the rates for {day} are not published yet ({short} publishes them "
                             f"{self.source.coverage.published})")
            return None
        if any(r.date != day for r in rates):
            raise BadResponse(short, f"the list for {day} mixes in other dates")
        if self.config.track.all:
            return rates
        quoted = {r.code for r in rates}
        absent = [code for code in self.config.track.currencies if code not in quoted]
        if absent:
            raise NotQuoted(short, f"{', '.join(absent)} on {day}: remove from track.currencies in the config")
        return [r for r in rates if r.code in self.config.track.currencies]
