"""Stored rates out as CSV, spreadsheet CSV, JSON, NDJSON, beancount or ledger prices, streamed row by row.

Every format walks one database cursor and writes as it goes, so memory stays flat however long
the history. CSV and JSON carry each row as published (`rate` in `unit` per `scale`) beside
`byn_per_unit`, and its `periodicity` (1: a monthly rate, dated the day it was set); beancount and
ledger need one consistent commodity, so their prices are always BYN per one unit, old BYR and BYB
rows included (a monthly rate's price is dated the day it was set, which is how ledgers read it).
"""

import csv
import json
import re
from decimal import Decimal, InvalidOperation

from ..errors import DatabaseError
from ..model import per_unit
from ..store import reader
from . import hints

NUMBER = re.compile(r"[0-9]+(\.[0-9]+)?")

FIELDS = ("date", "code", "scale", "rate", "unit", "cur_id", "byn_per_unit", "periodicity")


def export(conn, out, format: str = "csv", codes=(), since=None, until=None) -> None:
    """Write the rows of `codes` (all when empty) from `since` to `until` to the text stream `out`.

    A stored value that is not a number raises DatabaseError naming its row (what was written to
    `out` before it is incomplete: write through `atomic.replacing`).
    """
    hints.known(conn, codes)  # before the first byte: an unknown code is one line, no file
    FORMATS[format](_records(reader.history(conn, codes, since, until)), out)


def nothing(conn, codes=(), since=None, until=None) -> str | None:
    """What to tell a person whose selection matched no row (the export is then a bare header or
    `[]`); None when it matched some."""
    if reader.stored(conn, codes, since, until):
        return None
    first, last = reader.extent(conn)
    if first is None:
        return "Nothing to export: the database is empty"
    which = f" of {', '.join(codes)}" if codes else ""
    span = {(True, True): f" from {since} to {until}", (True, False): f" from {since} on",
            (False, True): f" up to {until}", (False, False): ""}[bool(since), bool(until)]
    # The range of what was asked for: each currency's own, and why one has no later day.
    has = "; ".join(f"{code} from {a} to {b}" + (f" ({gone})" if (gone := since and hints.ended(conn, code, since))
                                                   else "")
                    for code in codes for a, b in [reader.stored_range(conn, code)]) or f"{first} to {last}"
    return f"Nothing to export: no rates{which}{span} in the database (it has {has})"


def _records(rows):
    """Each stored row plus BYN per one unit, exact: dividing by powers of ten never rounds."""
    for day, code, scale, text, unit, cur_id, periodicity in rows:
        # Most rows are already BYN per one unit: their text is the answer, and skipping the
        # decimal arithmetic roughly halves the cost of a full export.
        try:
            if scale == 1 and unit == "BYN" and NUMBER.fullmatch(text):
                byn = text
            else:
                byn = format(per_unit(Decimal(text), scale, unit), "f")
        except (InvalidOperation, KeyError, TypeError, ZeroDivisionError):
            raise DatabaseError(f"the rates row {code} {day} cannot be read: rate_text {text!r}, "
                                f"scale {scale!r}, unit {unit!r}") from None
        yield day, code, scale, text, unit, cur_id, byn, periodicity


def _csv(records, out, fields=FIELDS):
    writer = csv.writer(out)
    writer.writerow(fields)
    writer.writerows(records)


def _ndjson(records, out, fields=FIELDS):
    for record in records:
        out.write(json.dumps(dict(zip(fields, record)), ensure_ascii=False) + "\n")


def _json(records, out, fields=FIELDS):
    # One element at a time, never the whole list: a JSON array that still streams.
    separator = "[\n  "
    for record in records:
        out.write(separator + json.dumps(dict(zip(fields, record)), ensure_ascii=False))
        separator = ",\n  "
    out.write("[]\n" if separator.startswith("[") else "\n]\n")


def _beancount(records, out):
    out.writelines(f"{r[0]} price {r[1]} {r[6]} BYN\n" for r in records)


# ledger and hledger otherwise take BYN's display style from the prices' many decimals (ledger
# 3.3 shows `BYN319`): two decimals, the code after the number, as money in BYN is written.
LEDGER_COMMODITY = "commodity BYN\n    format 1,000.00 BYN\n\n"


def _ledger(records, out):
    out.write(LEDGER_COMMODITY)
    out.writelines(f"P {r[0]} {r[1]} {r[6]} BYN\n" for r in records)


def spreadsheet(out):
    """A csv writer for a spreadsheet in a Russian or Belarusian locale, as Excel writes CSV there:
    a UTF-8 byte-order mark (else the names read as mojibake), semicolons between fields (the comma
    is the decimal mark); write decimals with `decimal_comma`."""
    out.write("\ufeff")
    return csv.writer(out, delimiter=";")


def decimal_comma(text: str | None) -> str | None:
    return None if text is None else text.replace(".", ",")


def _spreadsheet(records, out):
    writer = spreadsheet(out)
    writer.writerow(FIELDS)
    writer.writerows((d, c, s, decimal_comma(t), u, i, decimal_comma(b), p) for d, c, s, t, u, i, b, p in records)


FORMATS = {"csv": _csv, "spreadsheet": _spreadsheet, "json": _json, "ndjson": _ndjson, "beancount": _beancount,
           "ledger": _ledger}


# -- bank rates (`ticker export --bank`) ----------------------------------------------------------

BANK_FIELDS = ("date", "city", "code", "scale", "buy", "sell", "buy_byn_per_unit", "sell_byn_per_unit", "buy_bank",
               "sell_bank")
BANK_FORMATS = ("csv", "spreadsheet", "json", "ndjson")  # ledgers take one price a day: the official rate


def export_bank(conn, out, format: str = "csv", cities=(), codes=(), since=None, until=None) -> None:
    """Write the best bank buy and sell rates of each city (all when `cities` is empty), currency
    and day, as the day's last answer had them, to the text stream `out`: rows of BANK_FIELDS,
    ordered by city, day and currency, `buy` and `sell` as published per `scale` units (empty for
    a side no point of the city quoted), and each per ONE unit, exact; `buy_bank` and `sell_bank` the
    source ids of the banks offering each best rate (comma-separated when several do), the best across
    every bank's points in the city."""
    writer = {"csv": _csv, "spreadsheet": _bank_spreadsheet, "json": _json, "ndjson": _ndjson}[format]
    # The cities are checked before the first byte is written: an unknown one is one line, no file.
    if cities:
        hints.banks(conn)
    writer(_bank_records(conn, [reader.bank_city(conn, c) for c in cities], codes, since, until), out, BANK_FIELDS)


def _bank_records(conn, cities, codes, since, until):
    extent = reader.bank_extent(conn)
    if extent is None:
        return
    first, last = max(since or extent[0], extent[0]), min(until or extent[1], extent[1])
    if first > last:
        return
    for city in cities or reader.bank_city_names(conn):
        found = reader.bank_days(conn, city, first, last)
        for n, day in enumerate(next(iter(found.values())).days if found else []):
            for code in sorted(found):
                series = found[code]
                buy, sell = series.buy[n], series.sell[n]
                if (codes and code not in codes) or (buy is None and sell is None):
                    continue
                yield (day.isoformat(), city, code, series.scale, _text(buy), _text(sell),
                       _per_unit(buy, series.scale), _per_unit(sell, series.scale),
                       ",".join(series.buy_banks[n]) or None, ",".join(series.sell_banks[n]) or None)


def _text(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")


def _per_unit(value: Decimal | None, scale: int) -> str | None:
    """As `byn_per_unit` of the official rates: the text itself per 1 unit, else exactly divided out."""
    if value is None or scale == 1:
        return _text(value)
    return format((value / scale).normalize(), "f")  # exact: scales are powers of ten


def _bank_spreadsheet(records, out, fields):
    writer = spreadsheet(out)
    writer.writerow(fields)
    writer.writerows(record[:4] + tuple(decimal_comma(v) for v in record[4:8]) + record[8:] for record in records)


def nothing_bank(conn, cities=(), codes=(), since=None, until=None) -> str | None:
    """What to tell a person whose bank selection matched no row; None when it matched some."""
    for _ in _bank_records(conn, [reader.bank_city(conn, c) for c in cities], codes, since, until):
        return None
    extent = reader.bank_extent(conn)
    if extent is None:
        return "Nothing to export: no bank rates in the database; run `ticker bank-fetch`"
    which = "".join(f" of {', '.join(items)}" for items in (codes,) if items) + (
        f" in {', '.join(cities)}" if cities else "")
    return f"Nothing to export: no bank rates{which} from {since or extent[0]} to {until or extent[1]} in the" \
           f" database (it has {extent[0]} to {extent[1]})"
