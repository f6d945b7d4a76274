"""Stored rates out as CSV, JSON, NDJSON, beancount or ledger prices, streamed row by row.

Every format walks one database cursor and writes as it goes, so memory stays flat however long
the history. CSV and JSON carry each row as published (`rate` in `unit` per `scale`) beside
`byn_per_unit`, and its `periodicity` (1: a monthly rate, dated the day it was set); beancount and
ledger need one consistent commodity, so their prices are always BYN per one unit, old BYR and BYB
rows included (a monthly rate's price is dated the day it was set, which is how ledgers read it).
"""

import csv
import json
from decimal import Decimal

from ..model import per_unit
from ..store import reader

FIELDS = ("date", "code", "scale", "rate", "unit", "cur_id", "byn_per_unit", "periodicity")


def export(conn, out, format: str = "csv", codes=(), since=None, until=None) -> None:
    """Write the rows of `codes` (all when empty) from `since` to `until` to the text stream `out`."""
    FORMATS[format](_records(reader.history(conn, codes, since, until)), out)


def _records(rows):
    """Each stored row plus BYN per one unit, exact: dividing by powers of ten never rounds."""
    for day, code, scale, text, unit, cur_id, periodicity in rows:
        # Most rows are already BYN per one unit: their text is the answer, and skipping the
        # decimal arithmetic roughly halves the cost of a full export.
        byn = text if scale == 1 and unit == "BYN" else format(per_unit(Decimal(text), scale, unit), "f")
        yield day, code, scale, text, unit, cur_id, byn, periodicity


def _csv(records, out):
    writer = csv.writer(out)
    writer.writerow(FIELDS)
    writer.writerows(records)


def _ndjson(records, out):
    for record in records:
        out.write(json.dumps(dict(zip(FIELDS, record))) + "\n")


def _json(records, out):
    # One element at a time, never the whole list: a JSON array that still streams.
    separator = "[\n  "
    for record in records:
        out.write(separator + json.dumps(dict(zip(FIELDS, record))))
        separator = ",\n  "
    out.write("[]\n" if separator.startswith("[") else "\n]\n")


def _beancount(records, out):
    out.writelines(f"{r[0]} price {r[1]} {r[6]} BYN\n" for r in records)


def _ledger(records, out):
    out.writelines(f"P {r[0]} {r[1]} {r[6]} BYN\n" for r in records)


FORMATS = {"csv": _csv, "json": _json, "ndjson": _ndjson, "beancount": _beancount, "ledger": _ledger}
