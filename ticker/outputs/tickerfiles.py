"""The ticker files for web pages: `ticker.json` (what `ticker line --json` prints) and `ticker.txt`
(the header line), each replaced atomically so a web server never serves half a file."""

import json
from datetime import date
from pathlib import Path

from ..store import reader
from .. import files
from . import line

NAMES = ("ticker.json", "ticker.txt")


def render(conn, codes, day: date, precision: int, bank_city: str | None = None) -> dict[str, str]:
    """The contents of both files, keyed by name; NoData when a rate is missing (nothing to write).

    With `bank_city`, each currency also has the best bank buy and sell rates of that city as the
    last answer seen on `day` had them ([banks] show = "ticker").
    """
    found = line.items(conn, codes, day)
    # The days already published after `day`, for the currencies of the line that have them.
    upcoming = [(later, line.items(conn, codes, later, stored_only=True)) for later in line.ahead(conn, day)]
    banks = reader.bank_on_day(conn, codes, bank_city, day) if bank_city else None
    return {
        "ticker.json": json.dumps(line.as_json(found, day, precision, upcoming, banks), indent=2,
                                  ensure_ascii=False) + "\n",
        "ticker.txt": line.text(found, precision, banks) + "\n",
    }


def save(folder: Path, contents: dict[str, str]) -> None:
    for name, text in contents.items():
        files.write_text(Path(folder) / name, text)

