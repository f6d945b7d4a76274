"""The Dabrabyt source against a real local server serving an answer built from FACTS §6.1, and variants."""

import pytest
from support.bank_feeds import (
    DABRABYT_PATH,
    XML,
    dabrabyt_body,
    dabrabyt_data,
    dabrabyt_quotes,
    feed_server,
    serve,
    tls,
)

from ticker import sources
from ticker.errors import BadResponse, SourceUnavailable
from ticker.sources.dabrabyt import Dabrabyt


@pytest.fixture
def server():
    with feed_server("dabrabyt") as server:
        yield server


def bank(server):
    return Dabrabyt(server.url, timeout=2, retries=1, backoff=0.01)


def answer(server, data=None, content_type=XML, **shape):
    serve(server, "dabrabyt", dabrabyt_body(data, **shape), content_type)


def seen(got) -> set[tuple]:
    return {(q.point, q.code, q.against, q.side, str(q.rate)) for q in got.rates}


def test_the_registry_gives_the_source_and_its_metadata():
    source = sources.get("dabrabyt")
    assert (source.id, source.short, source.kind) == ("dabrabyt", "Dabrabyt", "bank")
    assert source.schedule.poll == "24-59/30 8-20 * * mon-sun"
    assert (source.scales["RUB"], source.scales["USD"]) == (100, 1)
    assert any("time is an element or an attribute" in line for line in source.unverified)


def test_the_answer_is_read_whole_and_exact(server):
    got = bank(server).rates()
    assert server.requests == [(DABRABYT_PATH, {})]
    assert got.listed == len(got.points) == 3 and got.refused == []
    expected = dabrabyt_quotes()
    assert seen(got) == expected and len(got.rates) == len(expected) == 26
    assert {q.effective_at for q in got.rates} == {"2026-03-17 14:15"}  # time "17.03.2026 14:15", to the minute
    scales = {(q.code, q.against): q.scale for q in got.rates}
    assert (scales["USD", "BYN"], scales["RUB", "BYN"], scales["PLN", "BYN"], scales["USD", "EUR"]) == (1, 100, 10, 1)
    assert [(p.id, p.label, p.city) for p in got.points] == [(f["name"], f["name"], "") for f in dabrabyt_data()["filials"]]


def test_values_are_read_by_iso_not_by_position(server):
    got = bank(server).rates()
    second = dabrabyt_data()["filials"][1]
    assert second["values"][0]["iso"] == "RUB"  # RUB first: a client reading USD, EUR, RUB by position misreads it
    rub = {q.side: str(q.rate) for q in got.rates if (q.point, q.code, q.against) == (second["name"], "RUB", "BYN")}
    assert rub == {"buy": second["values"][0]["buy"], "sell": second["values"][0]["sale"]}


def test_cross_pairs_are_cross_rates_and_zeros_are_not_rates(server):
    got = bank(server).rates()
    crosses = {(q.point, q.code, q.against) for q in got.rates if q.cross}
    assert crosses == {("Центральный офис", "USD", "EUR"), ("ЦБУ №5", "USD", "EUR"), ("Отделение №12", "EUR", "RUB")}
    assert not [q for q in got.rates if (q.point, q.code) == ("Отделение №12", "PLN")]


def test_time_as_the_roots_attribute_and_codes_in_any_case(server):
    data = dabrabyt_data()
    for branch in data["filials"]:
        branch["values"] = [dict(v, iso=v["iso"].lower()) for v in branch["values"]]
    answer(server, data, time_as="attribute")
    got = bank(server).rates()
    assert seen(got) == dabrabyt_quotes()
    assert {q.effective_at for q in got.rates} == {"2026-03-17 14:15"}


def test_an_answer_without_a_time_has_none(server):
    answer(server, time_as="none")
    assert {q.effective_at for q in bank(server).rates().rates} == {None}


@pytest.mark.parametrize("shape, content_type", [
    ({"encoding": "windows-1251"}, "text/xml"),
    ({"encoding": "windows-1251", "declared": False}, "text/xml; charset=windows-1251"),
    ({"encoding": "windows-1251"}, "text/html; charset=UTF-8"),
])
def test_windows_1251_however_it_is_stated(server, shape, content_type):
    answer(server, **shape, content_type=content_type)
    got = bank(server).rates()
    assert seen(got) == dabrabyt_quotes() and got.points[0].id == "Центральный офис"


def test_windows_1251_not_stated_anywhere_is_damaged(server):
    answer(server, encoding="windows-1251", declared=False, content_type="text/xml")
    with pytest.raises(BadResponse, match=r"^Dabrabyt sent a damaged response: .*: malformed XML \(not well-formed"):
        bank(server).rates()
    assert len(server.requests) == 2  # retried once, as configured


def test_a_pair_bought_dearer_than_sold_is_refused(server):
    data = dabrabyt_data()
    data["filials"][0]["values"][3] = {"iso": "USD/EUR", "buy": "0.9350", "sale": "0.9000"}
    answer(server, data)
    got = bank(server).rates()
    assert got.refused == ["Dabrabyt: refused USD/EUR at 1 point (Центральный офис): it would buy at 0.9350 and sell at"
                           " 0.9000 EUR per 1 USD, dearer than it sells: the labels reversed?"]


@pytest.mark.parametrize("value, problem", [
    ({"iso": "USD", "buy": "-2.93", "sale": "2.9650"}, "USD buy is '-2.93', not a rate"),
    ({"iso": "USD", "buy": "2.93", "sale": ""}, "USD sale is '', not a rate"),
    ({"iso": "USD-EUR", "buy": "0.9", "sale": "0.93"}, "iso is 'USD-EUR', expected a code (USD) or a pair (USD/EUR)"),
])
def test_a_branch_with_a_damaged_value_is_refused_whole(server, value, problem):
    data = dabrabyt_data()
    data["filials"][0]["values"][0] = value
    answer(server, data)
    got = bank(server).rates()
    assert got.refused == [f"Dabrabyt: refused branch Центральный офис: {problem}"]
    assert [p.id for p in got.points] == ["ЦБУ №5", "Отделение №12"]


def test_a_name_twice_refuses_both_branches(server):
    data = dabrabyt_data()
    data["filials"][2]["name"] = "ЦБУ №5"
    answer(server, data)
    got = bank(server).rates()
    assert len(got.refused) == 2 and [p.id for p in got.points] == ["Центральный офис"]


@pytest.mark.parametrize("body, problem", [
    (b"<rates/>", "expected <root>, got <rates>"),
    (b"<root><time>17.03.2026 14:15</time></root>", "the answer lists no <filial>"),
    (dabrabyt_body().replace(b"17.03.2026 14:15", b"17.03.2026"), "time is '17.03.2026', expected DD.MM.YYYY HH:MM"),
])
def test_a_well_formed_answer_that_cannot_be_used_is_refused_at_once(server, body, problem):
    serve(server, "dabrabyt", body)
    with pytest.raises(BadResponse, match="^Dabrabyt sent a response that cannot be used: ") as error:
        bank(server).rates()
    assert str(error.value).endswith(problem)
    assert len(server.requests) == 1


def test_tls_is_verified_and_a_certificate_nobody_signed_is_named(monkeypatch):
    """One PHP client turns verification off for this host (FACTS §6.1): ticker never does."""
    context, authority = tls()
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    with feed_server("dabrabyt").start(tls=context) as server:
        with pytest.raises(SourceUnavailable, match=rf"^Could not reach Dabrabyt: {server.url}/export_courses.php:"
                                                    r" TLS verification failed \(certificate verify failed: unable"
                                                    r" to get local issuer certificate\); set dabrabyt.base_url"):
            bank(server).rates()
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", authority)
        assert seen(bank(server).rates()) == dabrabyt_quotes()
