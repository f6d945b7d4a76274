"""/metrics of a real `ticker serve`: Prometheus' text format that `promtool check metrics` finds
clean, and that a real Prometheus server (Debian's) scrapes: a query through its HTTP API returns
today's USD rate."""

import shutil
import socket
import sqlite3
import subprocess
import time
from datetime import datetime, timezone

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from support.serving import serving

from ticker.days import parse_stamp

PROMETHEUS, PROMTOOL = shutil.which("prometheus"), shutil.which("promtool")


@pytest.fixture(scope="module")
def served(tmp_path_factory, bank_db):
    # Monday 2026-03-16 evening: Tuesday's rates are stored, and Belarusbank's answers of that day.
    # The bank database holds every rate from 2026-03-01: a record complete since then.
    with serving(tmp_path_factory.mktemp("metrics"), bank_db, now="2026-03-16T18:00",
                 track={"since": "2026-03-01"}) as server:
        yield server


def families(text: str) -> dict:
    return {f.name: f for f in text_string_to_metric_families(text)}


def test_the_metrics_are_the_records_own(served, bank_db):
    response = httpx.get(f"{served.url}/metrics", timeout=30)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain; version=0.0.4")
    assert response.headers["cache-control"] == "no-store"
    found = families(response.text)
    conn = sqlite3.connect(bank_db)

    def stored(day):
        return {(code, str(scale)): float(text) for code, scale, text in conn.execute(
            "SELECT code, scale, rate_text FROM rates WHERE date = ? AND periodicity = 0", [day])}

    today = {(s.labels["currency"], s.labels["scale"]): s.value for s in found["ticker_rate_byn"].samples}
    assert today == stored("2026-03-16") and today[("USD", "1")] == 2.9332
    tomorrow = {(s.labels["currency"], s.labels["scale"]): s.value for s in found["ticker_rate_tomorrow_byn"].samples}
    assert tomorrow == stored("2026-03-17") and tomorrow[("RUB", "100")] == 3.6709
    failures = conn.execute("SELECT count(*) FROM fetches WHERE status = 'error' AND kind <> 'catalogue'").fetchone()[0]
    assert found["ticker_fetch_failures"].type == "counter"
    assert [s.value for s in found["ticker_fetch_failures"].samples if s.name.endswith("_total")] == [failures]
    assert {s.labels["currency"]: s.value for s in found["ticker_rates_missing"].samples}["USD"] == 0
    assert found["ticker_last_success_timestamp_seconds"].samples[0].value > 0
    # The server's clock started at 2026-03-16 15:00 UTC (pinned) and has run for less than two minutes since.
    (newest,) = conn.execute("SELECT max(fetched_at) FROM rates").fetchone()
    started = datetime(2026, 3, 16, 15, 0, tzinfo=timezone.utc).timestamp()
    age = found["ticker_newest_rate_age_seconds"].samples[0].value
    assert 0 <= age - (started - parse_stamp(newest).timestamp()) <= 120
    status = httpx.get(f"{served.url}/api/status", timeout=30)
    assert found["ticker_up_to_date"].samples[0].value == (1 if status.status_code == 200 else 0)
    best = {(s.labels["currency"], s.labels["side"]): s.value for s in found["ticker_bank_best_rate_byn"].samples
            if s.labels["city"] == "Минск"}
    assert best[("USD", "buy")] > 0 and best[("USD", "sell")] >= best[("USD", "buy")]


def test_promtool_finds_the_metrics_clean(served):
    assert PROMTOOL, "promtool is missing: install Debian's prometheus (.ci/run does)"
    text = httpx.get(f"{served.url}/metrics", timeout=30).text
    done = subprocess.run([PROMTOOL, "check", "metrics"], input=text, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_real_prometheus_scrapes_todays_usd_rate(served, tmp_path):
    assert PROMETHEUS, "prometheus is missing: install Debian's prometheus (.ci/run does)"
    target = served.url.removeprefix("http://")
    (tmp_path / "prometheus.yml").write_text(
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
        f"scrape_configs:\n  - job_name: ticker\n    static_configs:\n      - targets: ['{target}']\n")
    port = free_port()
    process = subprocess.Popen([PROMETHEUS, f"--config.file={tmp_path / 'prometheus.yml'}",
                                f"--storage.tsdb.path={tmp_path / 'data'}", f"--web.listen-address=127.0.0.1:{port}"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 90
        result = []
        while not result:
            assert process.poll() is None, process.stderr.read()
            assert time.monotonic() < deadline, "Prometheus gave no ticker_rate_byn within 90 s"
            try:
                answer = httpx.get(f"http://127.0.0.1:{port}/api/v1/query",
                                   params={"query": 'ticker_rate_byn{currency="USD"}'}, timeout=10).json()
                result = answer["data"]["result"]
            except (httpx.TransportError, KeyError, ValueError):
                pass
            if not result:
                time.sleep(0.5)
        targets = httpx.get(f"http://127.0.0.1:{port}/api/v1/targets", timeout=10).json()["data"]["activeTargets"]
    finally:
        process.terminate()
        process.wait(timeout=30)
    (usd,) = result
    assert usd["metric"]["scale"] == "1" and usd["metric"]["job"] == "ticker" and usd["value"][1] == "2.9332"
    assert [t["health"] for t in targets] == ["up"]
