"""The recorded NBRB data in the shared folder, and fake servers built on it (stdlib only).

The recordings are read in place from shared/nbrb/ (see FACTS.md and SOURCES.md there), never copied.
The currency catalogue is our own fixture, tests/support/nbrb_catalogue.json: NBRB-shaped records for the 31
daily currencies in the recordings, and two made-up monthly-only ones (below). Its Cur_IDs, scales and Russian names follow the recordings
(generated lists for 2015-01-01 and 2026-03-17 match the recorded bodies byte for byte), with:
- 2021-07-09..2050-01-01: the Cur_IDs recorded since 2024; BGN (441) ends 2025-12-31, when NBRB
  stopped quoting it; BRL was set monthly (Cur_Periodicity 1: 305, then a made-up 326) until
  2022-07-31 and is daily (514) from 2022-08-01;
- 2016-07-01..2021-07-08: the real Cur_IDs FACTS.md names (EUR 292, RUB 298, UAH 290, PLN 293),
  made-up ones 301..325 for the rest, with today's scales; USD 145 and GBP 143 span 1991..2021-07-08;
- before 2016-07-01: the Cur_IDs and scales of the 2015-01-01 list. They start 1991-01-01 where the
  1996 list already shows that Cur_ID, EUR on 1999-01-01, and the others on 2000-01-02, the day after
  the last recorded list showing the currency under another Cur_ID (JPY 67, RUR 141, ...), so the
  fixture never contradicts a recording;
- KRW (per 1000) and THB (per 100), made up: monthly-only currencies (Cur_Periodicity 1), with the
  made-up Cur_IDs 327 and 328 until 2021-07-08, then 515 and 516.
There is no recording of NBRB's monthly list: `monthly_rates` makes up its rates (see there).
"""

import csv
import json
import os
import random
import zlib
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path

from .nbrb_server import JSON, PROBLEM, FakeNBRB

# EUR obtained by inverting BYN->EUR rates: not as published, so not served as NBRB's.
DERIVED = "sure_seed_eur_inverted_2024-01.csv"


def shared_dir() -> Path:
    """The folder that holds nbrb/: $TICKER_SHARED, else `shared` beside the project folder."""
    return Path(os.environ.get("TICKER_SHARED") or Path(__file__).resolve().parents[3] / "shared")


def recorded_rates() -> dict[tuple[int, str], tuple[str, int, str]]:
    """(cur_id, ISO date) -> (code, scale, rate text) from every as-published CSV."""
    rates: dict[tuple[int, str], tuple[str, int, str]] = {}
    origin: dict[tuple[int, str], str] = {}
    for path in sorted((shared_dir() / "nbrb").glob("*.csv")):
        if path.name == DERIVED:
            continue
        with path.open(newline="", encoding="utf-8") as f:
            for row in csv.DictReader(f):
                key = (int(row["cur_id"]), row["date"])
                value = (row["code"], int(row["scale"]), row["rate"])
                if rates.setdefault(key, value) != value:
                    raise ValueError(f"{path.name} and {origin[key]} disagree on {key}: "
                                     f"{value} vs {rates[key]}")
                origin.setdefault(key, path.name)
    return rates


def catalogue() -> list[dict]:
    """The /exrates/currencies fixture (a fresh copy each call: tests may change it)."""
    return json.loads((Path(__file__).resolve().parent / "nbrb_catalogue.json").read_text("utf-8"))


# (path, query, sample file, status, content type) for every recorded body in samples/.
_SAMPLES = [
    ("/exrates/rates/dynamics/431", {"startdate": "2024-01-10", "enddate": "2024-01-15"},
     "dynamics_431_2024-01-10_2024-01-15.json", 200, JSON),
    ("/exrates/rates/dynamics/431", {"startdate": "2024-01-01", "enddate": "2024-07-31"},
     "dynamics_431_2024-01-01_2024-07-31.json", 200, JSON),
    ("/exrates/rates/USD", {"parammode": "2", "ondate": "2024-01-10", "periodicity": "0"},
     "rates_USD_parammode2_ondate_2024-01-10.json", 200, JSON),
    ("/exrates/rates", {"ondate": "2026-03-17", "periodicity": "0"},
     "rates_periodicity0_2026-03-17.json", 200, JSON),
    ("/exrates/rates", {"ondate": "2015-01-01", "periodicity": "0"},
     "rates_periodicity0_ondate_2015-01-01_pre_redenomination.json", 200, JSON),
    ("/exrates/rates/INVALID", {"ondate": "2024-01-10", "parammode": "2", "periodicity": "0"},
     "error_404_rates_INVALID_parammode2.json", 404, PROBLEM),
]


# Made up, as there is no recording of NBRB's monthly list: per currency, its monthly rate (BYN per
# its scale) in 2016-07 and in 2026-03. BRL was about 0.60 BYN in 2016 and 0.52 in 2022; KRW about
# 1.75 BYN per 1000 in 2016, 2.14 in 2026; THB about 5.69 BYN per 100 in 2016, 8.44 in 2026.
MONTHLY = {"BRL": ("6.1032", "5.2140"), "KRW": ("1.7544", "2.1367"), "THB": ("5.6920", "8.4410")}
MONTHLY_FROM, MONTHLY_UNTIL = date(2016, 7, 1), date(2026, 3, 17)


def monthly_rates(until: date = MONTHLY_UNTIL) -> dict[int, dict[str, str]]:
    """Made-up monthly rates: Cur_ID -> {the day it was set: rate text}, for every monthly record of
    the catalogue. Each is set on the first of every month of its Cur_ID's validity, and on its first
    day when that is not a month's first (2021-07-09, when every Cur_ID changed), with that month's
    value. The value walks in a line from MONTHLY's first figure to its second, with a small
    deterministic wiggle; 4 decimals, as NBRB publishes BYN rates."""
    from decimal import Decimal

    months = (until.year - MONTHLY_FROM.year) * 12 + until.month - MONTHLY_FROM.month
    rates: dict[int, dict[str, str]] = defaultdict(dict)
    for record in catalogue():
        if record["Cur_Periodicity"] != 1:
            continue
        start, end = (date.fromisoformat(record[k][:10]) for k in ("Cur_DateStart", "Cur_DateEnd"))
        first, last = (Decimal(v) for v in MONTHLY[record["Cur_Abbreviation"]])
        day = max(start, MONTHLY_FROM)
        while day <= min(end, until):
            n = (day.year - MONTHLY_FROM.year) * 12 + day.month - MONTHLY_FROM.month
            value = first + (last - first) * n / months + Decimal((n * 7) % 5 - 2) * first / 200
            rates[record["Cur_ID"]][day.isoformat()] = f"{value:.4f}"
            day = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return dict(rates)


def recorded_server(today: str | None = None) -> FakeNBRB:
    """A FakeNBRB (not started) with the catalogue, every recorded rate, the made-up monthly rates
    (`monthly_rates`), and the recorded bodies for their exact requests; `today` (ISO) is the day a
    list without ondate is for."""
    server = FakeNBRB(catalogue())
    if today is not None:
        server.today = today
    by_id: dict[int, dict[str, str]] = defaultdict(dict)
    for (cur_id, day), (_code, _scale, rate) in recorded_rates().items():
        by_id[cur_id][day] = rate
    for cur_id, rates in [*by_id.items(), *monthly_rates().items()]:
        server.add_rates(cur_id, rates)
    samples = shared_dir() / "nbrb" / "samples"
    for path, query, name, status, content_type in _SAMPLES:
        server.set_verbatim(path, query, (samples / name).read_bytes(), status, content_type)
    if server.today == "2026-03-17":
        # That list was recorded as "today's" (no ondate) on 2026-03-17.
        server.set_verbatim("/exrates/rates", {"periodicity": "0"},
                            (samples / "rates_periodicity0_2026-03-17.json").read_bytes())
    return server


def synthetic_server(codes: int = 30, since: str = "2016-07-01", *, until: str) -> FakeNBRB:
    """A FakeNBRB (not started, `today` = until) with made-up, deterministic rates, for benchmarks.

    Takes the first `codes` daily currencies quoted on `until` (in catalogue order) and gives each
    of their daily records a rate for every day in [since, until] inside its validity, and their
    monthly records (Cur_Periodicity 1) one on the first of each month and on the record's first
    day (a rate set then, and in force to the end of that month). Each currency
    follows its own random walk that holds over weekends, as NBRB's rates do, and the texts follow
    each record's scale and units: 4 decimals in BYN, 2 in BYR/BYB before the redenominations.
    """
    records = catalogue()
    quoted = [r for r in records if r["Cur_Periodicity"] == 0 and _valid(r, until)][:codes]
    server = FakeNBRB(records)
    server.today = until
    first, last = date.fromisoformat(since), date.fromisoformat(until)
    for current in quoted:
        history = [r for r in records if r["Cur_ParentID"] == current["Cur_ParentID"]]
        rng = random.Random(zlib.crc32(current["Cur_Abbreviation"].encode()))
        per_unit = rng.uniform(0.5, 15.0) / current["Cur_Scale"]  # BYN per 1 unit
        rates: dict[int, dict[str, str]] = defaultdict(dict)
        for n in range((last - first).days + 1):
            day = first + timedelta(days=n)
            if day.weekday() < 5:
                per_unit *= 1 + rng.gauss(0, 0.004)
            iso = day.isoformat()
            for record in history:
                if _valid(record, iso) and (record["Cur_Periodicity"] == 0 or day.day == 1
                                            or iso == record["Cur_DateStart"][:10]):
                    rates[record["Cur_ID"]][iso] = _published(per_unit * record["Cur_Scale"], iso)
        for cur_id, series in rates.items():
            server.add_rates(cur_id, series)
    return server


def _valid(record: dict, day: str) -> bool:
    return record["Cur_DateStart"][:10] <= day <= record["Cur_DateEnd"][:10]


def _published(byn: float, day: str) -> str:
    """NBRB's text for a BYN amount on `day`: in BYR (x10,000) before 2016-07-01, BYB (x1,000 more)
    before 2000-01-01, with 2 decimals then and 4 since."""
    if day >= "2016-07-01":
        return f"{byn:.4f}"
    return f"{byn * (10_000 if day >= '2000-01-01' else 10_000_000):.2f}"


def uah_rescaled(server: FakeNBRB) -> FakeNBRB:
    """The scale change of issue 9 on a weekend: UAH per 10 until Friday 2026-03-13 (0.6950 on
    Thursday, 0.7000 on Friday) under a new Cur_ID 9449, then per 100 from Saturday under 449:
    7.0000, the same value per hryvnia as Friday's, and 7.0350 from Monday 2026-03-16.
    Other currencies keep their recorded rates."""
    uah = next(r for r in server.catalogue if r["Cur_ID"] == 449)
    uah["Cur_DateStart"] = "2026-03-14T00:00:00"
    server.catalogue.append({**uah, "Cur_ID": 9449, "Cur_Scale": 10, "Cur_QuotName": "10 Гривен",
                             "Cur_DateStart": "2021-07-09T00:00:00", "Cur_DateEnd": "2026-03-13T00:00:00"})
    server.add_rates(9449, {"2026-03-12": "0.6950", "2026-03-13": "0.7000"})
    server.add_rates(449, {"2026-03-14": "7.0000", "2026-03-15": "7.0000", "2026-03-16": "7.0350"})
    return server
