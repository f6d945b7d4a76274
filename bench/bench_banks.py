"""Bank rates: parse and store one whole-country answer, the size of a simulated year of polls, and the
views on that year.

- One answer: `bank_sync.poll` end to end (HTTP from a local server, JSON, checks against NBRB's
  official rates, one transaction) on a 2026-like answer of 1,102 points, first into an empty
  database and then again unchanged (every poll after the first), against the least any client
  does with the same answer in the same run: requests + json.loads + one executemany of every
  non-zero value into a bare table.
- A year: 365 days of polls every 30 minutes from 08:00 to 20:30 (26 a day), every one through the
  store's writer, with a few changes a day: USD, EUR, RUB and the crosses move at every point at
  09:30, 14:00 and 18:00, the other currencies once a day. The points keep the recording's variety
  (152 distinct rate sets among 1,102 points, where 2026 had one per city), so each change brings
  about 150 new sets. The size is set against storing every answer whole (what one answer costs,
  measured in the same run, times 9,490 polls), and must be tens of MB.
- The views and `ticker bank`'s query on that year, against the same queries on a database holding
  one answer: history must not slow them (<= 10 ms each).
"""

import copy
import os
import random
import sqlite3
import statistics
import tempfile
import time
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import time_machine
from common import median_ms, ratio_row

from ticker import days
from ticker.sync import banks as bank_sync
from ticker import config as configuration
from ticker.model import Rate
from ticker.store import banks, reader
from ticker.store.writer import Store

POINTS = 1102  # RECON26, 2026-10-08
FIRST_DAY = date(2026, 1, 1)
DAYS = int(os.environ.get("BENCH_BANK_DAYS", "365"))
POLLS = [(h, m) for h in range(8, 21) for m in (0, 30)]  # 08:00 .. 20:30, the source's schedule
CHANGES = {(9, 30): "all", (14, 0): "main", (18, 0): "main"}  # when the rate sets change, and what
MAIN = {"USD", "EUR", "RUB"}  # with the crosses between them: what moves several times a day
OFFICIAL = {"USD": ("2.9463", 1), "EUR": ("3.3741", 1), "RUB": ("3.6709", 100)}  # NBRB, 2026-03-17
QUERIES = {
    "bank_best, one city and currency": "SELECT * FROM bank_best WHERE city = 'Минск' AND code = 'USD'",
    "bank_spread, one city": "SELECT * FROM bank_spread WHERE city = 'Минск'",
    "bank_rates_now, five best": "SELECT rate_text, label, address FROM bank_rates_now WHERE city = 'Минск'"
                                 " AND code = 'USD' AND against = 'BYN' AND side = 'buy'"
                                 " ORDER BY per_unit_e16 DESC LIMIT 5",
}
# Since when a point quotes each value: read back through its rows as far as the value goes.
SINCE = ("bank_rates_now, a point's first_seen", "SELECT code, side, rate_text, first_seen FROM bank_rates_now"
         " WHERE bank = 'belarusbank' AND point_id = '1433'")
# A point's USD over the year, merged into runs, against the same rows of the tables unmerged.
HISTORY = ("bank_history, a point's USD", "SELECT side, rate_text, first_seen, last_seen FROM bank_history"
           " WHERE bank = 'belarusbank' AND point_id = '1433' AND code = 'USD' AND against = 'BYN'")
HISTORY_PLAIN = ("its rows in the tables, unmerged",
                 "SELECT v.side, v.rate_text, f.finished_at, coalesce(l.finished_at, p.last_seen) FROM bank_points AS p"
                 " JOIN bank_point_sets AS ps ON ps.point = p.id JOIN bank_set_values AS m ON m.rate_set = ps.rate_set"
                 " JOIN bank_values AS v ON v.id = m.value AND v.code = 'USD' AND v.against = 'BYN'"
                 " JOIN bank_polls AS f ON f.id = ps.first_poll LEFT JOIN bank_polls AS l ON l.id = ps.last_poll"
                 " WHERE p.bank = 'belarusbank' AND p.point_id = '1433'")


def country() -> list[dict]:
    """A 2026-like answer of POINTS points: the recorded 2019 one reshaped (no UAH, CNY crosses,
    kurs_date_time) and repeated under new filial_ids."""
    from support.banks import like_2026, recorded_points

    recorded = like_2026(recorded_points())
    points = []
    for n in range(POINTS):
        point = copy.deepcopy(recorded[n % len(recorded)])
        if n >= len(recorded):  # "16-1": no real id has a dash
            point["filial_id"] += f"-{n // len(recorded)}"
        points.append(point)
    return points


def _config(folder: Path, url: str):
    """A config for the local bank, and a database with NBRB's official rates of the day to check against."""
    path = folder / "config.toml"
    path.write_text(f'[database]\npath = "rates.sqlite"\n[belarusbank]\nbase_url = "{url}"\n', encoding="utf-8")
    config = configuration.load(path)
    store = Store(config.database.path)
    with store.attempt("bench", "official rates") as attempt:
        store.write([Rate(code, days.today(), scale, Decimal(text), "BYN", 0)
                     for code, (text, scale) in OFFICIAL.items()], attempt)
    store.close()
    return config


def _bare(folder: Path, url: str) -> float:
    """The least a client does with the answer: GET, json.loads, one executemany of the non-zero values."""
    import requests

    conn = sqlite3.connect(folder / "bare.sqlite")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("CREATE TABLE IF NOT EXISTS quotes (point TEXT, key TEXT, rate_text TEXT)")
    started = time.perf_counter()
    body = requests.get(f"{url}/api/kursExchange", timeout=30).json()
    rows = [(p["filial_id"], k, v) for p in body for k, v in p.items() if k.endswith(("_in", "_out"))
            and v != "0.0000"]
    with conn:
        conn.executemany("INSERT INTO quotes VALUES (?, ?, ?)", rows)
    seconds = time.perf_counter() - started
    conn.close()
    return seconds


def one_answer(folder: Path) -> tuple[dict[str, float], int]:
    """Median seconds of ticker's first poll, of an unchanged poll, and of the bare client; rows stored."""
    from support.banks import bank_server

    answer = country()
    times = {"first": [], "again": [], "bare": []}
    with bank_server(answer) as server, time_machine.travel(datetime(2026, 3, 17, 12, tzinfo=days.minsk())):
        for n in range(5):
            run = folder / f"run{n}"
            run.mkdir()
            config = _config(run, server.url)
            for kind in ("first", "again"):
                started = time.perf_counter()
                done = bank_sync.poll(config)
                times[kind].append(time.perf_counter() - started)
                assert not done.refused, done.refused[:3]
            times["bare"].append(_bare(run, server.url))
    return {kind: statistics.median(values) for kind, values in times.items()}, done.rates


def _year(path: Path, points: list[dict], days_: int) -> dict:
    """Poll `days_` simulated days into `path` through the store's writer; returns what it measured."""
    rng = random.Random(11)
    spots, base = _parsed(points)
    moves = {}  # currency -> multiplier, a random walk shared by every point (a nationwide rate set)
    store = Store(path)
    stats = {"writes": 0, "changed": 0, "seconds": 0.0}
    quotes = [_moved(q, moves) for q in base]
    for day in range(days_):
        on = FIRST_DAY + timedelta(days=day)
        for hour, minute in POLLS:
            change = CHANGES.get((hour, minute))
            if change:
                for code in {q.code for q in base} | {q.against for q in base}:
                    if change == "all" or code in MAIN:
                        moves[code] = moves.get(code, Decimal(1)) * Decimal(1 + rng.choice((-1, 1))
                                                                          * rng.uniform(0.001, 0.004))
                quotes = [_moved(q, moves) for q in base]
            moment = datetime(on.year, on.month, on.day, hour, minute, tzinfo=days.minsk())
            with time_machine.travel(moment, tick=False), banks.polling(store.db, "belarusbank") as poll:
                started = time.perf_counter()
                banks.write(store.db, poll, spots, quotes)
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


def _parsed(points: list[dict]):
    """The answer as the source reads it from a local server, every rate checked: (points, quotes)."""
    from support.banks import bank_server

    from ticker import sources

    with bank_server(points) as server:
        answer = sources.get("belarusbank")(server.url).rates()
    return answer.points, [q._replace(checked=True) for q in answer.rates]


def _moved(q, moves):
    factor = moves.get(q.code, Decimal(1))
    if q.cross:
        factor = factor / moves.get(q.against, Decimal(1)) if q.side == "buy" else moves.get(q.against, Decimal(1)) / factor
    return q._replace(rate=(q.rate * factor).quantize(Decimal("0.0001")))


def _query_ms(path: Path) -> dict[str, float]:
    """Median milliseconds of each query and of `ticker bank USD`'s reader call, 30 runs, warm."""
    conn = reader.connect(path)
    timings = {}
    for name, sql in [*QUERIES.items(), SINCE, HISTORY, HISTORY_PLAIN]:
        conn.execute(sql).fetchall()
        timings[name] = median_ms(lambda: conn.execute(sql).fetchall(), 30)
    reader.bank_rates(conn, "USD", "Минск")
    timings["ticker bank USD (reader)"] = median_ms(lambda: reader.bank_rates(conn, "USD", "Минск"), 30)
    conn.close()
    return timings


def run():
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        timing, quotes = one_answer(folder)
        rows.append(ratio_row(f"bank poll, {POINTS} points, {quotes} rates, first", timing["first"] * 1000,
                              "requests+json+executemany", timing["bare"] * 1000, "ms", at_most=8))
        rows[-1].ok = rows[-1].ok and timing["first"] < 1
        rows.append(ratio_row(f"bank poll, {POINTS} points, unchanged", timing["again"] * 1000,
                              "requests+json+executemany", timing["bare"] * 1000, "ms", at_most=8))
        rows[-1].ok = rows[-1].ok and timing["again"] < 1

        # One answer in the store, for the views' baseline; and what it costs stored whole (a row
        # per point, currency and side, as the bare client does): the baseline for the year.
        points = country()
        one = folder / "one.sqlite"
        with time_machine.travel(datetime(2026, 3, 17, 12, tzinfo=days.minsk()), tick=False):
            store = Store(one)
            with banks.polling(store.db, "belarusbank") as poll:
                banks.write(store.db, poll, *_parsed(points))
            store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            store.close()
        per_answer = _whole(folder, points)
        one_ms = _query_ms(one)

        year = folder / "year.sqlite"
        started = time.perf_counter()
        stats = _year(year, points, DAYS)
        minutes = (time.perf_counter() - started) / 60
        polls = DAYS * len(POLLS)
        mb = stats["bytes"] / 1e6
        rows.append(ratio_row(f"bank year: {DAYS} days, {polls} polls", mb,
                              f"every answer whole ({polls} x {per_answer / 1e6:.2f} MB)", per_answer * polls / 1e6,
                              "MB", at_most=0.025))
        rows[-1].ok = rows[-1].ok and mb < 100
        week = f" the first week {stats['week'] / 1e6:.1f} MB;" if "week" in stats else ""
        print(f"bank year: {stats['writes']} polls through the writer ({stats['seconds'] / stats['writes'] * 1000:.0f} ms"
              f" each on average), {stats['changed']:,} values new or changed at a point;{week} simulated in"
              f" {minutes:.1f} min; {stats['tables']}", flush=True)
        year_ms = _query_ms(year)
        # The rates now read the open rows only: a year behind them may cost a few page reads more.
        for name in [*QUERIES, "ticker bank USD (reader)", SINCE[0]]:
            row = ratio_row(f"{name}, a year", year_ms[name], "the same on one answer", one_ms[name], "ms",
                            at_most=3)
            if name == SINCE[0]:  # it reads back through the history of the point by definition
                row.target = "<= 10 ms"
                row.ok = True
            row.ok = row.ok and year_ms[name] <= 10
            rows.append(row)
        rows.append(ratio_row(f"{HISTORY[0]}, a year", year_ms[HISTORY[0]], HISTORY_PLAIN[0],
                              year_ms[HISTORY_PLAIN[0]], "ms", at_most=3))
    return rows


def _whole(folder: Path, points: list[dict]) -> int:
    """Bytes one answer takes stored whole: a row per point, currency and side (point, key, rate_text)."""
    path = folder / "whole.sqlite"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE quotes (point TEXT, key TEXT, rate_text TEXT)")
    conn.commit()
    empty = path.stat().st_size
    with conn:
        conn.executemany("INSERT INTO quotes VALUES (?, ?, ?)", [
            (p["filial_id"], k, v) for p in points for k, v in p.items()
            if k.endswith(("_in", "_out")) and v != "0.0000"])
    conn.close()
    return path.stat().st_size - empty
