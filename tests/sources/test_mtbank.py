"""The MTBank source against a real local server serving an answer built from FACTS §3, and variants of it."""

from decimal import Decimal

import pytest
from support.bank_feeds import MTBANK_PATH, feed_server, mtbank_body, mtbank_data, mtbank_quotes, serve

from ticker import sources
from ticker.errors import BadResponse
from ticker.model import CASH, NON_CASH
from ticker.sources.mtbank import MTBank


@pytest.fixture
def server():
    with feed_server("mtbank") as server:
        yield server


def bank(server, cities=()):
    return MTBank(server.url, timeout=2, retries=1, backoff=0.01, cities=cities)


def answer(server, data):
    serve(server, "mtbank", mtbank_body(data))


def seen(got) -> set[tuple]:
    return {(q.point, q.code, q.against, q.side, str(q.rate), q.channel) for q in got.rates}


def test_the_registry_gives_the_source_and_its_metadata():
    source = sources.get("mtbank")
    assert (source.id, source.short, source.kind) == ("mtbank", "MTBank", "bank")
    assert source.schedule.poll == "6-59/30 8-20 * * mon-sun"
    assert (source.scales["RUB"], source.scales["PLN"], source.scales["USD"]) == (100, 10, 1)
    assert source.coverage.history is False
    assert any("cacheless" in line for line in source.unverified)


def test_the_answer_is_read_whole_and_exact(server):
    got = bank(server).rates()
    data = mtbank_data()
    assert server.requests == [(MTBANK_PATH, {"ver": "2"})]
    assert got.listed == len(got.points) == len(data["departments"]) == 4
    assert got.refused == []
    expected = mtbank_quotes(data)
    assert seen(got) == expected and len(got.rates) == len(expected) == 91
    assert {q.effective_at for q in got.rates} == {"2026-03-17"}  # the root's date="17.03.2026", the day only
    scales = {(q.code, q.against): q.scale for q in got.rates}
    assert (scales["USD", "BYN"], scales["RUB", "BYN"], scales["PLN", "BYN"], scales["CNY", "BYN"]) == (1, 100, 10, 10)
    assert (scales["EUR", "RUB"], scales["USD", "RUB"], scales["EUR", "USD"]) == (1, 1, 1)
    # Both sides of every rate, crosses too, are `against` per `scale` units of `code`.
    assert {q.per == q.code and q.quoted_per == q.code for q in got.rates} == {True}
    assert "AU" not in {q.code for q in got.rates}  # <metals> are not exchange rates


def test_cash_and_non_cash_are_kept_apart(server):
    got = bank(server).rates()
    usd = {(q.channel, q.side): str(q.rate) for q in got.rates
           if q.point == "168,768,968,868" and (q.code, q.against) == ("USD", "BYN")}
    cash = next(c for c in mtbank_data()["departments"][0]["currencies"] if c[:2] == ("USD", "BYN") and c[4] == "0")
    cashless = next(c for c in mtbank_data()["departments"][0]["currencies"] if c[:2] == ("USD", "BYN") and c[4] == "1")
    assert usd == {(CASH, "buy"): cash[2], (CASH, "sell"): cash[3], (NON_CASH, "buy"): cashless[2],
                   (NON_CASH, "sell"): cashless[3]}


def test_a_comma_list_of_ids_is_one_department_and_coordinates_are_x_longitude_y_latitude(server):
    points = {p.id: p for p in bank(server).rates().points}
    first = mtbank_data()["departments"][0]
    assert first["id"] == "168,768,968,868"
    office = points["168,768,968,868"]
    assert (office.city, office.label, office.address) == (first["city"], first["label"], first["address"])
    assert (office.latitude, office.longitude) == (Decimal(first["y"]), Decimal(first["x"]))
    assert 51 < office.latitude < 56 and 23 < office.longitude < 33  # Belarus: y is the latitude
    assert (points["12"].latitude, points["12"].longitude) == (None, None)  # no coordinates in the answer
    assert not office.bank_wide


def test_the_older_labels_read_the_same_as_the_2026_ones(server):
    got = bank(server).rates()
    brest = mtbank_data()["departments"][2]
    assert ("BYN", "USD") in {c[:2] for c in brest["currencies"]}  # code BYN, codeTo USD: the older form
    rates = {(q.point, q.channel, q.side): str(q.rate) for q in got.rates if (q.code, q.against) == ("USD", "BYN")}
    for channel in (CASH, NON_CASH):
        for side in ("buy", "sell"):
            assert rates["45", channel, side] == rates["168,768,968,868", channel, side]


def test_zeros_are_not_rates(server):
    got = bank(server).rates()
    assert {(q.side, str(q.rate)) for q in got.rates if q.point == "12" and q.code == "CNY"} == {("sell", "4.3500")}
    assert not [q for q in got.rates if q.point == "51" and q.channel == NON_CASH]
    assert all(q.rate > 0 for q in got.rates)


def test_codes_in_any_case(server):
    data = mtbank_data()
    data["departments"][0]["currencies"] = [(c.lower(), t.lower(), *rest) for c, t, *rest in
                                            data["departments"][0]["currencies"]]
    answer(server, data)
    assert seen(bank(server).rates()) == mtbank_quotes(mtbank_data())


def test_a_currency_bought_dearer_than_sold_is_refused_at_those_departments_in_one_line(server):
    data = mtbank_data()
    for department in data["departments"][:2]:  # cash USD with purchase and sale swapped
        department["currencies"] = [(c, t, s, p, k) if (c, t, k) == ("USD", "BYN", "0") else (c, t, p, s, k)
                                    for c, t, p, s, k in department["currencies"]]
    answer(server, data)
    got = bank(server).rates()
    assert got.refused == ["MTBank: refused cash USD at 2 points (168,768,968,868, 12): it would buy at 2.9700 and"
                           " sell at 2.9200 BYN per 1 USD, dearer than it sells: the labels reversed?"]
    left = mtbank_quotes(data) - {q for q in mtbank_quotes(data)
                                  if q[0] in ("168,768,968,868", "12") and q[1:3] == ("USD", "BYN") and q[5] == CASH}
    assert seen(got) == left


def test_a_cross_rate_bought_dearer_than_sold_is_refused(server):
    data = mtbank_data()
    data["departments"][3]["currencies"] = [(c, t, "91.00", "84.50", k) if (c, t, k) == ("EUR", "RUB", "0") else (c, t, p, s, k)
                                            for c, t, p, s, k in data["departments"][3]["currencies"]]
    answer(server, data)
    assert bank(server).rates().refused == [
        "MTBank: refused cash EUR/RUB at 1 point (51): it would buy at 91.00 and sell at 84.50 RUB per 1 EUR, dearer"
        " than it sells: the labels reversed?"]


def test_a_pair_quoted_twice_in_one_channel_is_refused(server):
    data = mtbank_data()
    data["departments"][1]["currencies"].append(("USD", "BYN", "2.9000", "2.9900", "0"))
    answer(server, data)
    assert bank(server).rates().refused == [
        "MTBank: refused cash USD at 1 point (12): quoted 4 times at one point: buy 2.9200, sell 2.9700, buy 2.9000,"
        " sell 2.9900"]


@pytest.mark.parametrize("change, problem", [
    (lambda d: d["currencies"].__setitem__(0, ("USD", "BYN", "2,9200", "2.9700", "0")), "USD/BYN purchase is '2,9200', not a rate"),
    (lambda d: d["currencies"].__setitem__(0, ("USD", "BYN", "2.9200", "-2.9700", "0")), "USD/BYN sale is '-2.9700', not a rate"),
    (lambda d: d["currencies"].__setitem__(0, ("USD", "BYN", "2.9200", "2.9700", "2")), "currency 1 (USD/BYN): cacheless is '2', expected 0 or 1"),
    (lambda d: d["currencies"].__setitem__(0, ("US", "BYN", "2.9200", "2.9700", "0")), "currency 1: expected a three-letter currency code, got 'US'"),
    (lambda d: d["currencies"].__setitem__(0, ("BYN", "BYN", "1", "1", "0")), "currency 1: BYN against itself"),
    (lambda d: d.update(x="27,59"), "x is '27,59', not a longitude"),
    (lambda d: d.update(y="153.9"), "y is '153.9', not a latitude"),
    (lambda d: d.update(city=" "), "it has no city"),
])
def test_a_department_with_a_damaged_value_is_refused_whole_and_named(server, change, problem):
    data = mtbank_data()
    change(data["departments"][0])
    answer(server, data)
    got = bank(server).rates()
    name = "168,768,968,868" + (" (Обменный пункт №10)" if data["departments"][0]["city"] == " " else
                                " (Минск, Обменный пункт №10)")
    assert got.refused == [f"MTBank: refused department {name}: {problem}"]
    assert "168,768,968,868" not in {p.id for p in got.points} | {q.point for q in got.rates}
    assert len(got.points) == 3


def test_an_id_twice_refuses_both_departments(server):
    data = mtbank_data()
    data["departments"][3]["id"] = "168, 768, 968, 868"  # the same list, spaced
    answer(server, data)
    got = bank(server).rates()
    assert [line.split(": ", 2)[2] for line in got.refused] == ["id 168,768,968,868 appears more than once in the answer"] * 2
    assert {p.id for p in got.points} == {"12", "45"}


def test_cities_kept_any_case_and_a_city_written_otherwise(server):
    got = bank(server, cities=("минск",)).rates()
    assert {p.id for p in got.points} == {d["id"] for d in mtbank_data()["departments"] if d["city"] == "Минск"}
    assert got.listed == 4
    with pytest.raises(BadResponse, match=r"none of its 4 departments is in the cities kept \(mtbank.cities: Minsk\)"):
        bank(server, cities=("Minsk",)).rates()


@pytest.mark.parametrize("body, problem", [
    (b'<?xml version="1.0"?><error>maintenance</error>', "expected <rates>, got <error>"),
    (b'<rates date="17.03.2026"></rates>', "the answer lists no departments"),
    # The un-versioned feed: one flat list of currencies (a 2023-era client).
    (b'<rates><currency><code>USD</code><codeTo>BYN</codeTo><purchase>2.92</purchase><sale>2.97</sale>'
     b'<cacheless>0</cacheless></currency></rates>', "the answer lists no departments but 1 currencies: the un-versioned feed?"),
    (mtbank_body().replace(b'date="17.03.2026"', b'date="2026-03-17"'), "date is '2026-03-17', expected DD.MM.YYYY"),
])
def test_a_well_formed_answer_that_cannot_be_used_is_refused_at_once(server, body, problem):
    serve(server, "mtbank", body)
    with pytest.raises(BadResponse, match="^MTBank sent a response that cannot be used: ") as error:
        bank(server).rates()
    assert str(error.value).endswith(problem)
    assert len(server.requests) == 1  # not retried: it would be the same again


def test_an_answer_without_any_rate_is_refused(server):
    data = mtbank_data()
    for department in data["departments"]:
        department["currencies"] = [(c, t, "0", "0", k) for c, t, _, _, k in department["currencies"]]
    answer(server, data)
    with pytest.raises(BadResponse, match="4 points but no rates"):
        bank(server).rates()


def test_an_answer_whose_every_rate_is_reversed_is_refused(server):
    data = mtbank_data()
    for department in data["departments"]:  # both sides quoted everywhere (a side alone cannot be checked)
        department["currencies"] = [(c, t, s, p, k) for c, t, p, s, k in department["currencies"] if p != "0"]
    answer(server, data)
    with pytest.raises(BadResponse, match=r"every rate refused, e.g. MTBank: refused cash USD at 4 points"):
        bank(server).rates()
