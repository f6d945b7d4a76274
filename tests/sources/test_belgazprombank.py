"""The Belgazprombank source against a real local server serving an answer built from FACTS §4, and variants."""

import pytest
from support.bank_feeds import (
    BELGAZPROMBANK_EXPORT,
    BELGAZPROMBANK_PATH,
    XML,
    belgazprombank_body,
    belgazprombank_data,
    belgazprombank_quotes,
    feed_server,
    serve,
    tls,
)

from ticker import sources
from ticker.errors import BadResponse
from ticker.sources.belgazprombank import Belgazprombank


@pytest.fixture
def server():
    with feed_server("belgazprombank") as server:
        yield server


def bank(server):
    return Belgazprombank(server.url, timeout=2, retries=1, backoff=0.01)


def answer(server, data=None, content_type=XML, **shape):
    serve(server, "belgazprombank", belgazprombank_body(data, **shape), content_type)


def seen(got) -> set[tuple]:
    return {(q.point, q.code, q.against, q.side, str(q.rate), q.scale, q.min_amount, q.max_amount) for q in got.rates}


def test_the_registry_gives_the_source_and_its_metadata():
    source = sources.get("belgazprombank")
    assert (source.id, source.short, source.kind, source.scales) == ("belgazprombank", "Belgazprombank", "bank", {})
    assert source.schedule.poll == "12-59/30 8-20 * * mon-sun"
    assert any("cash or non-cash" in line for line in source.unverified)


def test_the_answer_is_read_whole_and_exact_with_its_units_and_tiers(server):
    got = bank(server).rates()
    assert server.requests == [(BELGAZPROMBANK_PATH, {})]  # the file itself, not the redirecting export URL
    assert got.listed == len(got.points) == 3 and got.refused == []
    expected = belgazprombank_quotes()
    assert seen(got) == expected and len(got.rates) == len(expected) == 65
    # Lower-case codes; the units as stated (Units="100" for rub), crosses in both orders.
    assert {(q.code, q.against, q.scale) for q in got.rates if q.point == "ЦБУ №501"} >= {
        ("USD", "BYN", 1), ("RUB", "BYN", 100), ("PLN", "BYN", 10), ("CNY", "BYN", 10), ("EUR", "USD", 1),
        ("USD", "EUR", 1), ("USD", "RUB", 1)}
    assert {q.effective_at for q in got.rates} == {None} and {q.channel for q in got.rates} == {None}
    assert {q.per == q.code for q in got.rates} == {True}


def test_branches_are_named_only(server):
    points = bank(server).rates().points
    assert [(p.id, p.label, p.city, p.address) for p in points] == [
        (b["name"], b["name"], "", "") for b in belgazprombank_data()]


def test_tiers_keep_their_amounts_and_best_rates_use_the_one_from_zero(server):
    got = bank(server).rates()
    usd = sorted((q.min_amount, q.max_amount, q.side, str(q.rate), q.typical) for q in got.rates
                 if (q.point, q.code, q.against) == ("ЦБУ №501", "USD", "BYN"))
    (low, high, buy, sell), (big, _, big_buy, big_sell) = belgazprombank_data()[0]["rates"][0]["tiers"]
    assert usd == sorted([(int(low), int(high), "buy", buy, True), (int(low), int(high), "sell", sell, True),
                          (int(big), None, "buy", big_buy, False), (int(big), None, "sell", big_sell, False)])


def test_a_zero_is_not_a_rate(server):
    chf = {(q.side, str(q.rate)) for q in bank(server).rates().rates if (q.point, q.code) == ("ЦБУ №502", "CHF")}
    assert chf == {("sell", "3.4400")}


@pytest.mark.parametrize("shape, content_type", [
    ({"encoding": "windows-1251"}, "text/xml"),  # declared in the XML
    ({"encoding": "windows-1251", "declared": False}, "text/xml; charset=windows-1251"),  # only in the header
    ({"encoding": "windows-1251"}, "text/html; charset=UTF-8"),  # a PHP default header: the declaration wins
    ({"root": "root"}, "application/xml"),  # the root's name is on no record: not relied on
])
def test_the_encoding_and_root_whatever_they_turn_out_to_be(server, shape, content_type):
    answer(server, **shape, content_type=content_type)
    got = bank(server).rates()
    assert seen(got) == belgazprombank_quotes()
    assert [p.id for p in got.points] == ["ЦБУ №501", "ЦБУ №502", "Головной офис"]


@pytest.mark.parametrize("tiers, problem", [
    ([("1", "9999", "2.92", "2.97")], "usd: its tiers (1-9999) do not start at 0: which one a typical amount gets is unknown"),
    ([("0", "9999", "2.92", "2.97"), ("5000", None, "2.93", "2.96")], "usd: its tiers (0-9999, 5000-) overlap"),
    ([("0", None, "2.92", "2.97"), ("10000", None, "2.93", "2.96")], "usd: its tiers (0-, 10000-) overlap"),
])
def test_tiers_that_cannot_be_told_apart_refuse_that_currency_in_one_line(server, tiers, problem):
    data = belgazprombank_data()
    for branch in data[:2]:
        branch["rates"][0]["tiers"] = tiers
    answer(server, data)
    got = bank(server).rates()
    assert got.refused == [f"Belgazprombank: refused USD at 2 points (ЦБУ №501, ЦБУ №502): {problem}"]
    assert {q.point for q in got.rates if (q.code, q.against) == ("USD", "BYN")} == {"Головной офис"}
    assert len(got.points) == 3


def test_a_tier_bought_dearer_than_sold_is_refused_with_its_amounts(server):
    data = belgazprombank_data()
    data[2]["rates"][1]["tiers"][1] = ("10000", None, "3.2500", "3.1900")
    answer(server, data)
    got = bank(server).rates()
    assert got.refused == ["Belgazprombank: refused EUR (amounts 10000 to any) at 1 point (Головной офис): it would"
                           " buy at 3.2500 and sell at 3.1900 BYN per 1 EUR, dearer than it sells: the labels reversed?"]
    assert {(q.min_amount, q.side) for q in got.rates if (q.point, q.code) == ("Головной офис", "EUR")} == {
        (0, "buy"), (0, "sell")}  # the first tier stands


@pytest.mark.parametrize("change, problem", [
    (lambda b: b["rates"][0].update(Units="one"), "usd: Units is 'one', expected a whole number of units"),
    (lambda b: b["rates"][0].pop("Units"), "usd: Units is None, expected a whole number of units"),
    (lambda b: b["rates"][0].update(currency="us dollar"), "currency is 'us dollar', expected a code (usd) or a pair (eur_rub)"),
    (lambda b: b["rates"][1]["tiers"].__setitem__(0, ("0", "9999", "3,18", "3.2450")), "eur buy is '3,18', not a rate"),
    (lambda b: b["rates"][1]["tiers"].__setitem__(0, ("zero", "9999", "3.18", "3.2450")), "eur: min-amount is 'zero', not an amount"),
])
def test_a_branch_with_a_damaged_value_is_refused_whole_and_named(server, change, problem):
    data = belgazprombank_data()
    change(data[1])
    answer(server, data)
    got = bank(server).rates()
    assert got.refused == [f"Belgazprombank: refused branch ЦБУ №502: {problem}"]
    assert [p.id for p in got.points] == ["ЦБУ №501", "Головной офис"]


def test_a_name_twice_refuses_both_branches(server):
    data = belgazprombank_data()
    data[2]["name"] = data[0]["name"]
    answer(server, data)
    got = bank(server).rates()
    assert got.refused == ["Belgazprombank: refused branch ЦБУ №501: the name ЦБУ №501 appears more than once in the"
                           " answer"] * 2
    assert [p.id for p in got.points] == ["ЦБУ №502"]


def test_an_answer_without_branches_is_refused_at_once(server):
    serve(server, "belgazprombank", b'<?xml version="1.0"?><courses/>')
    with pytest.raises(BadResponse, match=r"the answer lists no <branch> \(its root is <courses>\)$"):
        bank(server).rates()
    assert len(server.requests) == 1


def test_the_documented_url_redirects_to_plain_http_which_is_refused(monkeypatch):
    """RECON26: export_courses.php answers 301 to an http:// URL. Over HTTPS, as the bank serves it,
    the client refuses to follow; the source asks for the file the redirects end at instead."""
    context, authority = tls()
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", authority)
    server = feed_server("belgazprombank")
    with server.start(tls=context):
        source = bank(server)
        with pytest.raises(BadResponse, match=rf"^Belgazprombank sent a response that cannot be used: refused a"
                                              rf" redirect from https to http: {server.url}{BELGAZPROMBANK_EXPORT} ->"
                                              r" http://127\.0\.0\.1:\d+/upload/courses.xml$"):
            source.client.xml(BELGAZPROMBANK_EXPORT)
        assert server.requests == [(BELGAZPROMBANK_EXPORT, {})]  # nothing was asked over plain http
        got = source.rates()
    assert got.url == f"{server.url}{BELGAZPROMBANK_PATH}" and seen(got) == belgazprombank_quotes()
