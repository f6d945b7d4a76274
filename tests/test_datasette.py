"""Datasette on the database with db/metadata.json: real Datasette serving the recorded database."""

import json
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[1]
METADATA = ROOT / "db" / "metadata.json"


@pytest.fixture(scope="module")
def datasette(recorded_db, tmp_path_factory):
    """`datasette rates.sqlite --metadata db/metadata.json`, on a Unix socket (no port to race for)."""
    yield from serve(recorded_db, tmp_path_factory.mktemp("datasette"))


@pytest.fixture(scope="module")
def monthly_datasette(monthly_db, tmp_path_factory):
    """The same over the database with NBRB's monthly list too (KRW, THB: conftest.monthly_db)."""
    yield from serve(monthly_db, tmp_path_factory.mktemp("datasette_monthly"))


def serve(database: Path, folder: Path):
    db = folder / "rates.sqlite"
    shutil.copy(database, db)
    socket = folder / "datasette.sock"
    process = subprocess.Popen([str(Path(sys.executable).with_name("datasette")), "serve", str(db),
                                "--metadata", str(METADATA), "--uds", str(socket)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    client = httpx.Client(transport=httpx.HTTPTransport(uds=str(socket)), base_url="http://datasette", timeout=30)
    deadline = time.monotonic() + 60
    while True:
        try:
            if client.get("/-/versions.json").status_code == 200:
                break
        except httpx.TransportError:
            pass
        assert process.poll() is None, process.stderr.read()
        assert time.monotonic() < deadline, "Datasette did not start within 60 s"
        time.sleep(0.2)
    yield client
    client.close()
    process.terminate()
    process.wait(timeout=30)


def test_the_metadata_describes_every_table_view_and_column(recorded_db):
    tables = json.loads(METADATA.read_text(encoding="utf-8"))["databases"]["rates"]["tables"]
    conn = sqlite3.connect(recorded_db)
    names = [n for (n,) in conn.execute(
        "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE '\\_%' ESCAPE '\\'")]
    assert sorted(tables) == sorted(names)
    for name in names:
        columns = [c[1] for c in conn.execute(f"PRAGMA table_info({name})")]
        assert sorted(tables[name]["columns"]) == sorted(columns), name
        assert tables[name]["title"]


def test_the_rates_table_page_shows_its_title_and_column_descriptions(datasette):
    page = datasette.get("/rates/rates?code=USD&date=2024-01-10")
    assert page.status_code == 200
    assert "Official rates, as published" in page.text
    assert "the rate exactly as published, trailing zeros kept (3.1980)" in page.text
    assert "3.1949" in page.text


def test_the_canned_queries_answer_json(datasette):
    rate = datasette.get("/rates/rate_on_day.json", params={"code": "usd", "day": "2024-01-10", "_shape": "array"})
    assert rate.status_code == 200, rate.text
    assert rate.json() == [{"code": "USD", "date": "2024-01-10", "scale": 1, "rate": "3.1949", "unit": "BYN",
                            "byn_per_unit": 3.1949, "cur_id": 431}]
    rub = datasette.get("/rates/rate_on_day.json", params={"code": "RUB", "day": "2026-03-17", "_shape": "array"})
    assert [(r["scale"], r["rate"], r["byn_per_unit"]) for r in rub.json()] == [(100, "3.6709", 0.036709)]
    series = datasette.get("/rates/series.json", params={"code": "USD", "since": "2024-01-01", "until": "2024-01-31",
                                                         "_shape": "array"}).json()
    assert len(series) == 31 and series[4] == {"date": "2024-01-05", "scale": 1, "rate": "3.1980", "unit": "BYN",
                                               "byn_per_unit": 3.198}
    # 1000 RUB at 3.6709 per 100 on 2026-03-17: 36.709, to kopecks 36.71
    converted = datasette.get("/rates/conversion.json", params={"amount": "1000", "code": "rub", "day": "2026-03-17",
                                                                "_shape": "array"}).json()
    assert converted == [{"amount": "1000", "code": "RUB", "date": "2026-03-17", "rate": "100 RUB = 3.6709 BYN",
                          "byn": 36.71}]


def test_the_canned_queries_answer_a_monthly_currency_on_a_day_its_rate_was_not_set(monthly_datasette):
    # KRW's rate is set on the 1st (made up: 2.1367 BYN per 1000 in March 2026) and in force all month.
    rate = monthly_datasette.get("/rates/rate_on_day.json", params={"code": "krw", "day": "2026-03-17",
                                                                    "_shape": "array"})
    assert rate.status_code == 200, rate.text
    [krw] = rate.json()
    assert krw == {"code": "KRW", "date": "2026-03-01", "scale": 1000, "rate": "2.1367", "unit": "BYN",
                   "byn_per_unit": krw["byn_per_unit"], "cur_id": 515}
    assert krw["byn_per_unit"] == pytest.approx(0.0021367, rel=1e-12)  # a float, as the view documents
    # 250,000 KRW at 2.1367 per 1000: 534.175, to kopecks 534.18 (floating point, as the query says).
    converted = monthly_datasette.get("/rates/conversion.json", params={"amount": "250000", "code": "KRW",
                                                                        "day": "2026-03-17", "_shape": "array"})
    assert converted.json() == [{"amount": "250000", "code": "KRW", "date": "2026-03-01",
                                 "rate": "1000 KRW = 2.1367 BYN", "byn": 534.18}]
    # A daily currency still answers only on its own day, and a monthly one not before its month's rate.
    usd = monthly_datasette.get("/rates/rate_on_day.json", params={"code": "USD", "day": "2026-03-17",
                                                                   "_shape": "array"}).json()
    assert [(r["date"], r["rate"]) for r in usd] == [("2026-03-17", "2.9463")]
    april = monthly_datasette.get("/rates/rate_on_day.json", params={"code": "KRW", "day": "2026-04-02",
                                                                     "_shape": "array"}).json()
    assert april == []
