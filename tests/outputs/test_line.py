"""The header line (ticker/outputs/line.py) on items built in memory from the recorded rates: no
database, no HTTP. `ticker line` end to end: tests/test_cli.py and tests/test_latest.py."""

import json
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from support.banks import best_in, recorded_points
from support.series import bank_rates, item, previous_distinct, rate

from ticker.model import Rate
from ticker.outputs import line
from ticker.outputs.line import Item
from ticker.store.reader import BankBest, BankRates

DAY = date(2026, 3, 17)
CODES = ("RUB", "USD", "EUR")


def half_up(value: Decimal, places: int = 2) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP)


def mark(current: Rate, previous: Rate) -> str:
    return "▲" if current.byn_per_unit > previous.byn_per_unit else "▼"


def test_usd_on_2024_01_10_is_its_rate_as_published():
    usd = item("USD", "2024-01-10")
    assert usd.current.rate == Decimal("3.1949") and (usd.current.scale, usd.current.unit) == (1, "BYN")
    before = previous_distinct("USD", "2024-01-10")
    assert line.item_text(usd, 4) == f"USD 3.1949 BYN {mark(usd.current, before)}"
    assert line.item_text(usd) == f"USD 3.19 BYN {mark(usd.current, before)}"
    assert usd.change == Decimal("3.1949") - before.rate


def test_the_line_joins_its_items_rounded_half_up_with_their_marks():
    items = [item(code, DAY) for code in CODES]
    expected = " · ".join(f"{i.current.code} {half_up(i.current.rate)} BYN {mark(i.current, i.previous)}"
                          for i in items)
    assert line.text(items) == expected
    assert expected.startswith("RUB 3.67 BYN ")  # 3.6709 per 100
    # --precision 4: the rate as published, RUB per 100 included.
    assert line.text(items, 4).startswith("RUB 3.6709 BYN ")


def test_json_has_exact_values_as_strings_in_the_lines_order():
    items = [item(code, DAY) for code in CODES]
    data = json.loads(json.dumps(line.as_json(items, DAY, 2)))  # what ticker.json holds
    assert data["date"] == "2026-03-17" and data["line"] == line.text(items, 2) and data["ahead"] == []
    assert [c["code"] for c in data["currencies"]] == list(CODES)
    for entry, code in zip(data["currencies"], CODES):
        current, previous = rate(code, DAY), previous_distinct(code, DAY)
        change = current.rate - previous.rate  # the same scale: no conversion
        assert entry == {
            "code": code, "date": "2026-03-17", "scale": current.scale, "unit": "BYN", "rate": str(current.rate),
            "previous": {"date": previous.date.isoformat(), "rate": str(previous.rate)},
            "change": str(change), "change_pct": str(half_up(100 * change / previous.rate)),
            "direction": "up" if change > 0 else "down",
        }
    rub = data["currencies"][0]
    assert (rub["code"], rub["scale"], rub["rate"], rub["unit"]) == ("RUB", 100, "3.6709", "BYN")


def test_the_days_published_ahead_come_with_their_own_line():
    today, tomorrow = [item("USD", "2026-03-16")], [item("USD", DAY)]
    data = line.as_json(today, date(2026, 3, 16), 4, [(DAY, tomorrow)])
    assert data["ahead"] == [{"date": "2026-03-17", "line": line.text(tomorrow, 4),
                              "currencies": line.as_json(tomorrow, DAY, 4)["currencies"]}]
    assert data["ahead"][0]["line"].startswith(f"USD {rate('USD', DAY).rate} BYN")


# The scale change of issue 9 (support.nbrb_data.uah_rescaled): UAH per 10 until Friday
# 2026-03-13, then per 100 at the same value per hryvnia.
THURSDAY = Rate("UAH", date(2026, 3, 12), 10, Decimal("0.6950"), "BYN", 9449)
FRIDAY = Rate("UAH", date(2026, 3, 13), 10, Decimal("0.7000"), "BYN", 9449)
SATURDAY = Rate("UAH", date(2026, 3, 14), 100, Decimal("7.0000"), "BYN", 449)


def test_a_new_scale_at_the_same_value_is_no_change():
    uah = Item(SATURDAY, FRIDAY)
    # 0.7000 per 10 is 7.0000 per 100: written as the current rate is, and no move.
    assert FRIDAY.rate * 100 / 10 == SATURDAY.rate
    assert str(uah.previous_rate) == "7.0000"
    assert (uah.change, uah.change_pct, uah.direction) == (0, 0, "none")
    assert line.item_text(uah) == "UAH 7.00 BYN"  # no mark
    entry = line.as_json([uah], SATURDAY.date)["currencies"][0]
    assert (entry["previous"], entry["change"], entry["change_pct"], entry["direction"]) == (
        {"date": "2026-03-13", "rate": "7.0000"}, "0.0000", "0.00", "none")


def test_across_the_scale_change_the_move_is_per_hryvnia():
    uah = Item(SATURDAY, THURSDAY)  # Thursday's 0.6950 per 10 is the previous distinct rate
    per_100 = THURSDAY.rate * 100 / 10
    assert str(uah.previous_rate) == f"{per_100:.4f}" == "6.9500"
    assert uah.change == SATURDAY.rate - per_100 == Decimal("0.05")
    assert uah.change_pct == half_up(100 * (SATURDAY.rate - per_100) / per_100) == Decimal("0.72")
    assert line.item_text(uah) == "UAH 7.00 BYN ▲"


def test_across_the_redenomination_the_earlier_rate_is_in_byn():
    # 11900.00 BYR per dollar on 2015-01-01 is 1.19 BYN: 10,000 BYR to the new rouble.
    usd = Item(rate("USD", "2024-01-10"), rate("USD", "2015-01-01"))
    assert (usd.previous.rate, usd.previous.unit) == (Decimal("11900.00"), "BYR")
    assert usd.previous_rate == Decimal("11900.00") / 10_000 == Decimal("1.19")
    assert usd.change == Decimal("3.1949") - Decimal("1.19") and usd.direction == "up"
    assert line.item_text(Item(rate("USD", "2015-01-01"), None)) == "USD 11900.00 BYR"


def test_without_an_earlier_rate_there_is_no_change():
    first = Item(rate("EUR", "2015-01-01"), None)
    assert (first.previous_rate, first.change, first.change_pct, first.direction) == (None, None, None, "none")
    entry = line.as_json([first], date(2015, 1, 1))["currencies"][0]
    assert (entry["previous"], entry["change"], entry["change_pct"], entry["direction"]) == (None, None, None, "none")


def test_bank_rates_beside_each_item_in_its_units():
    points = recorded_points()
    banks = {code: bank_rates(code, "Минск", "2026-03-17T09:00:00Z", rate(code, DAY), points) for code in CODES}
    items = [item(code, DAY) for code in CODES]
    shown = []
    for i in items:
        code = i.current.code
        buy, sell = best_in(points, "Минск", f"{code}_in"), best_in(points, "Минск", f"{code}_out")
        shown.append(f"{code} {half_up(i.current.rate)} BYN {mark(i.current, i.previous)}"
                     f" ({half_up(buy)}/{half_up(sell)})")
    assert line.text(items, 2, banks) == " · ".join(shown)
    entry = line.as_json(items, DAY, 2, banks=banks)["currencies"][1]
    assert entry["bank"] == {"city": "Минск", "as_of": "2026-03-17T09:00:00Z", "scale": 1,
                             "buy": str(best_in(points, "Минск", "USD_in")),
                             "sell": str(best_in(points, "Минск", "USD_out")), "buy_banks": ["belarusbank"],
                             "sell_banks": ["belarusbank"]}


def test_a_bank_rate_in_another_scale_is_shown_in_the_official_ones():
    points = recorded_points()
    rub = bank_rates("RUB", "Минск", "2026-03-17T09:00:00Z", rate("RUB", DAY), points)
    # The bank quoting per 1 rouble where NBRB quotes per 100: shown per 100, exactly.
    per_one = BankRates(rub.code, rub.city, rub.as_of,
                        BankBest("buy", rub.buy.rate / 100, 1, True, rub.buy.points, rub.buy.quoting), None, rub.official)
    assert line.in_scale(per_one.buy, 100) == rub.buy.rate == best_in(points, "Минск", "RUB_in")
    assert line.item_text(item("RUB", DAY), 4, per_one).endswith(f"({rub.buy.rate}/–)")  # no sell: a dash
    # A rate in old roubles gets no bank rates beside it: the bank's are in BYN.
    assert "(" not in line.item_text(Item(rate("RUB", "2015-01-01"), None), 2, per_one)
    assert line.as_json([item("RUB", DAY)], DAY, banks={})["currencies"][0]["bank"] is None
