"""Caching that a browser, a CDN and the server itself can keep: Cache-Control by what an answer is
about, ETags, Last-Modified and 304s, and an in-process cache of whole answers in front of the app.

When answers change:
- An answer about "latest" (today's rates, an open-ended range, a day not yet published, or any
  day answered with an earlier one) is good until the next moment NBRB's next rates can arrive or
  the day turns: the next run of `[schedule] poll` (NBRB publishes the next day's rates after its
  morning session; the daemon polls for them then) or the next midnight in Minsk, whichever is
  first. A revision of today's rates is also only seen by a poll or a catch-up.
- An answer about days before today changes only if NBRB revises them: a week, and revalidation.
- Errors are never stored (`no-store`), as Frankfurter does; nor are /api/status and /metrics.
Every answer kept also says `stale-if-error`, so a CDN keeps serving while the server is down.
"""

import hashlib
import time
from collections import OrderedDict
from datetime import date, datetime, timedelta
from email.utils import formatdate, parsedate_to_datetime

LONG = 7 * 86400  # seconds a past day's answer is fresh: it changes only if NBRB revises it
STALE_IF_ERROR = 86400
NO_STORE = "no-store"
# Marks a response the in-process cache may keep; HTTPCache removes it before anything is sent.
MARK = b"x-ticker-cache"


class Publication:
    """The next moment the answers about "latest" can change: the daemon's next poll (the trigger
    it runs on, service.schedule) or the next midnight in Minsk, whichever is first; recomputed
    when passed."""

    def __init__(self, config):
        from ..service import schedule

        self.trigger = schedule.triggers(config)["poll"]
        self.until = 0.0

    def next(self, now: float | None = None) -> float:
        """The epoch seconds of that moment, after `now` (default: the wall clock)."""
        now = time.time() if now is None else now
        if now >= self.until:
            from .. import days

            moment = datetime.fromtimestamp(now, days.minsk())
            midnight = datetime.combine(moment.date() + timedelta(days=1), datetime.min.time(), days.minsk())
            # The trigger's next run may be `moment` itself: the one after it is what can change an answer.
            poll = self.trigger.get_next_fire_time(None, moment + timedelta(seconds=1))
            self.until = min(midnight, poll).timestamp() if poll else midnight.timestamp()
        return self.until


def live(publication: Publication) -> str:
    """Cache-Control for an answer about "latest": fresh until the next publication moment."""
    seconds = max(1, int(publication.next() - time.time()))
    return f"public, max-age={seconds}, stale-if-error={STALE_IF_ERROR}"


def past() -> str:
    """Cache-Control for an answer about days before today."""
    return f"public, max-age={LONG}, stale-while-revalidate=86400, stale-if-error={STALE_IF_ERROR}"


def for_days(publication: Publication, asked: date | None, answered: date | None, today: date) -> str:
    """Cache-Control for an answer about day `asked` (None: latest) that has `answered`'s rates:
    live when it is today's or later, or answered with another day's (not stored yet), else past."""
    if asked is None or answered is None or asked >= today or answered != asked:
        return live(publication)
    return past()


def etag(body: bytes) -> str:
    """A strong ETag: a hash of the bytes sent (a gzipped body has its own)."""
    return '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'


def weak_etag(*parts) -> str:
    """A weak ETag for an answer streamed before its bytes are known: a hash of what it is made of
    (the request and the data's stamp)."""
    return 'W/"' + hashlib.blake2b(repr(parts).encode(), digest_size=12).hexdigest() + '"'


def http_date(stamp: str | None) -> str | None:
    """A database stamp (2026-03-17T12:51:00Z) as an HTTP date, for Last-Modified."""
    if not stamp:
        return None
    from ..days import parse_stamp

    return formatdate(parse_stamp(stamp).timestamp(), usegmt=True)


def matches(if_none_match: str | None, tag: str | None) -> bool:
    """If-None-Match against an ETag, compared weakly (RFC 9110 13.1.2)."""
    if not if_none_match or not tag:
        return False
    if if_none_match.strip() == "*":
        return True
    bare = tag.removeprefix("W/")
    return any(t.strip().removeprefix("W/") == bare for t in if_none_match.split(","))


def not_modified(if_none_match: str | None, if_modified_since: str | None, tag: str | None,
                 last_modified: str | None) -> bool:
    """Whether a 304 answers the request: If-None-Match decides when given, else If-Modified-Since."""
    if if_none_match:
        return matches(if_none_match, tag)
    if if_modified_since and last_modified:
        try:
            return parsedate_to_datetime(if_modified_since) >= parsedate_to_datetime(last_modified)
        except (TypeError, ValueError):
            return False
    return False


# Headers a 304 carries (RFC 9110 15.4.5), and the CORS header that lets a page read it.
KEPT_ON_304 = (b"cache-control", b"etag", b"expires", b"vary", b"last-modified", b"age",
               b"access-control-allow-origin")


class Entry:
    __slots__ = ("version", "expires", "stored", "status", "headers", "body", "etag", "last_modified")

    def __init__(self, version, expires, headers, body, tag, last_modified):
        self.version, self.expires, self.stored = version, expires, time.time()
        self.headers, self.body, self.etag, self.last_modified = headers, body, tag, last_modified


class HTTPCache:
    """A shared HTTP cache in front of the app, as a CDN keeps one: whole GET answers the app marks
    as cacheable, each kept while its Cache-Control says it is fresh and the data it was made from
    is unchanged (`version()`: the database's stamp and Minsk's day, checked on every request), and
    replayed with an `Age` header. It answers conditional requests (If-None-Match, If-Modified-Since)
    with 304 for every answer with an ETag or a Last-Modified, cached or not, and gives each
    cacheable answer a strong ETag of its bytes.

    Keyed by path, query and the request headers answers vary by (Accept, gzip, Origin), and bounded
    in bytes (the oldest used go first), so memory stays flat whatever is asked.
    """

    def __init__(self, app, version, max_bytes: int = 16 << 20, max_body: int = 256 << 10):
        self.app, self.version = app, version
        self.max_bytes, self.max_body = max_bytes, max_body
        self.entries: OrderedDict = OrderedDict()
        self.size = 0

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        accept = encoding = origin = inm = ims = b""
        for name, value in scope["headers"]:
            if name == b"accept":
                accept = value
            elif name == b"accept-encoding":
                encoding = value
            elif name == b"origin":
                origin = value
            elif name == b"if-none-match":
                inm = value
            elif name == b"if-modified-since":
                ims = value
        key = (scope["path"], scope["query_string"], accept, b"gzip" in encoding, bool(origin))
        version = self.version()
        entry = self.entries.get(key)
        now = time.time()
        if entry is not None:
            if entry.version == version and now < entry.expires:
                self.entries.move_to_end(key)
                await self._replay(entry, now, inm, ims, send)
                return
            self._drop(key)
        await self.app(scope, receive, _Capture(self, key, version, inm, ims, send))

    async def _replay(self, entry: Entry, now: float, inm: bytes, ims: bytes, send) -> None:
        headers = entry.headers + [(b"age", b"%d" % (now - entry.stored))]
        if (inm or ims) and not_modified(inm.decode("latin-1"), ims.decode("latin-1"), entry.etag, entry.last_modified):
            await send({"type": "http.response.start", "status": 304,
                        "headers": [(k, v) for k, v in headers if k in KEPT_ON_304]})
            await send({"type": "http.response.body", "body": b""})
            return
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": entry.body})

    def keep(self, key, version, headers: list, body: bytes, tag: str, last_modified: str | None) -> None:
        seconds = _max_age(headers)
        if not seconds or len(body) > self.max_body:
            return
        self._drop(key)
        self.entries[key] = Entry(version, time.time() + seconds, headers, body, tag, last_modified)
        self.size += len(body)
        while self.size > self.max_bytes:
            self._drop(next(iter(self.entries)))

    def _drop(self, key) -> None:
        entry = self.entries.pop(key, None)
        if entry is not None:
            self.size -= len(entry.body)


def _max_age(headers: list) -> int:
    for name, value in headers:
        if name == b"cache-control":
            for part in value.decode("latin-1").split(","):
                name_, _, seconds = part.strip().partition("=")
                if name_ == "max-age" and seconds.isdigit():
                    return int(seconds)
    return 0


class _Capture:
    """The app's `send` on a cache miss: keeps a marked answer whole, and turns a matching
    conditional request into a 304 (the body, then, is never sent)."""

    def __init__(self, cache: HTTPCache, key, version, inm: bytes, ims: bytes, send):
        self.cache, self.key, self.version, self.send = cache, key, version, send
        self.inm, self.ims = inm.decode("latin-1"), ims.decode("latin-1")
        self.start = None
        self.keeping = self.silent = False
        self.parts: list[bytes] = []

    async def __call__(self, message):
        kind = message["type"]
        if kind == "http.response.start":
            headers = message.get("headers") or []
            self.keeping = message["status"] == 200 and any(name == MARK for name, _ in headers)
            if self.keeping:
                message["headers"] = [(k, v) for k, v in headers if k != MARK]
                self.start = message
                return
            if message["status"] == 200 and self._not_modified(headers):
                self.silent = True
                await self.send(_as_304(message))
                await self.send({"type": "http.response.body", "body": b""})
                return
            await self.send(message)
        elif kind == "http.response.body" and self.keeping:
            self.parts.append(message.get("body", b""))
            if message.get("more_body"):
                return
            await self._finish(b"".join(self.parts))
        elif not self.silent:
            await self.send(message)

    def _not_modified(self, headers) -> bool:
        found = {k: v.decode("latin-1") for k, v in headers if k in (b"etag", b"last-modified")}
        return not_modified(self.inm, self.ims, found.get(b"etag"), found.get(b"last-modified"))

    async def _finish(self, body: bytes) -> None:
        headers = self.start["headers"]
        found = {k: v.decode("latin-1") for k, v in headers if k in (b"etag", b"last-modified")}
        tag = found.get(b"etag")
        if tag is None:
            tag = etag(body)
            headers.append((b"etag", tag.encode()))
        self.cache.keep(self.key, self.version, list(headers), body, tag, found.get(b"last-modified"))
        if not_modified(self.inm, self.ims, tag, found.get(b"last-modified")):
            await self.send(_as_304(self.start))
            await self.send({"type": "http.response.body", "body": b""})
            return
        await self.send(self.start)
        await self.send({"type": "http.response.body", "body": body})


def _as_304(start: dict) -> dict:
    return {"type": "http.response.start", "status": 304,
            "headers": [(k, v) for k, v in start.get("headers") or [] if k in KEPT_ON_304]}
