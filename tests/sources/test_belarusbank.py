"""The Belarusbank source against a real local HTTP server serving the recorded 2019 answer and variants of it."""

from dataclasses import replace
from decimal import Decimal

import pytest
from support.banks import answer, bank_server, like_2026, nonzero, recorded_points
from support.nbrb_server import JSON

from ticker import sources
from ticker.errors import BadResponse, SourceUnavailable
from ticker.sources.belarusbank import Belarusbank, worktime

ZERO_POINTS = {"374", "2317", "2366", "2306", "2462"}  # FACTS §1.6: five rows of "0.0000" only


@pytest.fixture
def server():
    with bank_server() as server:
        yield server


def key(q) -> str:
    """The answer's key a quote comes from: USD_in, USD_EUR_out."""
    return f"{q.code}_{q.against + '_' if q.cross else ''}{'in' if q.side == 'buy' else 'out'}"


def bank(server, cities=()):
    return Belarusbank(server.url, timeout=2, retries=1, backoff=0.01, cities=cities)


def test_the_registry_gives_the_bank_source_and_its_metadata():
    source = sources.get("belarusbank")
    assert (source.id, source.short, source.kind) == ("belarusbank", "Belarusbank", "bank")
    assert source.schedule.poll == "*/30 8-20 * * mon-sun"
    assert source.coverage.history is False
    assert (source.scales["RUB"], source.scales["PLN"], source.scales["USD"]) == (100, 10, 1)


def test_the_recorded_answer_is_read_whole_and_exact(server):
    got = bank(server).rates()
    recorded = recorded_points()
    assert server.requests == [("/api/kursExchange", {})]  # the whole country in one request
    assert got.listed == len(got.points) == len(recorded) == 542
    assert got.refused == []
    expected = {(p["filial_id"], key) for p in recorded for key in nonzero(p)}
    by_id = {p["filial_id"]: p for p in recorded}
    assert {(q.point, key(q)) for q in got.rates} == expected and len(expected) == 7368
    for q in got.rates:
        assert str(q.rate) == by_id[q.point][key(q)]  # "2.0460": exact, trailing zeros kept
    first = next(q for q in got.rates if q.point == "16" and q.code == "USD" and q.against == "BYN")
    assert (first.side, str(first.rate), first.scale, first.effective_at) == ("buy", "2.0460", 1, None)
    rub = next(q for q in got.rates if q.point == "16" and q.code == "RUB" and q.against == "BYN")
    assert (str(rub.rate), rub.scale) == ("3.0600", 100)


def test_codes_come_from_the_keys_with_uah_in_2019(server):
    got = bank(server).rates()
    direct = {q.code for q in got.rates if not q.cross}
    assert direct == {"USD", "EUR", "RUB", "GBP", "CAD", "PLN", "UAH", "SEK", "CHF", "JPY", "CNY", "CZK"}  # no NOK: never quoted
    crosses = {(q.code, q.against) for q in got.rates if q.cross}
    assert crosses == {("USD", "EUR"), ("USD", "RUB"), ("RUB", "EUR")}


def test_a_point_as_listed(server):
    point = next(p for p in bank(server).rates().points if p.id == "16")
    assert point.city == "Брест" and point.city_type == "г."
    assert point.address == "пр. Партизанский 8-49"
    assert point.label == "Отделение 100/212"  # "100\/212" in the body
    assert point.hours == "Пн-Пт 09:00-19:00, Сб 09:00-15:00"
    assert point.hours_text.startswith("Пн 9 00 19 00    |")


def test_all_zero_points_are_listed_but_quote_nothing(server):
    got = bank(server).rates()
    zero = {p["filial_id"] for p in recorded_points() if not nonzero(p)}
    assert zero == ZERO_POINTS
    assert zero <= {p.id for p in got.points}
    assert not [q for q in got.rates if q.point in zero]
    assert all(q.rate > 0 for q in got.rates)


def test_a_2026_like_answer_with_kurs_date_time_no_uah_and_cny_crosses(server):
    answer(server, like_2026(recorded_points()))
    got = bank(server).rates()
    assert not [q for q in got.rates if "UAH" in (q.code, q.against)]
    cny_usd = [q for q in got.rates if (q.code, q.against) == ("CNY", "USD")]
    cny_points = {p["filial_id"] for p in recorded_points() if Decimal(p["CNY_in"]) != 0}
    assert {q.point for q in cny_usd} == cny_points and len(cny_points) == 51
    assert {(q.side, str(q.rate), q.scale) for q in cny_usd} == {("buy", "0.1370", 1), ("sell", "7.0800", 1)}
    assert {q.effective_at for q in got.rates} == {"2026-03-17 09:30:00"}


def test_cities_kept_any_case(server):
    got = bank(server, cities=("минск", "Несвиж")).rates()
    recorded = recorded_points()
    assert len(got.points) == sum(p["name"] in ("Минск", "Несвиж") for p in recorded) == 169 + 1
    assert got.listed == 542


def test_a_city_named_otherwise_than_the_bank_writes_it_is_one_clear_error(server):
    with pytest.raises(BadResponse, match=r"none of its 542 points is in the cities kept \(belarusbank.cities: Minsk\);"
                                          r" cities are named as the bank writes them, e.g. Минск"):
        bank(server, cities=("Minsk",)).rates()


def test_a_point_with_a_non_numeric_value_is_refused_whole_and_named(server):
    points = recorded_points()
    points[1]["USD_in"] = "н/д"
    points[2]["kurs_date_time"] = "вчера"
    answer(server, points)
    got = bank(server).rates()
    assert got.refused == [
        "Belarusbank: refused point 2263 (Брест, Обменный пункт 100/39): USD_in is 'н/д', not a rate",
        f"Belarusbank: refused point {points[2]['filial_id']} (Брест, {points[2]['filials_text']}): "
        f"kurs_date_time is 'вчера', expected YYYY-MM-DD HH:MM:SS",
    ]
    refused = {points[1]["filial_id"], points[2]["filial_id"]}
    assert not refused & {p.id for p in got.points} and not refused & {q.point for q in got.rates}
    assert len(got.points) == 540


def test_a_point_without_its_id_or_city_is_refused(server):
    points = recorded_points()
    del points[0]["filial_id"]
    points[1]["name"] = " "
    answer(server, points)
    got = bank(server).rates()
    assert got.refused == [
        "Belarusbank: refused point None (Брест, Отделение 100/212): filial_id is '', expected a non-empty string",
        "Belarusbank: refused point 2263 ( , Обменный пункт 100/39): name is ' ', expected a non-empty string"]


def test_a_filial_id_twice_refuses_both_rows(server):
    points = recorded_points()
    points.append(dict(points[0], name="Пинск"))  # as in the hand-edited 2023 fragment
    answer(server, points)
    got = bank(server).rates()
    assert [line.split(": ", 2)[2] for line in got.refused] == ["filial_id 16 appears more than once in the answer"] * 2
    assert "16" not in {p.id for p in got.points}


DAMAGED, UNUSABLE = "a damaged response", "a response that cannot be used"


@pytest.mark.parametrize("body, content_type, kind, problem", [
    # Damaged on the way (a proxy's page, a cut body): retried, then refused.
    (b"<html><body>\xd0\x9f\xd1\x80\xd0\xbe\xd0\xb2\xd0\xb5\xd1\x80\xd0\xba\xd0\xb0</body></html>", "text/html; charset=utf-8",
     DAMAGED, "expected JSON, got text/html; charset=utf-8: <html><body>Проверка</body></html>"),
    (None, JSON, DAMAGED, "malformed JSON"),  # the recording cut in the middle of a point
    # Whole, but wrong: refused at once.
    (b"[]", JSON, UNUSABLE, "the answer lists no exchange points"),
    (b'{"error": "maintenance"}', JSON, UNUSABLE, "expected a list of exchange points, got {\"error\": \"maintenance\"}"),
    (b'["USD_in"]', JSON, UNUSABLE, "expected a list of exchange points"),
])
def test_an_answer_that_cannot_be_used_is_refused_whole(server, body, content_type, kind, problem):
    answer(server, body if body is not None else recorded_points_cut(), content_type)
    with pytest.raises(BadResponse, match=f"^Belarusbank sent {kind}: ") as error:
        bank(server).rates()
    assert problem in str(error.value)
    assert "\n" not in str(error.value)


def recorded_points_cut() -> bytes:
    from support.banks import recorded_body

    text = recorded_body()
    return text[: len(text) // 2]


def test_an_answer_with_points_but_no_rates_is_refused(server):
    points = recorded_points()
    for p in points:
        p.update({key: "0.0000" for key in nonzero(p)})
    answer(server, points)
    with pytest.raises(BadResponse, match="542 points but no rates"):
        bank(server).rates()


def test_an_answer_whose_every_point_is_refused_is_refused(server):
    points = [dict(p, EUR_out="-") for p in recorded_points()[:3]]
    answer(server, points)
    with pytest.raises(BadResponse, match="every point refused, e.g. point 16 .*: EUR_out is '-', not a rate"):
        bank(server).rates()


def test_an_unreachable_bank_names_itself_and_the_setting(server):
    server.script("/api/kursExchange", (503, {}, b"busy"), (503, {}, b"busy"))
    with pytest.raises(SourceUnavailable, match=r"^Could not reach Belarusbank: .*/api/kursExchange: HTTP 503, still"
                                                r" after 1 retry; set belarusbank.base_url"):
        bank(server).rates()


@pytest.mark.parametrize("published, shown", [
    ("Пн 9 00 19 00    |Вт 9 00 19 00    |Ср 9 00 19 00    |Чт 9 00 19 00    |Пт 9 00 19 00    |Сб 9 00 15 00    |Вс        |",
     "Пн-Пт 09:00-19:00, Сб 09:00-15:00"),
    ("Пн 10 00 21 30 16 00 17 00|Вт 10 00 21 30 16 00 17 00|Ср 10 00 21 30 16 00 17 00|Чт 10 00 21 30 16 00 17 00|"
     "Пт 10 00 21 30 16 00 17 00|Сб 10 00 21 30 16 00 17 00|Вс 10 00 21 30 16 00 17 00|",
     "Пн-Вс 10:00-21:30 (break 16:00-17:00)"),
    ("Пн |Вт 10 00 19 00 |Ср 10 00 19 00 |Чт 10 00 19 00 |Пт 10 00 19 00 |Сб 10 00 16 00 |Вс |",  # FRAG23b's padding
     "Вт-Пт 10:00-19:00, Сб 10:00-16:00"),
    ("Пн 9 00 18 00 |Вт |Ср 9 00 18 00 |Чт |Пт 9 00 18 00 |Сб |Вс |", "Пн 09:00-18:00, Ср 09:00-18:00, Пт 09:00-18:00"),
    ("Пн 9 00 18 00  00  00|Вт 9 00 18 00  00  00|Ср 9 00 18 00  00  00|Чт 9 00 18 00  00  00|Пт 9 00 18 00  00  00|"
     "Сб 9 00 15 00    |Вс        |", "Пн-Пт 09:00-18:00, Сб 09:00-15:00"),  # a break with blank hours, in 2019
    ("Пн |Вт |Ср |Чт |Пт |Сб |Вс |", "closed every day"),
    ("круглосуточно", "круглосуточно"),  # any other shape: as published
    ("Пн 9 00 |Вт |Ср |Чт |Пт |Сб |Вс |", "Пн 9 00 |Вт |Ср |Чт |Пт |Сб |Вс |"),
    ("Пн 25 00 26 00 |Вт |Ср |Чт |Пт |Сб |Вс |", "Пн 25 00 26 00 |Вт |Ср |Чт |Пт |Сб |Вс |"),
])
def test_opening_hours_are_made_readable(published, shown):
    assert worktime(published) == shown


def test_every_recorded_hours_string_is_understood():
    assert [p["info_worktime"] for p in recorded_points() if "|" in worktime(p["info_worktime"])] == []


def test_the_compact_live_form_reads_the_same_as_the_pretty_printed_recording(server):
    with bank_server(recorded_points()) as compact:
        live = bank(compact).rates()
    assert replace(live, url="") == replace(bank(server).rates(), url="")


def test_a_currency_bought_dearer_than_sold_is_refused_at_that_point_in_one_line(server):
    points = recorded_points()
    head = next(p for p in points if p["filial_id"] == "1433")
    head["USD_in"], head["USD_out"] = head["USD_out"], head["USD_in"]  # the labels the other way round
    # A cross bought dearer than sold: 1 USD for 0.9500 EUR, 1 EUR for 1.1000 USD (0.95 x 1.10 > 1);
    # swapping in and out alone leaves that product as it was, and NBRB's rate catches it in the sync.
    head["USD_EUR_in"], head["USD_EUR_out"] = "0.9500", "1.1000"
    answer(server, points)
    got = bank(server).rates()
    assert got.refused == [
        f"Belarusbank: refused cash USD at 1 point (1433): it would buy at {head['USD_in']} and sell at"
        f" {head['USD_out']} BYN per 1 USD, dearer than it sells: the labels reversed?",
        "Belarusbank: refused cash USD/EUR at 1 point (1433): it would buy 1 USD for 0.9500 EUR and sell 1 EUR for"
        " 1.1000 USD, dearer than it sells: the labels reversed?"]
    assert {(q.code, q.against) for q in got.rates if q.point == "1433"} == {
        (key.split("_")[0], "BYN" if key.count("_") == 1 else key.split("_")[1]) for key in nonzero(head)} - {
        ("USD", "BYN"), ("USD", "EUR")}
    assert len(got.rates) == 7368 - 4


def test_every_recorded_rate_passes_the_direction_check_and_is_cash(server):
    """FACTS §1.5-1.6: in 2019 every direct rate was bought below its sale and every cross had a positive spread."""
    got = bank(server).rates()
    assert got.refused == [] and len(got.rates) == 7368
    assert {q.channel for q in got.rates} == {"cash"}
