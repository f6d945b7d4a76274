"""A real `ticker serve` over a record of five banks: /v2/providers lists each bank whose section is
enabled, with the days and currencies of its answers stored, and /metrics has one last-answer time
per bank, read back from the database."""

import sqlite3

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from support.serving import serving

from ticker import sources
from ticker.days import parse_stamp

ENABLED = ("belarusbank", "mtbank", "alfabank")  # the other two have answers stored but are not polled


@pytest.fixture(scope="module")
def served(tmp_path_factory, five_banks_db):
    sections = {bank: {"enabled": "true", "base_url": '"http://127.0.0.1:9"'} for bank in ENABLED}
    with serving(tmp_path_factory.mktemp("serve-banks"), five_banks_db, now="2026-03-17T14:00", **sections) as server:
        yield server


def test_providers_are_nbrb_and_each_enabled_bank_with_what_it_quotes(served, five_banks_db):
    conn = sqlite3.connect(five_banks_db)
    found = httpx.get(f"{served.url}/v2/providers", timeout=30).json()
    assert [p["key"] for p in found] == ["NBRB", "BELARUSBANK", "MTBANK", "ALFA-BANK"]
    for provider, bank in zip(found[1:], ENABLED):
        quoted = [c for (c,) in conn.execute("SELECT DISTINCT code FROM bank_rates_now WHERE bank = ? AND against = 'BYN'"
                                             " ORDER BY code", [bank])]
        assert quoted and provider["currencies"] == quoted
        assert (provider["start_date"], provider["end_date"]) == ("2026-03-17", "2026-03-17")
        assert provider["data_url"] == sources.get(bank).url and provider["pivot_currency"] == "BYN"
    assert "USD" in found[3]["currencies"]  # Alfa-Bank's bank-wide rates count as what it quotes


def test_metrics_have_each_banks_last_answer(served, five_banks_db):
    conn = sqlite3.connect(five_banks_db)
    text = httpx.get(f"{served.url}/metrics", timeout=30).text
    family = {f.name: f for f in text_string_to_metric_families(text)}["ticker_bank_last_answer_timestamp_seconds"]
    stored = {bank: parse_stamp(at).timestamp() for bank, at in conn.execute(
        "SELECT bank, max(finished_at) FROM bank_polls WHERE status = 'ok' GROUP BY bank")}
    assert {s.labels["bank"]: s.value for s in family.samples} == stored
    assert len(stored) == 5  # every bank with an answer stored, polled now or not
