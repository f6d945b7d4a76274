"""The recorded Belarusbank answer in shared/banks/samples/ (read in place, never copied), the variants
the tests build from it, and a real local server answering `GET /api/kursExchange` with them.

The recording (BB19) is the whole country on 2019-09-29: 542 points in 174 localities, every value
a string, UAH still quoted, no CNY crosses and no `kurs_date_time` (see shared/banks/FACTS.md).
"""

import copy
import json
from decimal import Decimal

from .nbrb_data import shared_dir
from .nbrb_server import JSON, FakeNBRB

PATH = "/api/kursExchange"
RECORDING = "belarusbank_kursExchange_2019-09-29.json"


def recorded_body() -> bytes:
    """The recorded answer, byte for byte."""
    return (shared_dir() / "banks" / "samples" / RECORDING).read_bytes()


def recorded_points() -> list[dict]:
    """The recorded answer parsed (a fresh copy each call: tests change it)."""
    return json.loads(recorded_body())


def body(points: list[dict]) -> bytes:
    """An answer as the live service sends it: compact JSON, Cyrillic as UTF-8, slashes escaped."""
    return json.dumps(points, ensure_ascii=False, separators=(",", ":")).replace("/", "\\/").encode()


def like_2026(points: list[dict], effective_at: str = "2026-03-17 09:30:00") -> list[dict]:
    """The recording reshaped like the 2026 feed (FACTS §1.3): UAH gone, the CNY crosses added after
    the other crosses (CNY_USD quoted where CNY is, with the values of the 2023 fragment, CNY_EUR
    and CNY_RUB zero), and `kurs_date_time` on every point."""
    reshaped = []
    for point in copy.deepcopy(points):
        row = {}
        for key, value in point.items():
            if key.startswith("UAH_"):
                continue
            row[key] = value
            if key == "RUB_EUR_out":
                trades_cny = Decimal(point["CNY_in"]) != 0
                row.update({"CNY_EUR_in": "0.0000", "CNY_EUR_out": "0.0000",
                            "CNY_USD_in": "0.1370" if trades_cny else "0.0000",
                            "CNY_USD_out": "7.0800" if trades_cny else "0.0000",
                            "CNY_RUB_in": "0.0000", "CNY_RUB_out": "0.0000"})
        row["kurs_date_time"] = effective_at
        reshaped.append(row)
    return reshaped


def rate_keys(point: dict) -> list[str]:
    return [k for k in point if k.endswith(("_in", "_out"))]


def nonzero(point: dict) -> dict[str, Decimal]:
    """The rates a point quotes: every `_in`/`_out` value that is not zero."""
    return {k: Decimal(point[k]) for k in rate_keys(point) if Decimal(point[k]) != 0}


def bank_server(points: list[dict] | None = None) -> FakeNBRB:
    """A real local HTTP server (not started) answering GET /api/kursExchange with the recording, or `points`.

    `answer(server, ...)` changes what it says next.
    """
    server = FakeNBRB()
    if points is None:
        server.set_verbatim(PATH, {}, recorded_body())
    else:
        answer(server, points)
    return server


def answer(server: FakeNBRB, points: list[dict] | bytes, content_type: str = JSON, status: int = 200) -> None:
    """What the server answers from now on: points (as the live service writes them) or raw bytes."""
    server.set_verbatim(PATH, {}, points if isinstance(points, bytes) else body(points), status, content_type)


def bank_section(server: FakeNBRB, **keys) -> dict[str, str]:
    """A [belarusbank] config section pointing at the local server, enabled, with fast retries."""
    return {"enabled": "true", "base_url": f'"{server.url}"', "timeout": "2", "retries": "1", "backoff": "0.02",
            **keys}
