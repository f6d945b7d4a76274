"""Bank rates across the five banks: a simulated year of their polls, each bank's poll into that year,
the size of the year, and the views across banks on it.

The answers: Belarusbank's a 2026-like one of 1,102 points (the recorded 2019 answer reshaped and
repeated under new filial_ids); MTBank's, Belgazprombank's and Dabrabyt's the test fakes' data (built
from shared/banks/FACTS.md, no answer being on record) repeated under new ids to the sizes RECON26
counted, 105 departments and 46 branches, and Dabrabyt's to DABRABYT_BRANCHES (no count on record);
Alfa-Bank's the six bank-wide entries. One local server answers all five feeds.

- A year: 365 days of each bank's polls every 30 minutes from 08:00 to 20:30 (26 a day, each bank at
  its own minutes), every one through the store's writer, with a few changes a day: USD, EUR, RUB
  and the crosses move at 09:30, 14:00 and 18:00, the other currencies once a day, by a random walk
  shared by every bank and point. Belarusbank's points keep the recording's variety (152 distinct
  rate sets among 1,102 points); the others repeat the fakes' few. The size is set against storing
  every answer whole (each bank's answer, a row per point, currency and side, times its polls), and
  must be tens of MB.
- Each bank's poll into that year: `bank_sync.poll` end to end (HTTP from the local server, its parser,
  the checks against NBRB's official rates, one transaction) with the rates changed since the poll
  before (as at 09:30) and again unchanged (every other poll), against the least any client does with
  the same answer in the same run: requests + its parser (json.loads, or defusedxml as ticker reads
  XML) + one executemany of every non-zero value into a bare table. Runs interleaved.
- The views and `ticker bank`'s query across banks on that year, against the same queries on a
  database holding one answer of each bank: history must not slow them, and each answers within 10 ms
  (the median of as many runs as it takes to say so, common.decided).
"""

import copy
import json
import os
import random
import shutil
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import NamedTuple

import time_machine
from common import budget_row, decided, median_ms, ratio_row

from ticker import config as configuration
from ticker import days, sources
from ticker.model import Rate
from ticker.store import banks, reader
from ticker.store.writer import Store
from ticker.sync import banks as bank_sync

POINTS = 1102  # Belarusbank, RECON26, 2026-10-08
DEPARTMENTS = 105  # MTBank, RECON26
BRANCHES = 46  # Belgazprombank, RECON26
DABRABYT_BRANCHES = 40  # assumed: nothing on record counts them
FIRST_DAY = date(2026, 1, 1)
DAYS = int(os.environ.get("BENCH_BANK_DAYS", "365"))
SLOTS = [(h, m) for h in range(8, 21) for m in (0, 30)]  # 08:00 .. 20:30; each bank polls minutes after
CHANGES = {(9, 30): "all", (14, 0): "main", (18, 0): "main"}  # when the rate sets change, and what
MAIN = {"USD", "EUR", "RUB"}  # with the crosses between them: what moves several times a day
RUNS = 7  # of each poll and its bare baseline
BUDGET_MS = 10  # each view across banks, on the year
# NBRB's official rates to check the banks' against: USD, EUR, RUB of 2026-03-17; the others at the
# levels of the fakes' data (made up, as those are), so that every bank's rates are checked.
OFFICIAL = {"USD": ("2.9463", 1), "EUR": ("3.3741", 1), "RUB": ("3.6709", 100), "PLN": ("7.6500", 10),
            "CNY": ("4.1500", 10), "GBP": ("3.8200", 1), "CHF": ("3.3500", 1), "TRY": ("0.7100", 10)}
# One point of each bank (Alfa-Bank's is the bank-wide one), for the history and first_seen queries.
PICKED = {"belarusbank": "1433", "mtbank": "12", "belgazprombank": "ЦБУ №501", "alfabank": "bank-wide",
          "dabrabyt": "Центральный офис"}
POINTS_PICKED = " OR ".join(f"(p.bank = '{bank}' AND p.point_id = '{point}')" for bank, point in PICKED.items())
QUERIES = {
    "bank_best, one city and currency": "SELECT * FROM bank_best WHERE city = 'Минск' AND code = 'USD'",
    "bank_spread, one city": "SELECT * FROM bank_spread WHERE city = 'Минск'",
    "bank_rates_now, five best": "SELECT bank, rate_text, label, address FROM bank_rates_now WHERE city = 'Минск'"
                                 " AND code = 'USD' AND against = 'BYN' AND side = 'buy'"
                                 " ORDER BY per_unit_e16 DESC LIMIT 5",
}
# Since when a point of each bank quotes each value: read back through its rows as far as the value goes.
SINCE = ("bank_rates_now, a point of each bank's first_seen",
         "SELECT bank, code, side, rate_text, first_seen FROM bank_rates_now AS p WHERE " + POINTS_PICKED)
# A point of each bank's USD over the year, merged into runs, against the same rows of the tables unmerged.
HISTORY = ("bank_history, a point of each bank's USD", "SELECT bank, side, rate_text, first_seen, last_seen"
           f" FROM bank_history AS p WHERE code = 'USD' AND against = 'BYN' AND ({POINTS_PICKED})")
HISTORY_PLAIN = ("their rows in the tables, unmerged",
                 "SELECT p.bank, v.side, v.rate_text, f.finished_at, coalesce(l.finished_at, p.last_seen)"
                 " FROM bank_points AS p"
                 " JOIN bank_point_sets AS ps ON ps.point = p.id JOIN bank_set_values AS m ON m.rate_set = ps.rate_set"
                 " JOIN bank_values AS v ON v.id = m.value AND v.code = 'USD' AND v.against = 'BYN'"
                 " JOIN bank_polls AS f ON f.id = ps.first_poll LEFT JOIN bank_polls AS l ON l.id = ps.last_poll"
                 f" WHERE {POINTS_PICKED}")


class Feed(NamedTuple):
    """One bank's answer as its feed serves it, and what a bare client reads from it."""

    path: str
    query: dict
    body: bytes
    content_type: str
    values: Callable[[bytes], list[tuple]]  # the body -> (point, key, rate text) of every non-zero value


def _nonzero(text) -> bool:
    return bool(text) and float(text) != 0


def _belarusbank_values(body: bytes) -> list[tuple]:
    return [(p["filial_id"], k, v) for p in json.loads(body) for k, v in p.items()
            if k.endswith(("_in", "_out")) and v != "0.0000"]


def _mtbank_values(body: bytes) -> list[tuple]:
    from defusedxml.ElementTree import fromstring

    rows = []
    for department in fromstring(body).iter("department"):
        for currency in department.iter("currency"):
            fields = {f.tag: f.text for f in currency}
            pair = f"{fields['code']}/{fields['codeTo']}/{fields['cacheless']}"
            rows += [(department.get("id"), f"{pair} {key}", fields[key]) for key in ("purchase", "sale")
                     if _nonzero(fields[key])]
    return rows


def _belgazprombank_values(body: bytes) -> list[tuple]:
    from defusedxml.ElementTree import fromstring

    rows = []
    for branch in fromstring(body).iter("branch"):
        for rate in branch.iter("rate"):
            for tier in rate.iter("range"):
                rows += [(branch.get("name"), f"{rate.get('currency')} {tier.get('min-amount')} {side.tag}", side.text)
                         for side in tier if _nonzero(side.text)]
    return rows


def _dabrabyt_values(body: bytes) -> list[tuple]:
    from defusedxml.ElementTree import fromstring

    return [(branch.get("name"), f"{value.get('iso')} {key}", value.get(key))
            for branch in fromstring(body).iter("filial") for value in branch.iter("value")
            for key in ("buy", "sale") if _nonzero(value.get(key))]


def _alfabank_values(body: bytes) -> list[tuple]:
    return [("bank-wide", f"{e['sellIso']}/{e['buyIso']} {key}", str(e[key])) for e in json.loads(body)["rates"]
            for key in ("sellRate", "buyRate") if e[key]]


def _repeated(items: list[dict], count: int, renamed) -> list[dict]:
    """`count` items: `items` cycled, each copy after the first round given a new id by `renamed(item, n)`."""
    out = []
    for n in range(count):
        item = copy.deepcopy(items[n % len(items)])
        if n >= len(items):
            renamed(item, n)
        out.append(item)
    return out


def belarusbank_points() -> list[dict]:
    """A 2026-like answer of POINTS points: the recorded 2019 one reshaped (no UAH, CNY crosses,
    kurs_date_time) and repeated under new filial_ids ("16-1": no real id has a dash)."""
    from support.banks import like_2026, recorded_points

    recorded = like_2026(recorded_points())
    return _repeated(recorded, POINTS, lambda p, n: p.update(filial_id=f"{p['filial_id']}-{n // len(recorded)}"))


def feeds() -> dict[str, Feed]:
    """Each bank's answer, by source id."""
    from support import bank_feeds as f
    from support.banks import PATH, body
    from support.nbrb_server import JSON

    mtbank = f.mtbank_data()
    mtbank["departments"] = _repeated(mtbank["departments"], DEPARTMENTS, lambda d, n: d.update(id=str(1000 + n)))
    dabrabyt = f.dabrabyt_data()
    dabrabyt["filials"] = _repeated(dabrabyt["filials"], DABRABYT_BRANCHES,
                                    lambda b, n: b.update(name=f"Отделение №{100 + n}"))
    return {
        "belarusbank": Feed(PATH, {}, body(belarusbank_points()), JSON, _belarusbank_values),
        "mtbank": Feed(f.MTBANK_PATH, f.MTBANK_QUERY, f.mtbank_body(mtbank), f.XML, _mtbank_values),
        "belgazprombank": Feed(f.BELGAZPROMBANK_PATH, {}, f.belgazprombank_body(_repeated(
            f.belgazprombank_data(), BRANCHES, lambda b, n: b.update(name=f"ЦБУ №{500 + n}"))), f.XML,
            _belgazprombank_values),
        "alfabank": Feed(f.ALFA_PATH, {}, f.alfa_body(), JSON, _alfabank_values),
        "dabrabyt": Feed(f.DABRABYT_PATH, {}, f.dabrabyt_body(dabrabyt), f.XML, _dabrabyt_values),
    }


def server(answers: dict[str, Feed]):
    """One local server (not started) answering every bank's feed: their paths differ."""
    from support.nbrb_server import FakeNBRB

    fake = FakeNBRB()
    for feed in answers.values():
        fake.set_verbatim(feed.path, feed.query, feed.body, 200, feed.content_type)
    return fake


def _config(folder: Path, url: str, database: Path):
    """A config of the five banks at the local server, on `database`, which gets NBRB's official
    rates of the day to check against."""
    path = folder / "config.toml"
    sections = "".join(f'[{bank}]\nenabled = true\nbase_url = "{url}"\n' for bank in PICKED)
    path.write_text(f'[database]\npath = "{database}"\n{sections}', encoding="utf-8")
    config = configuration.load(path)
    store = Store(config.database.path)
    with store.attempt("bench", "official rates") as attempt:
        store.write([Rate(code, days.today(), scale, Decimal(text), "BYN", 0)
                     for code, (text, scale) in OFFICIAL.items()], attempt)
    store.close()
    return config


def parsed(url: str) -> dict[str, tuple]:
    """Each bank's answer as its source reads it from the local server, every rate checked:
    bank -> (points, quotes)."""
    found = {}
    for bank in PICKED:
        answer = sources.get(bank)(url).rates()
        assert not answer.refused, answer.refused[:3]
        found[bank] = (answer.points, [q._replace(checked=True) for q in answer.rates])
    return found


def _minute(bank: str) -> int:
    """The minute past each half hour at which the source polls: "6-59/30 8-20 * * mon-sun" -> 6."""
    first = sources.get(bank).schedule.poll.split()[0]
    return 0 if first.startswith("*") else int(first.split("-")[0].split("/")[0])


def _moved(q, moves):
    factor = moves.get(q.code, Decimal(1))
    if q.cross:
        against = moves.get(q.against, Decimal(1))
        factor = factor / against if q.quoted_per == q.code else against / factor
    return q._replace(rate=(q.rate * factor).quantize(Decimal("0.0001")))


def _write(store, bank: str, spots, quotes, moment: datetime) -> banks.Poll:
    with time_machine.travel(moment, tick=False), banks.polling(store.db, bank) as poll:
        banks.write(store.db, poll, spots, quotes)
    return poll


def _year(path: Path, answers: dict[str, tuple], days_: int) -> dict:
    """Poll `days_` simulated days of every bank into `path` through the store's writer; returns what it measured."""
    rng = random.Random(11)
    moves = {}  # currency -> multiplier, a random walk shared by every bank and point
    codes = {code for _, quotes in answers.values() for q in quotes for code in (q.code, q.against)}
    store = Store(path)
    stats = {"writes": 0, "changed": 0, "seconds": 0.0}
    quotes = {bank: base for bank, (_, base) in answers.items()}
    for day in range(days_):
        on = FIRST_DAY + timedelta(days=day)
        for hour, minute in SLOTS:
            change = CHANGES.get((hour, minute))
            if change:
                for code in sorted(codes):
                    if change == "all" or code in MAIN:
                        moves[code] = moves.get(code, Decimal(1)) * Decimal(1 + rng.choice((-1, 1))
                                                                          * rng.uniform(0.001, 0.004))
                quotes = {bank: [_moved(q, moves) for q in base] for bank, (_, base) in answers.items()}
            for bank, (spots, _) in answers.items():
                moment = datetime(on.year, on.month, on.day, hour, minute + _minute(bank), tzinfo=days.minsk())
                started = time.perf_counter()
                poll = _write(store, bank, spots, quotes[bank], moment)
                stats["seconds"] += time.perf_counter() - started
                stats["writes"] += 1
                stats["changed"] += poll.changed
        if day == 6:
            store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            stats["week"] = path.stat().st_size
    store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    counts = [f"{table} {store.db.execute(f'SELECT count(*) FROM {table}').fetchone()[0]:,}"
              for table in ("bank_point_sets", "bank_sets", "bank_set_values", "bank_values")]
    sizes = store.db.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC LIMIT 6").fetchall()
    stats["tables"] = "rows: " + ", ".join(counts) + "; MB: " + ", ".join(f"{n} {b / 1e6:.1f}" for n, b in sizes)
    store.close()
    stats["bytes"] = path.stat().st_size
    return stats


def _bare(conn, url: str, feed: Feed) -> float:
    """The least a client does with the answer: GET, the parser, one executemany of the non-zero values."""
    import requests

    started = time.perf_counter()
    rows = feed.values(requests.get(url + feed.path, params=feed.query, timeout=30).content)
    with conn:
        conn.executemany("INSERT INTO quotes VALUES (?, ?, ?)", rows)
    return time.perf_counter() - started


def polls(folder: Path, year: Path, url: str, answers: dict[str, Feed], stored: dict[str, tuple]) -> dict:
    """Milliseconds of each bank's poll into a copy of the year, changed and unchanged, and of its
    bare baseline, runs interleaved: (bank, kind) -> [ms]; and the rates each poll stored."""
    import requests  # noqa: F401  imported before the clock starts: the first run would pay for it alone

    copied = folder / "polled.sqlite"
    shutil.copyfile(year, copied)
    bare = sqlite3.connect(folder / "bare.sqlite")
    bare.execute("PRAGMA journal_mode = WAL")
    bare.execute("PRAGMA synchronous = NORMAL")  # as ticker.store.schema sets it
    bare.execute("CREATE TABLE quotes (point TEXT, key TEXT, rate_text TEXT)")
    times, rates = {}, {}
    after = FIRST_DAY + timedelta(days=DAYS)
    with time_machine.travel(datetime(after.year, after.month, after.day, 12, tzinfo=days.minsk()), tick=True):
        config = _config(folder, url, copied)
        store = Store(copied)
        moved = {bank: [_moved(q, {code: Decimal("1.001") for code in OFFICIAL}) for q in quotes]
                 for bank, (_, quotes) in stored.items()}
        for _ in range(RUNS):
            for bank, (spots, _) in stored.items():
                # What the poll before stored: every rate a little off the answer's, as before a change.
                _write(store, bank, spots, moved[bank], datetime.now(days.minsk()))
                for kind in ("changed", "unchanged"):
                    started = time.perf_counter()
                    done = bank_sync.poll(config, bank, store)
                    times.setdefault((bank, kind), []).append((time.perf_counter() - started) * 1000)
                    assert not done.refused, done.refused[:3]
                    assert (done.changed > 0) == (kind == "changed"), (bank, kind, done.changed)
                rates[bank] = done.rates
                times.setdefault((bank, "bare"), []).append(_bare(bare, url, answers[bank]) * 1000)
        store.close()
    bare.close()
    return times, rates


def _whole(folder: Path, feed: Feed) -> int:
    """Bytes one answer takes stored whole: a row per point, currency and side (point, key, rate_text)."""
    path = folder / f"whole-{feed.path.strip('/').replace('/', '-')}.sqlite"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE quotes (point TEXT, key TEXT, rate_text TEXT)")
    conn.commit()
    empty = path.stat().st_size
    with conn:
        conn.executemany("INSERT INTO quotes VALUES (?, ?, ?)", feed.values(feed.body))
    conn.close()
    return path.stat().st_size - empty


def _query_times(path: Path, budget: float | None = None) -> dict[str, list[float]]:
    """Milliseconds of runs of each query and of `ticker bank USD`'s reader call, warm: 30 runs, or
    with a `budget`, as many as it takes to say whether the median is within it (common.decided)."""
    conn = reader.connect(path)
    work = {name: (lambda sql=sql: conn.execute(sql).fetchall())
            for name, sql in [*QUERIES.items(), SINCE, HISTORY, HISTORY_PLAIN]}
    work["ticker bank USD (reader)"] = lambda: reader.bank_rates(conn, "USD", "Минск")
    timings = {}
    for name, call in work.items():
        call()
        timings[name] = decided(call, budget) if budget else [median_ms(call, 30)]
    conn.close()
    return timings


def run():
    rows = []
    answers = feeds()
    with tempfile.TemporaryDirectory() as tmp, server(answers) as fake:
        folder = Path(tmp)
        stored = parsed(fake.url)

        # One answer of each bank in the store, for the views' baseline.
        one = folder / "one.sqlite"
        store = Store(one)
        for bank, (spots, quotes) in stored.items():
            _write(store, bank, spots, quotes, datetime(2026, 3, 17, 12, tzinfo=days.minsk()))
        store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        store.close()
        one_ms = {name: statistics.median(t) for name, t in _query_times(one).items()}

        year = folder / "year.sqlite"
        started = time.perf_counter()
        stats = _year(year, stored, DAYS)
        minutes = (time.perf_counter() - started) / 60
        polled = DAYS * len(SLOTS)
        whole = sum(_whole(folder, feed) for feed in answers.values())
        mb = stats["bytes"] / 1e6
        rows.append(ratio_row(f"bank year: {DAYS} days, 5 banks x {polled} polls", mb,
                              f"every answer whole ({polled} x {whole / 1e6:.2f} MB)", whole * polled / 1e6,
                              "MB", at_most=0.025))
        rows[-1].ok = rows[-1].ok and mb < 100
        week = f" the first week {stats['week'] / 1e6:.1f} MB;" if "week" in stats else ""
        print(f"bank year: {stats['writes']} polls through the writer ({stats['seconds'] / stats['writes'] * 1000:.0f} ms"
              f" each on average), {stats['changed']:,} values new or changed at a point;{week} simulated in"
              f" {minutes:.1f} min; {stats['tables']}", flush=True)

        times, rates = polls(folder, year, fake.url, answers, stored)
        for bank in PICKED:
            bare = statistics.median(times[bank, "bare"])
            for kind in ("changed", "unchanged"):
                rows.append(ratio_row(f"{bank} poll, {rates[bank]:,} rates, into the year, {kind}",
                                      statistics.median(times[bank, kind]), "requests+parser+executemany", bare, "ms",
                                      at_most=8))
        # The largest answer, in absolute terms: a poll is done well within a second.
        rows.append(budget_row(f"belarusbank poll, {POINTS} points, into the year, changed",
                               times["belarusbank", "changed"], 1000, "ms"))

        year_ms = _query_times(year, BUDGET_MS)
        # The rates now read the open rows only: a year behind them may cost a few page reads more.
        for name in [*QUERIES, "ticker bank USD (reader)", SINCE[0], HISTORY[0]]:
            row = budget_row(f"{name}, a year", year_ms[name], BUDGET_MS, "ms")
            rows.append(row)
            if name in (SINCE[0], HISTORY[0]):  # they read back through the history of the points by definition
                continue
            ratio = ratio_row(f"{name}, a year", row.figure, "the same on one answer", one_ms[name], "ms", at_most=3)
            rows.append(ratio)
        rows.append(ratio_row(f"{HISTORY[0]}, a year", statistics.median(year_ms[HISTORY[0]]), HISTORY_PLAIN[0],
                              statistics.median(year_ms[HISTORY_PLAIN[0]]), "ms", at_most=3))
    return rows
