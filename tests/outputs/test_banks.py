"""`ticker bank`'s answer (ticker/outputs/banks.py) on bank rates built in memory from the recorded
Belarusbank answer and the recorded official rates: no database, no HTTP. End to end, through the
real poll and the database: tests/test_cli_bank.py."""

import dataclasses
import json
import re
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from support.banks import best_in, recorded_points
from support.series import bank_rates, rate

from ticker.model import Rate
from ticker.outputs import banks

AS_OF = "2026-03-17T09:00:00Z"  # 12:00 in Minsk
DAY = date(2026, 3, 17)


def pct(rate_: Decimal, scale: int, official: Rate) -> str:
    """How far a bank rate per `scale` is from the official one, in percent, worked out here."""
    per_unit = official.rate / official.scale
    return f"{((rate_ / scale - per_unit) * 100 / per_unit).quantize(Decimal('0.01'), ROUND_HALF_UP):+}"


def rows(text: str) -> list[list[str]]:
    """The table's lines as cells (two spaces or more between them), header and footer left out."""
    return [re.split(r" {2,}", line.strip()) for line in text.splitlines()[2:-1]]


def at_best(city: str, key: str) -> list[dict]:
    best = best_in(recorded_points(), city, key)
    return [p for p in recorded_points() if p["name"] == city and Decimal(p[key]) == best]


def quoting(city: str, key: str) -> int:
    return sum(1 for p in recorded_points() if p["name"] == city and Decimal(p[key]))


def test_the_best_usd_rates_in_minsk_where_and_the_official_rate():
    official = rate("USD", DAY)
    usd = bank_rates("USD", "Минск", AS_OF, official, recorded_points())
    text = banks.table(usd)
    lines = text.splitlines()
    assert lines[0] == "USD in Минск: Belarusbank, as of 2026-03-17 12:00 Minsk time (BYN per 1 USD)"
    assert lines[1].split() == ["side", "rate", "vs", "NBRB", "points", "bank", "where"]
    buy, sell = best_in(recorded_points(), "Минск", "USD_in"), best_in(recorded_points(), "Минск", "USD_out")
    assert (buy, sell, official.rate) == (Decimal("2.0550"), Decimal("2.0680"), Decimal("2.9463"))
    for side, value, key in (("buy", buy, "USD_in"), ("sell", sell, "USD_out")):
        points = at_best("Минск", key)
        [line] = [n for n, line in enumerate(lines) if line.startswith(f"{side} ")]
        assert re.split(r" {2,}", lines[line])[:5] == [side, str(value), f"{pct(value, 1, official)} %",
                                                       f"{len(points)} of {quoting('Минск', key)}", "Belarusbank"]
        # Every point at the best rate, by address: "address: label, hours", one a line.
        shown = [re.split(r" {2,}", text_line.strip())[-1] for text_line in lines[line:line + len(points)]]
        addresses = sorted((f"{p['street_type']} {p['street']} {p['home_number']}", p["filials_text"]) for p in points)
        assert [s.split(", ")[0] for s in shown] == [f"{a}: {label}" for a, label in addresses]
    assert rows(text)[-1] == ["NBRB", "2.9463", "the official rate in force on 2026-03-17"]
    assert lines[-1] == ("buy: the bank buys USD from you (the highest rate is best); sell: it sells you USD"
                         " (the lowest is best).")
    assert pct(buy, 1, official) == "-30.25" and pct(sell, 1, official) == "-29.81"
    # The where column starts at one place on every line of it.
    starts = {line.index("пр. Дзержинского 18") for line in lines if "пр. Дзержинского 18" in line}
    assert len(starts) == 1 and "Scale unchecked" not in text


def test_many_points_at_the_best_rate_are_summed_up():
    official = rate("RUB", DAY)
    rub = bank_rates("RUB", "Минск", AS_OF, official, recorded_points())
    lines = banks.table(rub).splitlines()
    sell = best_in(recorded_points(), "Минск", "RUB_out")
    points, total = len(at_best("Минск", "RUB_out")), quoting("Минск", "RUB_out")
    assert (sell, points, total) == (Decimal("3.2400"), 13, 165)
    n = next(k for k, line in enumerate(lines) if line.startswith("sell"))
    assert lines[n].startswith(f"sell  {sell}  {pct(sell, 100, official)} %  {points} of {total}  ")
    assert pct(sell, 100, official) == "-11.74"
    # The first SHOWN points, then how many more.
    assert [bool(line[:5].strip()) for line in lines[n:n + banks.SHOWN + 1]] == [True] + [False] * banks.SHOWN
    assert lines[n + banks.SHOWN].strip() == f"and {points - banks.SHOWN} more (--json lists them all)"
    assert lines[0].endswith("(BYN per 100 RUB)")


def test_without_the_official_rate_there_is_no_comparison_and_the_scale_is_unchecked():
    usd = bank_rates("USD", "Минск", "2019-09-29T17:00:00Z", None, recorded_points())
    lines = banks.table(usd).splitlines()
    assert lines[2].startswith("buy   2.0550  n/a")
    assert " ".join(lines[-3].split()) == ("NBRB none no official USD rate for 2019-09-29 in the database; run"
                                           " `ticker fetch --date 2019-09-29`")
    assert lines[-1] == "Scale unchecked: there was no official rate in the database to check it against."
    data = json.loads(banks.as_json(usd))
    assert data["official"] is None and data["buy"]["vs_official_pct"] is None and data["buy"]["checked"] is False


def test_an_official_rate_in_another_scale_says_its_scale():
    # UAH per 10 on Friday 2026-03-13 (support.nbrb_data.uah_rescaled) while the bank quotes per 100.
    friday = Rate("UAH", date(2026, 3, 13), 10, Decimal("0.7000"), "BYN", 9449)
    uah = bank_rates("UAH", "Минск", "2026-03-13T09:00:00Z", friday, recorded_points())
    assert uah.buy.scale == 100
    text = banks.table(uah)
    assert rows(text)[-1] == ["NBRB", "0.7000", "the official rate in force on 2026-03-13, per 10 UAH"]
    buy = best_in(recorded_points(), "Минск", "UAH_in")
    assert rows(text)[0][:3] == ["buy", str(buy), f"{pct(buy, 100, friday)} %"]  # compared per hryvnia


def test_a_side_no_point_quotes_says_so():
    usd = bank_rates("USD", "Минск", AS_OF, rate("USD", DAY), recorded_points())
    lines = banks.table(dataclasses.replace(usd, sell=None)).splitlines()
    sell = next(line for line in lines if line.startswith("sell"))
    assert re.split(r" {2,}", sell) == ["sell", "none", "no point in Минск sells USD"]
    assert json.loads(banks.as_json(dataclasses.replace(usd, sell=None)))["sell"] is None


def test_json_has_every_point_at_the_best_rates_exactly():
    official = rate("RUB", DAY)
    rub = bank_rates("RUB", "Минск", AS_OF, official, recorded_points())
    text = banks.as_json(rub)
    assert "Минск" in text  # UTF-8, not \u escapes
    data = json.loads(text)
    assert (data["code"], data["city"], data["unit"], data["as_of"]) == ("RUB", "Минск", "BYN", AS_OF)
    assert data["official"] == {"date": "2026-03-17", "rate": "3.6709", "scale": 100, "cur_id": 456}
    for side, key in (("buy", "RUB_in"), ("sell", "RUB_out")):
        best = best_in(recorded_points(), "Минск", key)
        assert {k: data[side][k] for k in ("rate", "scale", "vs_official_pct", "checked", "quoting")} == {
            "rate": str(best), "scale": 100, "vs_official_pct": pct(best, 100, official), "checked": True,
            "quoting": quoting("Минск", key)}
        assert sorted(p["point_id"] for p in data[side]["points"]) == sorted(p["filial_id"] for p in at_best("Минск", key))
    assert len(data["sell"]["points"]) == 13  # every one, where the table shows three
    point = next(p for p in data["buy"]["points"] if p["point_id"] == "1433")
    assert point == {"bank": "belarusbank", "point_id": "1433", "label": "Головной офис 795",
                     "address": "пр. Дзержинского 18", "hours": "Пн-Пт 09:00-19:00", "effective_at": None,
                     "since": AS_OF}


def test_how_far_from_the_official_rate_is_exact():
    official = rate("RUB", DAY)
    rub = bank_rates("RUB", "Минск", AS_OF, official, recorded_points())
    # 3.2100 per 100 against 3.6709 per 100: exactly (0.032100 - 0.036709) * 100 / 0.036709 percent.
    assert rub.vs_official(rub.buy) == (Decimal("0.032100") - Decimal("0.036709")) * 100 / Decimal("0.036709")
    assert rub.vs_official(None) is None and dataclasses.replace(rub, official=None).vs_official(rub.buy) is None
