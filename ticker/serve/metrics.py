"""/metrics: a prometheus_client collector that reads the database at each scrape, so every figure
is the record's own (the daemon keeps nothing for it), whichever process wrote it.

Named by Prometheus' rules: a `ticker_` prefix, base units (seconds, and BYN for rates), `_total`
on counters, `_timestamp_seconds` on moments. Ages are measured from the server's clock.
"""

import time
from datetime import timedelta

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from .. import days, sources
from ..days import parse_stamp
from ..store import health as rows
from ..store import reader, serving


class Collector:
    """The ticker_* metrics of one database; `connect()` gives a read-only connection, or raises."""

    def __init__(self, connect, config):
        self.connect, self.config = connect, config

    def describe(self):
        return []  # read at scrape time only: registering the collector must not touch the database

    def collect(self):
        conn = self.connect()
        now = time.time()
        today = days.today()
        self._found = None  # `ticker status`'s report, built once per scrape
        yield from self._rates(conn, today)
        yield from self._health(conn, now)
        yield from self._banks(conn)

    def _rates(self, conn, today):
        rate = GaugeMetricFamily("ticker_rate_byn", "NBRB's official rate in force today: BYN per `scale` units"
                                 " of `currency`, as published (a monthly rate: the one set this month)",
                                 labels=["currency", "scale"])
        for q in serving.in_force(conn, today):
            if q.unit == "BYN":
                rate.add_metric([q.code, str(q.scale)], float(q.rate))
        yield rate
        ahead = GaugeMetricFamily("ticker_rate_tomorrow_byn", "NBRB's official rate for tomorrow, once published:"
                                  " BYN per `scale` units of `currency`", labels=["currency", "scale"])
        for q in serving.in_force(conn, today + timedelta(days=1)):
            if q.date > today and q.unit == "BYN":
                ahead.add_metric([q.code, str(q.scale)], float(q.rate))
        yield ahead
        missing = GaugeMetricFamily("ticker_rates_missing", "Days since track.since on which NBRB quotes a currency and"
                                    " no rate of it is stored, as `ticker status` counts them (a backfill fills"
                                    " them)", labels=["currency"])
        for row in self._report(conn)["currencies"]:
            missing.add_metric([row["code"]], row["missing"])
        yield missing

    def _report(self, conn) -> dict:
        if self._found is None:
            from datetime import datetime, timezone

            from ..service import health

            self._found = health.report(self.config, conn, datetime.now(timezone.utc))
        return self._found

    def _health(self, conn, now):
        newest = serving.newest_fetched(conn)
        if newest:
            yield GaugeMetricFamily("ticker_newest_rate_age_seconds", "Seconds since the newest stored rate was"
                                    " stored (first, or last revised)", value=now - parse_stamp(newest).timestamp())
        ok = reader.last_fetch(conn, "ok")
        if ok and ok["finished_at"]:
            yield GaugeMetricFamily("ticker_last_success_timestamp_seconds", "When the last successful fetch or"
                                    " backfill ended", value=parse_stamp(ok["finished_at"]).timestamp())
        yield CounterMetricFamily("ticker_fetch_failures", "Fetches and backfills that ended in an error",
                                  value=serving.fetch_failures(conn))
        daemon = rows.read(conn)
        if daemon is not None:
            yield GaugeMetricFamily("ticker_daemon_heartbeat_age_seconds", "Seconds since the daemon (ticker run)"
                                    " last wrote its heartbeat", value=now - parse_stamp(daemon["heartbeat_at"]).timestamp())
            yield GaugeMetricFamily("ticker_daemon_running", "1 while the daemon's row says running, 0 once it"
                                    " stopped cleanly", value=1 if daemon["state"] == "running" else 0)
        report = self._report(conn)
        yield GaugeMetricFamily("ticker_up_to_date", "1 when `ticker status` says up to date, 0 when stale",
                                value=1 if report["ok"] else 0)

    def _banks(self, conn):
        from ..errors import NoData

        best = GaugeMetricFamily("ticker_bank_best_rate_byn", "The best bank rate in `city` in the last bank answer:"
                                 " `buy`, the most a bank pays for `scale` units of `currency`; `sell`, the least it"
                                 " asks; in BYN", labels=["currency", "scale", "side", "city"])
        try:
            city = reader.bank_city(conn, self.config.banks.city)
        except NoData:  # no bank rates stored, or none for that city
            city = None
        if city is not None:
            for code, rates in sorted(reader.bank_rates_of(conn, reader.bank_codes(conn), city).items()):
                for side, found in (("buy", rates.buy), ("sell", rates.sell)):
                    if found is not None:
                        best.add_metric([code, str(found.scale), side, city], float(found.rate))
        yield best
        answered = GaugeMetricFamily("ticker_bank_last_answer_timestamp_seconds", "When the last good answer of"
                                     " `bank` (its source id) was stored", labels=["bank"])
        for bank in sources.BANKS:
            last = reader.bank_last_poll(conn, bank)
            if last:
                answered.add_metric([bank], parse_stamp(last["finished_at"]).timestamp())
        yield answered


def render(registry) -> bytes:
    from prometheus_client import generate_latest

    return generate_latest(registry)
