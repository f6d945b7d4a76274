"""The Alfa-Bank source against a real local server: the two entries on record (2024, read from shared/)
and the four more RECON26 lists, built in their shape (FACTS §2)."""

import random
from decimal import Decimal

import pytest
from support.bank_feeds import ALFA_PATH, alfa_body, alfa_entries, alfa_quotes, alfa_recorded, feed_server, serve
from support.nbrb_server import JSON

from ticker import sources
from ticker.errors import BadResponse
from ticker.model import BANK_WIDE
from ticker.sources.alfabank import AlfaBank


@pytest.fixture
def server():
    with feed_server("alfabank") as server:
        yield server


def bank(server):
    return AlfaBank(server.url, timeout=2, retries=1, backoff=0.01)


def answer(server, entries):
    serve(server, "alfabank", alfa_body(entries))


def seen(got) -> set[tuple]:
    return {(q.code, q.against, q.side, str(q.rate), q.scale) for q in got.rates}


def test_the_registry_gives_the_source_and_its_metadata():
    source = sources.get("alfabank")
    assert (source.id, source.short, source.kind, source.scales) == ("alfabank", "Alfa-Bank", "bank", {})
    assert source.schedule.poll == "18-59/30 8-20 * * mon-sun"
    assert any("cash, non-cash or online" in line for line in source.unverified)


def test_the_recorded_entries_read_as_the_bank_buying_at_sellrate():
    recorded = alfa_recorded()
    assert [(e["sellIso"], e["buyIso"], str(e["sellRate"]), str(e["buyRate"])) for e in recorded] == [
        ("EUR", "RUB", "94.000000", "104.000000"), ("USD", "RUB", "87.000000", "97.000000")]
    # sellRate < buyRate: the client sells EUR to the bank at 94 RUB and buys it at 104, the bank's
    # buy below its sell (FACTS §2); the source reads them so.


def test_the_answer_is_read_whole_and_exact_as_one_bank_wide_point(server):
    got = bank(server).rates()
    assert server.requests == [(ALFA_PATH, {})]
    assert got.listed == 6 and got.refused == []
    assert [(p.id, p.city, p.bank_wide) for p in got.points] == [(BANK_WIDE, "", True)]
    assert {q.point for q in got.rates} == {BANK_WIDE}
    assert seen(got) == alfa_quotes() and len(got.rates) == 12
    eur_rub = {q.side: str(q.rate) for q in got.rates if (q.code, q.against) == ("EUR", "RUB")}
    assert eur_rub == {"buy": "94.000000", "sell": "104.000000"}  # written as the bank writes it
    rub = {q.side: (str(q.rate), q.scale) for q in got.rates if (q.code, q.against) == ("RUB", "BYN")}
    assert rub == {"buy": ("3.450000", 100), "sell": ("3.600000", 100)}  # quantity 100: the scale, stated
    assert {q.effective_at for q in got.rates} == {"2024-02-16"}  # "16.02.2024", the day only
    assert {(q.channel, q.min_amount, q.per == q.code) for q in got.rates} == {(None, None, True)}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_entries_are_read_by_their_codes_in_any_order(server, seed):
    entries = alfa_entries()
    random.Random(seed).shuffle(entries)  # OLGA's 2022 tests and RECON26 saw three different orders
    answer(server, entries)
    assert seen(bank(server).rates()) == alfa_quotes()


def test_numeric_codes_as_strings_and_integer_rates_are_read(server):
    entries = alfa_entries()
    for e in entries:
        e["buyCode"] = str(e["buyCode"])  # as one TypeScript client types it
    entries[5]["quantity"] = "1"
    entries[0]["sellRate"] = Decimal(94)  # written 94, not 94.000000
    answer(server, entries)
    got = bank(server).rates()
    assert got.refused == []
    assert {q.side: str(q.rate) for q in got.rates if (q.code, q.against) == ("EUR", "RUB")} == {"buy": "94", "sell": "104.000000"}


def test_a_pair_bought_dearer_than_sold_is_refused(server):
    entries = alfa_entries()
    usd = entries[5]
    usd["sellRate"], usd["buyRate"] = usd["buyRate"], usd["sellRate"]  # names read from the bank's side
    answer(server, entries)
    got = bank(server).rates()
    assert got.refused == ["Alfa-Bank: refused USD at 1 point (bank-wide): it would buy at 3.270000 and sell at 3.220000"
                           " BYN per 1 USD, dearer than it sells: the labels reversed?"]
    assert ("USD", "BYN") not in {(q.code, q.against) for q in got.rates}


@pytest.mark.parametrize("change, problem", [
    (lambda e: e.update(sellRate="н/д"), "entry 6 (USD/BYN): sellRate is 'н/д', not a rate"),
    (lambda e: e.pop("buyRate"), "entry 6 (USD/BYN): buyRate is None, not a rate"),
    (lambda e: e.update(quantity=0), "entry 6 (USD/BYN): quantity is 0, expected a whole number of units"),
    (lambda e: e.update(date="2024-02-16"), "entry 6 (USD/BYN): date is '2024-02-16', expected DD.MM.YYYY"),
    (lambda e: e.update(sellIso="BYN", buyIso="USD"), "entry 6 (BYN/USD): it prices BYN in USD: the other way round"
                                                      " from every entry known"),
    (lambda e: e.update(sellIso="US"), "entry 6 (US/BYN): expected a three-letter currency code, got 'US'"),
])
def test_a_damaged_entry_is_refused_alone(server, change, problem):
    entries = alfa_entries()
    change(entries[5])
    answer(server, entries)
    got = bank(server).rates()
    assert got.refused == [f"Alfa-Bank: refused {problem}"]
    assert seen(got) == alfa_quotes(alfa_entries()[:5])


@pytest.mark.parametrize("body, problem", [
    (b'{"rates": []}', "the answer lists no rates"),
    (b'{"fault": {"code": 900906, "message": "No matching resource found"}}', 'expected {"rates": [...]}'),
    (b'[]', 'expected {"rates": [...]}'),
])
def test_a_well_formed_answer_that_cannot_be_used_is_refused_at_once(server, body, problem):
    serve(server, "alfabank", body, JSON)
    with pytest.raises(BadResponse, match="^Alfa-Bank sent a response that cannot be used: ") as error:
        bank(server).rates()
    assert problem in str(error.value)
    assert len(server.requests) == 1


def test_an_answer_whose_every_entry_is_damaged_is_refused(server):
    answer(server, [dict(e, quantity=None) for e in alfa_entries()])
    with pytest.raises(BadResponse, match=r"no rate left, e.g. refused entry 1 \(EUR/RUB\): quantity is None"):
        bank(server).rates()
