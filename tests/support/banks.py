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


def shifted(points: list[dict], city: str, delta: str, keys=("USD_in", "USD_out")) -> list[dict]:
    """A copy of the answer in which every point of `city` quotes `delta` more for each non-zero `keys`
    (4 decimals, as the bank writes them)."""
    moved = copy.deepcopy(points)
    for point in moved:
        if point["name"] == city:
            for key in keys:
                if Decimal(point[key]):
                    point[key] = str(Decimal(point[key]) + Decimal(delta))
    return moved


def best_in(points: list[dict], city: str, key: str) -> Decimal | None:
    """The best value of `key` in `city`, computed from the answer: the highest `_in` (the bank buys),
    the lowest `_out` (it sells); None when no point there quotes it."""
    values = [Decimal(p[key]) for p in points if p["name"] == city and Decimal(p[key])]
    if not values:
        return None
    return max(values) if key.endswith("_in") else min(values)


# A fortnight of answers for the outputs' tests, (Minsk time, the answer): the recording, a day
# without any, two answers on the 12th (rates up by 0.01 then 0.02 in Minsk), days without any, and
# on the 17th the recording again, then the head office selling USD cheaper.
def history() -> list[tuple[str, list[dict]]]:
    recorded = recorded_points()
    cheaper = copy.deepcopy(recorded)
    next(p for p in cheaper if p["filial_id"] == "1433")["USD_out"] = "2.0600"
    return [("2026-03-10 12:00", recorded), ("2026-03-12 10:00", shifted(recorded, "Минск", "0.0100")),
            ("2026-03-12 16:00", shifted(recorded, "Минск", "0.0200")), ("2026-03-17 09:00", recorded),
            ("2026-03-17 12:00", cheaper)]


def poll_history(config, server: FakeNBRB, answers=None) -> None:
    """Poll each of `answers` (default `history()`) from `server` at its Minsk time."""
    from ticker.sync import banks as bank_sync

    from . import minsk

    for at, points in answers or history():
        answer(server, points)
        with minsk(at):
            bank_sync.poll(config)
