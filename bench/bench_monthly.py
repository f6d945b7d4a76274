"""NBRB's monthly list: what its backfill costs in requests, beside the minimum and beside the
per-Cur_ID dynamics it could have used, and what reading a monthly rate costs beside a daily one.

The monthly list of a day answers for every monthly currency at once, so a backfill asks one list
a month whatever the number of currencies; dynamics would ask one request per currency, Cur_ID
and 365 days (and what dynamics answers for a monthly Cur_ID is not documented). Measured with the
test catalogue's 3 monthly currencies (BRL until 2022-07, KRW, THB; made-up rates) and with 97
more made up here, as NBRB's real monthly list is long; then a month later, when one new month is
missing. Every request is counted at the local fake.
"""

import math
import tempfile
import time
from datetime import date, datetime
from pathlib import Path

import common

SINCE, UNTIL = date(2016, 7, 1), date(2026, 3, 17)
EXTRA = 97  # made-up monthly currencies added to the catalogue's three


def _catalogue(extra: int) -> list[dict]:
    """The test catalogue, plus `extra` made-up monthly-only currencies shaped like KRW's records
    (codes QAA, QAB, ...; Cur_IDs 1000+ until 2021-07-08, 2000+ after)."""
    from support.nbrb_data import catalogue

    records = catalogue()
    krw = [r for r in records if r["Cur_Abbreviation"] == "KRW"]
    for n in range(extra):
        code = "Q" + chr(65 + n // 26) + chr(65 + n % 26)
        for base, record in zip((1000, 2000), sorted(krw, key=lambda r: r["Cur_DateStart"])):
            records.append({**record, "Cur_ID": base + n, "Cur_ParentID": 1000 + n, "Cur_Abbreviation": code,
                            "Cur_Code": f"{900 + n % 99:03}"})
    return records


def _server(extra: int, until: date):
    """A FakeNBRB with the catalogue (plus `extra`) and a made-up monthly rate for every monthly
    record on the first of each month and on its first day, up to `until`."""
    from support.nbrb_data import monthly_rates
    from support.nbrb_server import FakeNBRB

    records = _catalogue(extra)
    server = FakeNBRB(records)
    server.today = until.isoformat()
    made_up = monthly_rates(until)
    krw = {r["Cur_ID"]: r["Cur_DateStart"] for r in records if r["Cur_Abbreviation"] == "KRW"}
    for cur_id, rates in made_up.items():
        server.add_rates(cur_id, rates)
    for record in records:
        if record["Cur_ID"] >= 1000:  # the extra ones take KRW's rates of the same period
            twin = next(i for i, start in krw.items() if start == record["Cur_DateStart"])
            server.add_rates(record["Cur_ID"], made_up[twin])
    return server


def _backfill(folder: Path, server, day: date):
    """(requests, lists asked, rows, seconds, what dynamics would ask, codes, config) of the monthly
    backfill of "*" on `day` into folder's database."""
    import time_machine
    from support import write_config

    from ticker import config as configuration
    from ticker.days import minsk
    from ticker.sync.official import Sync

    config = configuration.load(write_config(folder, server.url, track={
        "currencies": '["*"]', "since": SINCE.isoformat()}))
    server.reset_log()
    with time_machine.travel(datetime.combine(day, datetime.min.time()).replace(hour=10, tzinfo=minsk()), tick=True):
        sync = Sync(config, source="nbrb-monthly")
        started = time.perf_counter()
        summary = sync.backfill()
        seconds = time.perf_counter() - started
        records = sync.catalogue()
        codes = sync.tracked(records, SINCE, day)
        dynamics = sum(math.ceil(((last - first).days + 1) / 365)
                       for code in codes for _, first, last in sync.source.periods(records, code, SINCE, day))
    sync.store.close()
    lists = sum(path == "/exrates/rates" for path, _ in server.requests)
    return len(server.requests), lists, sum(n for n, _ in summary.values()), seconds, dynamics, len(codes), config


def _lookups(config, runs: int = 20_000) -> tuple[float, float]:
    """Seconds per `reader.find` of a monthly currency (KRW) and of a day with a daily row (the
    same database's monthly row asked on the day it was set: an exact-date hit)."""
    from ticker.store import reader

    conn = reader.connect(config.database.path)
    timings = {}
    for name, day in (("hit", date(2026, 3, 1)), ("monthly", date(2026, 3, 17))):
        started = time.perf_counter()
        for _ in range(runs):
            assert reader.find(conn, "KRW", day) is not None
        timings[name] = (time.perf_counter() - started) / runs
    conn.close()
    return timings["monthly"], timings["hit"]


def run() -> list[common.Row]:
    rows = []
    minimum = 1 + ((UNTIL.year - SINCE.year) * 12 + UNTIL.month - SINCE.month + 1) + 1  # catalogue, months, 2021-07-08
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for extra in (0, EXTRA):
            folder = tmp / f"m{extra}"
            folder.mkdir()
            with _server(extra, UNTIL) as server:
                requests, _, stored, seconds, dynamics, codes, config = _backfill(folder, server, UNTIL)
            print(f"  {codes} monthly currencies: {requests} requests, {stored} rates, {seconds:.2f} s;"
                  f" dynamics would take {dynamics} + 1", flush=True)
            rows.append(common.ratio_row(f"monthly backfill requests, {codes} currencies", requests,
                                         "catalogue + one list a month (+1)", minimum, "req", at_most=1))
            rows.append(common.Row(f"  per-Cur_ID dynamics instead, {codes} currencies", dynamics + 1,
                                   "the lists, measured", requests, "req", "reference", True))
            # A month later, April's rates are set: one list, whatever the number of currencies
            # (and the catalogue, re-read once a day).
            april = date(2026, 4, 1)
            with _server(extra, april) as server:
                _, later, _, _, _, _, _ = _backfill(folder, server, april)
            rows.append(common.ratio_row(f"the next month's lists asked, {codes} currencies", later,
                                         f"one (dynamics: {codes})", 1, "req", at_most=1))
        monthly, hit = _lookups(config)
        rows.append(common.ratio_row("reader.find, a monthly rate mid-month", monthly * 1e6,
                                     "the same on the day it was set (one seek)", hit * 1e6, "µs", at_most=2))
    return rows


if __name__ == "__main__":
    for row in run():
        print(row)
