"""The day's table (ticker/outputs/table.py) on rows built in memory from the recorded rates: no
database, no HTTP. `ticker table` end to end: tests/test_cli.py (monthly rates) and
tests/test_latest.py (the scale change seen on a Sunday)."""

import csv
import io
import json
import re
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from support.series import monthly, name, rate, row, table

from ticker.model import Rate
from ticker.outputs import table as tables
from ticker.outputs.table import Row, Table

DAY = date(2026, 3, 17)
CODES = ["USD", "RUB", "KZT", "EUR"]


def pct(change: Decimal, before: Decimal) -> Decimal:
    return (100 * change / before).quantize(Decimal("0.01"), ROUND_HALF_UP)


def cells(text: str, code: str) -> list[str]:
    """The cells of `code`'s line in the text table: two spaces or more between cells."""
    [found] = [line for line in text.splitlines() if re.search(rf"^ *\d+ {code}\b", line)]
    return re.split(r" {2,}", found.strip())


def with_krw(day: date) -> Table:
    """The table of `day` with KRW's made-up monthly rate set on 2026-03-01, in force that day and the day before."""
    krw = monthly("KRW", "2026-03-01")
    plain = table(day, CODES)
    return Table(day, plain.rows + [Row(krw, krw, name(krw.cur_id))], plain.ahead)


def test_each_row_has_the_scale_the_rate_and_the_change_against_the_day_before():
    text = tables.text(table(DAY, CODES))
    assert text.splitlines()[0] == "Official NBRB rates in force on 2026-03-17 (Tuesday), change against 2026-03-16"
    for code in CODES:
        today, before = rate(code, DAY), rate(code, "2026-03-16")
        change = today.rate - before.rate
        arrow = "▲" if change > 0 else "▼"
        assert cells(text, code) == [f"{today.scale} {code}", name(today.cur_id), f"{today.rate} BYN",
                                     f"{arrow} {change:+f}", f"{pct(change, before.rate):+}%"]
    assert cells(text, "RUB")[:3] == ["100 RUB", "Russian Ruble", "3.6709 BYN"]
    # In code order, under one header.
    lines = text.splitlines()
    assert lines[2].split() == ["currency", "name", "rate", "change", "%"]
    assert [line.split()[1] for line in lines[3:]] == sorted(CODES)


def test_a_new_scale_at_the_same_value_is_no_change():
    friday = Rate("UAH", date(2026, 3, 13), 10, Decimal("0.7000"), "BYN", 9449)
    saturday = Rate("UAH", date(2026, 3, 14), 100, Decimal("7.0000"), "BYN", 449)
    uah = Table(saturday.date, [Row(saturday, friday, "Ukrainian Hryvnia")], [])
    # 0.7000 per 10 is 7.0000 per 100.
    assert friday.rate * 10 == saturday.rate
    assert cells(tables.text(uah), "UAH") == ["100 UAH", "Ukrainian Hryvnia", "7.0000 BYN", "+0.0000", "+0.00%"]
    [entry] = tables.as_json(uah)["currencies"]
    assert (entry["scale"], entry["rate"], entry["previous_rate"], entry["change"], entry["change_pct"],
            entry["direction"]) == (100, "7.0000", "7.0000", "0.0000", "0.00", "none")


def test_a_monthly_rate_says_so_and_the_day_it_was_set():
    text = tables.text(with_krw(DAY))
    krw = monthly("KRW", "2026-03-01")
    # Set on the 1st, in force all month: against the day before, no change.
    assert cells(text, "KRW") == ["1000 KRW", name(krw.cur_id), f"{krw.rate} BYN", "+0.0000", "+0.00%",
                                  "set monthly on 2026-03-01"]
    assert krw.rate == Decimal("2.1367")
    marked = [line for line in text.splitlines() if "set monthly" in line]
    assert len(marked) == 1 and " KRW " in marked[0]  # no daily rate is marked
    assert (Row(krw, None).set_monthly, row("USD", DAY).set_monthly) == ("set monthly on 2026-03-01", "")
    entries = {e["code"]: e for e in tables.as_json(with_krw(DAY))["currencies"]}
    assert (entries["KRW"]["periodicity"], entries["KRW"]["set_on"]) == (1, "2026-03-01")
    assert (entries["USD"]["periodicity"], entries["USD"]["set_on"]) == (0, "2026-03-17")


def test_without_names_the_name_column_goes():
    rows = [Row(r.current, r.previous) for r in table(DAY, CODES).rows]
    text = tables.text(Table(DAY, rows, []))
    assert text.splitlines()[2].split() == ["currency", "rate", "change", "%"]
    usd, before = rate("USD", DAY), rate("USD", "2026-03-16")
    assert cells(text, "USD")[:2] == ["1 USD", f"{usd.rate} BYN"]
    assert Decimal(cells(text, "USD")[2].split()[1]) == usd.rate - before.rate


def test_a_day_not_stored_before_leaves_the_change_empty():
    first = Table(date(2015, 1, 1), [row("USD", "2015-01-01")], [])
    assert cells(tables.text(first), "USD") == ["1 USD", "US Dollar", "11900.00 BYR"]
    [entry] = tables.as_json(first)["currencies"]
    assert (entry["unit"], entry["previous_rate"], entry["change"], entry["change_pct"], entry["direction"]) == (
        "BYR", None, None, None, "none")


def test_the_days_published_ahead_are_named_with_the_command_that_shows_them():
    ahead = table("2026-03-16", CODES, ahead=[DAY])
    text = tables.text(ahead)
    assert text.endswith("\n\nPublished ahead: 2026-03-17 (`ticker table --date 2026-03-17`)\n")
    assert "Published ahead" not in tables.text(table(DAY, CODES))
    assert tables.as_json(ahead)["ahead"] == ["2026-03-17"]


def test_json_has_every_field_exact():
    data = json.loads(json.dumps(tables.as_json(with_krw(DAY))))
    assert (data["date"], data["previous_date"], data["ahead"]) == ("2026-03-17", "2026-03-16", [])
    assert [e["code"] for e in data["currencies"]] == sorted(CODES) + ["KRW"]
    rub = next(e for e in data["currencies"] if e["code"] == "RUB")
    today, before = rate("RUB", DAY), rate("RUB", "2026-03-16")
    change = today.rate - before.rate
    assert rub == {"code": "RUB", "name": "Russian Ruble", "scale": 100, "rate": "3.6709", "unit": "BYN",
                   "cur_id": 456, "previous_rate": str(before.rate), "change": str(change),
                   "change_pct": str(pct(change, before.rate)), "direction": "up" if change > 0 else "down",
                   "periodicity": 0, "set_on": "2026-03-17"}


def test_csv_has_the_json_fields_as_published():
    out = io.StringIO(newline="")
    tables.write_csv(with_krw(DAY), out)
    rows = list(csv.DictReader(io.StringIO(out.getvalue(), newline="")))
    assert list(rows[0]) == list(tables.FIELDS)
    data = tables.as_json(with_krw(DAY))
    assert [r["code"] for r in rows] == [e["code"] for e in data["currencies"]]
    for record, entry in zip(rows, data["currencies"]):
        assert record["date"] == "2026-03-17"
        assert {k: record[k] for k in entry} == {k: "" if v is None else str(v) for k, v in entry.items()}


def test_the_spreadsheet_csv_has_a_bom_semicolons_and_decimal_commas():
    out = io.StringIO(newline="")
    tables.write_csv(with_krw(DAY), out, spreadsheet=True)
    text = out.getvalue()
    assert text.startswith("\ufeffdate;code;name;scale;rate;unit;cur_id;previous_rate;change;change_pct;direction;"
                           "periodicity;set_on\r\n")
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""), delimiter=";"))
    rub = dict(zip(rows[0], next(r for r in rows if r[1] == "RUB")))
    today, before = rate("RUB", DAY), rate("RUB", "2026-03-16")
    change = today.rate - before.rate
    # The decimals written with a comma, the dates and whole numbers as they are.
    assert rub == {"date": "2026-03-17", "code": "RUB", "name": "Russian Ruble", "scale": "100", "rate": "3,6709",
                   "unit": "BYN", "cur_id": "456", "previous_rate": str(before.rate).replace(".", ","),
                   "change": str(change).replace(".", ","), "change_pct": str(pct(change, before.rate)).replace(".", ","),
                   "direction": "up" if change > 0 else "down", "periodicity": "0", "set_on": "2026-03-17"}
    assert all("." not in value for r in rows[1:] for value in r)
