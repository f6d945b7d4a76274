"""The pieces of ticker/serve on their own: Frankfurter's rounding on exact decimals, the next
publication moment, and the in-process answer cache's bound (memory stays flat)."""

import asyncio
from datetime import datetime
from decimal import Decimal

import pytest

from ticker import config as configuration
from ticker import days
from ticker.serve import caching
from ticker.serve.frankfurter import frankfurter_round


@pytest.mark.parametrize("value, rounded", [
    ("5000.5", 5001), ("12345.678", 12346),  # above 5000: whole (an integer in JSON)
    ("91.3742", 91.37), ("80.005", 80.01),  # above 80: 2 decimals, half up on the exact value
    ("20.0005", 20.001), ("3.19485", 3.1949), ("0.913742", 0.91374), ("0.00012345", 0.00012),
    ("0.0001", 0.0001), ("0.0000123456", 0.000012),  # 0.0001 and below: 6 decimals
])
def test_frankfurter_rounding(value, rounded):
    got = frankfurter_round(Decimal(value))
    assert got == rounded and type(got) is type(rounded)


def at(stamp: str) -> float:
    return datetime.fromisoformat(stamp).replace(tzinfo=days.minsk()).timestamp()


@pytest.mark.parametrize("now, then", [
    ("2026-03-17 10:00", "2026-03-17 12:00"),  # Tuesday morning: the first poll
    ("2026-03-17 12:00", "2026-03-17 12:20"),  # at a poll: the next one
    ("2026-03-17 16:41", "2026-03-18 00:00"),  # after the last poll: midnight
    ("2026-03-21 16:50", "2026-03-22 00:00"),  # Saturday evening
    ("2026-03-22 09:00", "2026-03-23 00:00"),  # Sunday: no poll that day
])
def test_the_next_publication_moment_is_the_next_poll_or_midnight(now, then):
    publication = caching.Publication(configuration.load(None))  # NBRB's own poll: "*/20 12-16 * * mon-sat"
    assert publication.next(at(now)) == at(then)


def test_the_answer_cache_is_bounded_in_bytes():
    async def app(scope, receive, send):
        body = b"x" * 1000
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"cache-control", b"public, max-age=60"), (caching.MARK, b"1"),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    cache = caching.HTTPCache(app, lambda: "v1", max_bytes=50_000)
    sent = []

    async def send(message):
        sent.append(message)

    async def ask(n):
        scope = {"type": "http", "method": "GET", "path": "/v1/latest", "query_string": f"n={n}".encode(), "headers": []}
        await cache(scope, None, send)

    async def many():
        for n in range(1000):
            await ask(n)
        await ask(999)  # the newest is still kept: replayed with an Age header

    asyncio.run(many())
    assert cache.size <= 50_000 and len(cache.entries) == 50
    assert any(name == b"age" for name, _ in sent[-2]["headers"])
    assert all(name != caching.MARK for message in sent if message["type"] == "http.response.start"
               for name, _ in message["headers"])
