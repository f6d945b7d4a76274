"""`ticker serve`: a Starlette application on uvicorn over the database, opened read-only.

The stack, outermost first: HTTPCache (whole answers kept while the data they were made from is
unchanged, and 304s), GZip, CORS for GET, Starlette's routes, and the charts folder as static
files. All SQL is in ticker/store (serving.py, reader.py); the answers are made by frankfurter.py
and native.py. The server never writes: it starts on an empty or missing database and answers
503 until the daemon has written rates.

Handlers are coroutines that read SQLite on the event loop: every query is a few primary-key
seeks, and a long answer is streamed in parts that let other requests in between.
"""

import asyncio
import json
import logging
import re
import sqlite3
import sys
import time
from datetime import date, datetime, timedelta

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from .. import days
from ..errors import DatabaseError, NoData
from ..store import reader, serving
from . import Refused, caching, frankfurter, native
from .caching import MARK, NO_STORE

log = logging.getLogger("ticker.serve")

JSON = "application/json; charset=utf-8"
NDJSON = "application/x-ndjson"
CSV = "text/csv; charset=utf-8"
PROMETHEUS = "text/plain; version=0.0.4; charset=utf-8"
CHUNK = 64 << 10  # bytes of a streamed answer sent at once
DATED = re.compile(r"/(\d{4}-\d{2}-\d{2})/")


class Database:
    """The read-only connection (opened on first use, again after a failure) and the stamp of
    what it holds, re-read only when SQLite's data_version says another connection committed.

    data_version is asked at most every CHECK seconds (a hundred times a second): asking costs
    more than the rest of an answer from the cache, and a commit is seen within that time.
    """

    CHECK = 0.01

    def __init__(self, path):
        self.path = path
        self.conn: sqlite3.Connection | None = None
        self.seen = None
        self.stamp = None
        self.modified: str | None = None  # Last-Modified of the rates
        self.checked = 0.0
        self.day, self.day_ends = None, 0.0

    def _open(self) -> sqlite3.Connection:
        if self.conn is None:
            try:
                self.conn = reader.connect(self.path)
            except (NoData, DatabaseError, sqlite3.Error) as exc:
                detail = str(exc).split(": ", 1)[-1]
                raise Refused(503, f"no rates to serve yet: {detail}; the daemon (`ticker run`) writes them") from None
            self.seen, self.checked = None, 0.0
        return self.conn

    def version(self):
        """(the data's stamp, today in Minsk), what a kept answer was made from; None while unavailable."""
        now = time.monotonic()
        if self.conn is None or now >= self.checked:
            try:
                conn = self._open()
                seen = serving.data_version(conn)
                if seen != self.seen:
                    self.stamp, self.modified = serving.stamp(conn), caching.http_date(serving.changed_at(conn))
                    self.seen = seen
            except Refused:
                return None
            except sqlite3.Error:
                self.close()
                return None
            self.checked = now + self.CHECK
        return self.stamp, self.today()

    def today(self) -> date:
        """Today in Minsk, worked out again only when the day has turned."""
        if time.time() >= self.day_ends:
            self.day = days.today()
            self.day_ends = datetime.combine(self.day + timedelta(days=1), datetime.min.time(), days.minsk()).timestamp()
        return self.day

    def ready(self) -> sqlite3.Connection:
        """The connection once rates are stored; Refused 503 before."""
        conn = self._open()
        if self.version() is None or not self.stamp[0]:
            raise Refused(503, f"no rates to serve yet: {self.path} has none; the daemon (`ticker run`) writes them")
        return conn

    def close(self):
        if self.conn is not None:
            self.conn.close()
        self.conn, self.seen = None, None


_ENCODE = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode  # one encoder: made once, not per call
BATCH = 512  # records of a streamed JSON array encoded at once


def _dumps(data) -> bytes:
    return _ENCODE(data).encode()


class Server:
    """The routes, over one Database and the config."""

    def __init__(self, config):
        self.config = config
        self.db = Database(config.database.path)
        self.publication = caching.Publication(config)
        self.max_days = config.serve.max_days

    # -- responses ----------------------------------------------------------------------------

    def answer(self, data, cache_control: str, vary: str | None = None) -> Response:
        """A whole JSON answer that the in-process cache may keep, with the rates' Last-Modified."""
        return self.raw(_dumps(data), JSON, cache_control, vary)

    def raw(self, body: bytes, media_type: str, cache_control: str, vary: str | None = None) -> Response:
        headers = {"cache-control": cache_control, "access-control-allow-origin": "*"}
        if self.db.modified:
            headers["last-modified"] = self.db.modified
        if vary:
            headers["vary"] = vary
        response = Response(body, media_type=media_type, headers=headers)
        if cache_control != NO_STORE:
            response.raw_headers.append((MARK, b"1"))
        return response

    def streamed(self, request: Request, parts, media_type: str, cache_control: str, vary: str | None = None):
        """A long answer sent in parts as they are made, with a weak ETag of the request and the
        data's stamp (its bytes are not known before they are sent); a 304 when it matches."""
        tag = caching.weak_etag(request.url.path, request.url.query, request.headers.get("accept"),
                                self.db.version())
        headers = {"cache-control": cache_control, "etag": tag, "access-control-allow-origin": "*"}
        if vary:
            headers["vary"] = vary
        if caching.matches(request.headers.get("if-none-match"), tag):
            return Response(status_code=304, headers=headers)
        return StreamingResponse(_chunks(parts), media_type=media_type, headers=headers)

    def for_days(self, asked: date | None, answered: date | None) -> str:
        return caching.for_days(self.publication, asked, answered, days.today())

    def live(self) -> str:
        return caching.live(self.publication)

    # -- Frankfurter v1 ----------------------------------------------------------------------

    async def v1(self, request: Request):
        what = request.path_params["what"]
        params = request.query_params
        if what == "currencies":
            conn = self.db.ready()
            return self.answer(frankfurter.currencies(conn, days.today()), self.live())
        today = days.today()
        if what in ("latest", "current"):
            query, _ = frankfurter.query(params)
            answered, body = frankfurter.on_day(self.db.ready(), today, query)
            return self.answer(body, self.live())
        if frankfurter.DAY.fullmatch(what):
            query, (day,) = frankfurter.query(params, what)
            answered, body = frankfurter.on_day(self.db.ready(), day, query)
            return self.answer(body, self.for_days(day, answered))
        span = frankfurter.RANGE.fullmatch(what)
        if span:
            query, parsed = frankfurter.query(params, *[d for d in span.groups() if d])
            first, last = parsed[0], parsed[1] if len(parsed) > 1 else today
            _, parts = frankfurter.span(self.db.ready(), first, last, query, today, self.max_days)
            open_ended = span.group(2) is None or last >= today
            return self.streamed(request, parts, JSON, self.live() if open_ended else caching.past())
        raise Refused(404, frankfurter.NOT_FOUND)

    # -- Frankfurter v2 ----------------------------------------------------------------------

    async def v2_rates(self, request: Request):
        conn = self.db.ready()
        today = days.today()
        query = frankfurter.rates_query(conn, request.query_params, today, self.max_days)
        return self._records(request, conn, query, today)

    async def v2_rate(self, request: Request):
        conn = self.db.ready()
        today = days.today()
        params = {**request.query_params, "base": request.path_params["base"].upper(),
                  "quotes": request.path_params["quote"].upper()}
        if "from" in params or "to" in params:
            raise Refused(422, "from and to are for /v2/rates; /v2/rate takes date")
        query = frankfurter.rates_query(conn, params, today, self.max_days)
        answered, found = frankfurter.records(conn, query, today)
        record = next(iter(found), None)
        if record is None:
            raise Refused(404, frankfurter.NOT_FOUND)
        return self.answer(record, self.for_days(query.day, answered))

    def _records(self, request: Request, conn, query, today: date):
        answered, found = frankfurter.records(conn, query, today)
        accept = request.headers.get("accept", "")
        cache_control = self.live() if query.relative else self.for_days(query.day or query.last, answered or query.last)
        if "text/csv" in accept:
            lines = ("date,base,quote,rate\n", *(f"{r['date']},{r['base']},{r['quote']},{r['rate']}\n" for r in found))
            parts, media = iter(lines), CSV
        elif NDJSON in accept:
            parts, media = (_ENCODE(r) + "\n" for r in found), NDJSON
        elif query.range:
            parts, media = _array(found), JSON
        else:
            return self.answer(list(found), cache_control, vary="Accept")
        if not query.range:
            return self.raw("".join(parts).encode(), media, cache_control, vary="Accept")
        return self.streamed(request, parts, media, cache_control, vary="Accept")

    async def v2_currencies(self, request: Request):
        conn = self.db.ready()
        return self.answer(frankfurter.v2_currencies(conn, request.query_params, days.today()), self.live())

    async def v2_currency(self, request: Request):
        conn = self.db.ready()
        code = request.path_params["code"].upper()
        found = next((c for c in frankfurter.v2_currencies(conn, {"scope": "all"}, days.today())
                      if c["iso_code"] == code), None)
        if found is None:
            raise Refused(404, frankfurter.NOT_FOUND)
        detail = {k: found[k] for k in ("iso_code", "iso_numeric", "name", "symbol")}
        return self.answer({**detail, "providers": [frankfurter.PROVIDER]}, self.live())

    async def v2_providers(self, request: Request):
        conn = self.db.ready()
        return self.answer(frankfurter.providers(conn, days.today(), self.config), self.live())

    # -- the native API ----------------------------------------------------------------------

    async def rates(self, request: Request):
        what = request.path_params["what"]
        if len(what) == 3 and what.isalpha():
            return self.series(request, native.code(what))
        day = native.day(what)
        conn = self.db.ready()
        return self.answer(native.rates_on(conn, day), self.for_days(day, day))

    def series(self, request: Request, code: str):
        params = request.query_params
        today = days.today()
        last = native.day(params["to"]) if "to" in params else today
        first = native.day(params["from"]) if "from" in params else last.replace(day=1)
        rows = native.series(self.db.ready(), code, first, last, self.max_days)
        cache_control = self.for_days(last, last)
        if NDJSON in request.headers.get("accept", ""):
            return self.streamed(request, (_ENCODE(r) + "\n" for r in rows), NDJSON, cache_control,
                                 vary="Accept")
        return self.streamed(request, _array(rows), JSON, cache_control, vary="Accept")

    async def convert(self, request: Request):
        conn = self.db.ready()
        params = request.query_params
        found = native.convert(conn, params, days.today())
        day = date.fromisoformat(found["date"])
        return self.answer(found, self.for_days(day, day))

    async def banks(self, request: Request):
        conn = self.db.ready()
        code = native.code(request.path_params["code"])
        body = native.bank(conn, code, request.query_params.get("city", self.config.banks.city))
        # Bank rates change through the day: kept until the next bank poll changes the stamp, a minute at most.
        return self.raw(body.encode(), JSON, "public, max-age=60, stale-if-error=3600")

    async def status(self, request: Request):
        report = native.status(self.db.ready(), self.config)
        return Response(_dumps(report), status_code=200 if report["ok"] else 503, media_type=JSON,
                        headers={"cache-control": NO_STORE, "access-control-allow-origin": "*"})

    async def metrics(self, request: Request):
        from . import metrics

        self.db.ready()
        return Response(metrics.render(self.registry), media_type=PROMETHEUS, headers={"cache-control": NO_STORE})

    async def openapi(self, request: Request):
        from .openapi import document

        return self.raw(_dumps(document()), JSON, "public, max-age=86400")

    # -- errors ------------------------------------------------------------------------------

    async def refused(self, request: Request, exc: Refused):
        body = {"status": exc.status, "message": exc.message} if request.url.path.startswith("/v2/") else \
            {"message": exc.message}
        headers = {"cache-control": NO_STORE, "access-control-allow-origin": "*"}
        if exc.status == 503:
            headers["retry-after"] = "60"
        return Response(_dumps(body), status_code=exc.status, media_type=JSON, headers=headers)

    async def http_error(self, request: Request, exc: HTTPException):
        messages = {404: frankfurter.NOT_FOUND, 405: "method not allowed", 401: "not allowed"}
        return await self.refused(request, Refused(exc.status_code, messages.get(exc.status_code, "bad request")))

    async def database_error(self, request: Request, exc: sqlite3.Error):
        log.error("%s %s: database error: %s", request.method, request.url.path, exc)
        self.db.close()
        return await self.refused(request, Refused(503, "the database could not be read; the server's log says why"))

    async def internal(self, request: Request, exc: Exception):
        # The traceback goes to the server's log (uvicorn logs the exception re-raised after this); never to the client.
        return await self.refused(request, Refused(500, "internal error; the server's log says why"))


def _array(records):
    """A JSON array of `records`, as text parts: BATCH records encoded in one call each."""
    from itertools import islice

    records = iter(records)
    yield "["
    separator = ""
    while batch := list(islice(records, BATCH)):
        yield separator + _ENCODE(batch)[1:-1]
        separator = ","
    yield "]"


async def _chunks(parts):
    """Text parts as byte chunks of about CHUNK, yielding to the event loop between chunks."""
    buffer, size = [], 0
    for part in parts:
        buffer.append(part)
        size += len(part)
        if size >= CHUNK:
            yield "".join(buffer).encode()
            buffer, size = [], 0
            await asyncio.sleep(0)
    if buffer:
        yield "".join(buffer).encode()


class Charts(StaticFiles):
    """The charts folder (`[charts] dir`): index.html at /, the day's sets and latest/. ETag,
    Last-Modified and 304s are Starlette's; no path leaves the folder (symlinks are resolved and
    must stay inside: `latest` does). A folder not written yet answers 404."""

    def __init__(self, directory, publication: caching.Publication):
        super().__init__(directory=directory, html=True, check_dir=False)
        self.publication = publication

    async def check_config(self) -> None:
        return None  # the daemon creates the folder later: until then every path is 404

    def file_response(self, full_path, stat_result, scope, status_code: int = 200) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        dated = DATED.match(scope["path"])
        past = dated and dated.group(1) < days.today().isoformat()
        response.headers["cache-control"] = caching.past() if past else caching.live(self.publication)
        return response


def application(config):
    """The ASGI application: HTTPCache(GZip(CORS(Starlette routes))), and the Server behind it."""
    from prometheus_client import CollectorRegistry

    from .metrics import Collector

    server = Server(config)
    server.registry = CollectorRegistry(auto_describe=False)
    server.registry.register(Collector(server.db.ready, config))
    routes = [
        Route("/v1/{what}", server.v1),
        Route("/v2/rates", server.v2_rates),
        Route("/v2/rate/{base}/{quote}", server.v2_rate),
        Route("/v2/currencies", server.v2_currencies),
        Route("/v2/currency/{code}", server.v2_currency),
        Route("/v2/providers", server.v2_providers),
        Route("/api/rates/{what}", server.rates),
        Route("/api/convert", server.convert),
        Route("/api/banks/{code}", server.banks),
        Route("/api/status", server.status),
        Route("/metrics", server.metrics),
        Route("/openapi.json", server.openapi),
        Mount("/", Charts(config.charts.dir, server.publication)),
    ]
    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(GZipMiddleware, minimum_size=500, compresslevel=6),
            Middleware(CORSMiddleware, allow_origins=["*"], allow_methods=["GET", "HEAD", "OPTIONS"],
                       allow_headers=["*"], expose_headers=["ETag", "Last-Modified", "Age"], max_age=86400),
        ],
        exception_handlers={Refused: server.refused, HTTPException: server.http_error,
                            sqlite3.Error: server.database_error, Exception: server.internal},
    )
    return caching.HTTPCache(app, server.db.version), server


def serve(config, host: str, port: int) -> None:
    """Listen on host:port (0: any free port) until SIGTERM or SIGINT; say where on stderr first."""
    import signal
    import socket

    import uvicorn

    app, server = application(config)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise OSError(exc.errno, f"cannot listen on {host}:{port}: {exc.strerror}") from None
    sock.listen(2048)
    shown = f"[{host}]" if family == socket.AF_INET6 else host
    print(f"ticker serve: http://{shown}:{sock.getsockname()[1]}/ (database {config.database.path}, "
          f"charts {config.charts.dir}; read-only)", file=sys.stderr, flush=True)
    uvicorn_config = uvicorn.Config(app, loop="uvloop", http="httptools", lifespan="off", access_log=False,
                                    log_level="warning", server_header=False, timeout_graceful_shutdown=5)
    # uvicorn stops gracefully on SIGTERM and SIGINT, then raises the signal again for the handler it
    # found: this one, so that a stop is exit status 0 (as the daemon's) rather than death by the signal.
    for stop in (signal.SIGTERM, signal.SIGINT):
        signal.signal(stop, lambda *_: None)
    try:
        uvicorn.Server(uvicorn_config).run(sockets=[sock])
    finally:
        server.db.close()
