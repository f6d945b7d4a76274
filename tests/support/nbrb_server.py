"""A fake of the NBRB exchange-rate API: a real HTTP server on 127.0.0.1, stdlib only.

Tests and benchmarks point the client at `FakeNBRB.url` instead of https://api.nbrb.by. Answers are
shaped like the real API's (see shared/nbrb/FACTS.md) and rate numbers are written from the stored
text, so "3.1980" reaches the client as 3.1980, as NBRB sends it.
"""

import json
import random
import re
import socket
import struct
import sys
import threading
import time
import uuid
from collections import deque
from datetime import date, datetime, timedelta, timezone
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

# Minsk is UTC+3 all year (no daylight saving), so no time-zone database is needed.
MINSK = timezone(timedelta(hours=3), "Europe/Minsk")
JSON = "application/json; charset=utf-8"
PROBLEM = "application/problem+json; charset=utf-8"
MAX_SPAN_DAYS = 365  # dynamics refuses enddate - startdate above this

_NUMBER = re.compile(r"-?\d+(\.\d+)?")


class FakeNBRB:
    """The NBRB API over HTTP, fed from `catalogue` (currency records) and `add_rates`.

    `requests` logs every request as (path, query) with lower-cased query keys, faults included.
    `today` (an ISO date) is the day `rates` answers for when the request has no ondate.
    `bom` puts a UTF-8 byte-order mark before every JSON body.
    """

    def __init__(self, catalogue: list[dict] | None = None):
        self.catalogue = list(catalogue or [])
        self.today = datetime.now(MINSK).date().isoformat()
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.url: str | None = None
        self._rates: dict[int, dict[str, str]] = {}
        self._verbatim: dict[tuple, tuple[int, str, bytes]] = {}
        self._scripts: list[tuple[str, deque]] = []
        self._mix: list[tuple[float, object]] = []
        self._random = random.Random(0)
        self.bom = False
        self.faults: list[tuple[str, object]] = []  # (path, fault) for each fault served
        self._lock = threading.Lock()
        self._httpd: _Server | None = None
        self.tls = None  # set to an ssl.SSLContext before start() to serve https

    # --- setup -------------------------------------------------------------------------------

    def add_rates(self, cur_id: int, rates: dict[str, str]) -> None:
        """Rates of one Cur_ID: ISO date -> rate text exactly as published ("3.1980")."""
        for day, text in rates.items():
            date.fromisoformat(day)
            # The text is pasted into JSON bodies, so anything but a plain number would break them.
            if not _NUMBER.fullmatch(text):
                raise ValueError(f"rate for {cur_id} on {day} is not a number: {text!r}")
        self._rates.setdefault(cur_id, {}).update(rates)

    def set_verbatim(self, path: str, query: dict[str, str], body: bytes, status: int = 200,
                     content_type: str = JSON) -> None:
        """Answer exactly this request (query keys case-insensitive) with exactly these bytes."""
        self._verbatim[path, _query_key(query)] = (status, content_type, body)

    def script(self, path_prefix: str, *responses) -> None:
        """Queue faults for requests whose path starts with path_prefix, consumed one per request.

        Each is (status, headers, body), "reset" (drop the connection with a TCP RST), ("delay",
        event) (held until the test sets the threading.Event, then answered normally), ("delay",
        seconds) (sleep, then answer normally), ("trickle", seconds) (the normal answer, one byte
        each `seconds` after its headers), or a damaged normal answer: "truncate" (its JSON
        cut in half, Content-Length matching: what a proxy passes on), "cut" (half the body, then
        the connection closes), "html" (a proxy's error page with status 200), "empty" (an empty
        list), "hole" (a dynamics answer without one of its middle days). Once used up, requests
        are answered normally.
        """
        for response in responses:
            _check_fault(response)
        with self._lock:
            for prefix, queue in self._scripts:
                if prefix == path_prefix:
                    queue.extend(responses)
                    return
            self._scripts.append((path_prefix, deque(responses)))

    def unscript(self) -> None:
        """Drop every fault still queued."""
        with self._lock:
            self._scripts.clear()

    def fault_mix(self, seed: int, mix: dict) -> None:
        """Answer every request not scripted with a fault drawn at random (seeded, so runs repeat):
        `mix` maps a fault (as in `script`, or "5xx" for one of 500, 502, 503, 504) to its probability."""
        total = 0.0
        self._mix = []
        for fault, probability in mix.items():
            if fault != "5xx":
                _check_fault(fault)
            total += probability
            self._mix.append((total, fault))
        if total > 1:
            raise ValueError(f"fault probabilities add up to {total} > 1")
        self._random = random.Random(seed)

    def reset_log(self) -> None:
        with self._lock:
            self.requests.clear()

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self, tls=None) -> "FakeNBRB":
        """Serve on a free port of 127.0.0.1: plain HTTP, or HTTPS with `tls` (a server ssl.SSLContext)."""
        self._httpd = _Server(("127.0.0.1", 0), _Handler)
        self._httpd.fake = self
        tls = self.tls if tls is None else tls  # an ssl.SSLContext (support.hostile or support.banks makes one)
        if tls is not None:
            self._httpd.socket = tls.wrap_socket(self._httpd.socket, server_side=True)
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{self._httpd.server_address[1]}"
        # A short poll interval keeps stop() quick; benchmarks start and stop many servers.
        threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                         daemon=True).start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> "FakeNBRB":
        return self if self._httpd is not None else self.start()  # `with fake.start(tls=...)` too

    def __exit__(self, *exc) -> None:
        self.stop()

    # --- request handling (called from the server's threads) ---------------------------------

    def _received(self, path: str, query: dict[str, str]):
        """Log the request and return the scripted fault due for it, if any."""
        with self._lock:
            self.requests.append((path, query))
            fault = None
            for prefix, queue in self._scripts:
                if queue and path.startswith(prefix):
                    fault = queue.popleft()
                    break
            else:
                if self._mix:
                    draw = self._random.random()
                    fault = next((f for bound, f in self._mix if draw < bound), None)
                    if fault == "5xx":
                        fault = (self._random.choice((500, 502, 503, 504)), {}, b"<html>Bad gateway</html>")
            if fault is not None:
                self.faults.append((path, fault))
            return fault

    def _answer(self, path: str, query: dict[str, str]) -> tuple[int, str, bytes]:
        verbatim = self._verbatim.get((path, _query_key(query)))
        if verbatim:
            return verbatim
        try:
            match path.strip("/").split("/"):
                case ["exrates", "currencies"]:
                    return 200, JSON, _dumps(self.catalogue).encode()
                case ["exrates", "currencies", cur_id]:
                    for record in self.catalogue:
                        if str(record["Cur_ID"]) == cur_id:
                            return 200, JSON, _dumps(record).encode()
                case ["exrates", "rates"]:
                    return self._rate_list(query)
                case ["exrates", "rates", "dynamics", cur_id]:
                    return self._dynamics(cur_id, query)
                case ["exrates", "rates", ident]:
                    return self._one_rate(ident, query)
        except _BadRequest as exc:
            return _problem(400, str(exc))
        return _problem(404)

    def _rate_list(self, query):
        day = _date_param(query, "ondate", self.today).isoformat()
        periodicity = _int_param(query, "periodicity", "0")
        listed = []
        for record in self.catalogue:
            if record["Cur_Periodicity"] != periodicity or not _valid(record, day):
                continue
            rates = self._rates.get(record["Cur_ID"], {})
            if periodicity == 0 and day in rates:
                listed.append((record, day))
            elif periodicity == 1:
                # A monthly rate: the one in force on the day asked, dated the day it was set
                # (NBRB: "the date the rate in force on the requested date was set").
                set_on = max((d for d in rates if d <= day), default=None)
                if set_on is not None:
                    listed.append((record, set_on))
        # NBRB orders the list by the (Russian) name it shows.
        listed.sort(key=lambda item: _shown_name(item[0]))
        return 200, JSON, ("[" + ",".join(self._rate_json(r, d) for r, d in listed) + "]").encode()

    def _one_rate(self, ident, query):
        field = {0: "Cur_ID", 1: "Cur_Code", 2: "Cur_Abbreviation"}.get(_int_param(query, "parammode", "0"))
        if field is None:
            raise _BadRequest("parammode must be 0, 1 or 2")
        day = _date_param(query, "ondate", self.today).isoformat()
        periodicity = _int_param(query, "periodicity") if "periodicity" in query else None
        for record in self.catalogue:
            if (str(record[field]) == ident and _valid(record, day)
                    and periodicity in (None, record["Cur_Periodicity"])
                    and day in self._rates.get(record["Cur_ID"], {})):
                return 200, JSON, self._rate_json(record, day).encode()
        return _problem(404)

    def _dynamics(self, cur_id, query):
        if not any(str(r["Cur_ID"]) == cur_id for r in self.catalogue):
            return _problem(404)
        start = _date_param(query, "startdate")
        end = _date_param(query, "enddate")
        if end < start:
            raise _BadRequest("startdate is after enddate")
        if (end - start).days > MAX_SPAN_DAYS:
            raise _BadRequest(f"the period may not exceed {MAX_SPAN_DAYS} days")
        rates = self._rates.get(int(cur_id), {})
        rows = []
        for n in range((end - start).days + 1):
            day = (start + timedelta(days=n)).isoformat()
            if day in rates:
                rows.append(_with_rate({"Cur_ID": int(cur_id), "Date": day + "T00:00:00"}, rates[day]))
        return 200, JSON, ("[" + ",".join(rows) + "]").encode()

    def _rate_json(self, record, day):
        return _with_rate({
            "Cur_ID": record["Cur_ID"],
            "Date": day + "T00:00:00",
            "Cur_Abbreviation": record["Cur_Abbreviation"],
            "Cur_Scale": record["Cur_Scale"],
            "Cur_Name": _shown_name(record),
        }, self._rates[record["Cur_ID"]][day])


class _BadRequest(Exception):
    pass


DAMAGE = ("truncate", "cut", "html", "empty", "hole")
PROXY_PAGE = b"<html><head><title>502 Bad Gateway</title></head><body>The proxy could not reach the server</body></html>"


def _check_fault(response) -> None:
    if not (response == "reset" or response in DAMAGE
            or isinstance(response, tuple) and len(response) == 2 and response[0] in ("delay", "trickle")
            or isinstance(response, tuple) and len(response) == 3 and isinstance(response[0], int)):
        raise ValueError(f"not a scripted response: {response!r}")


def _query_key(query: dict[str, str]) -> frozenset:
    return frozenset((k.lower(), v) for k, v in query.items())


def _valid(record: dict, day: str) -> bool:
    """Whether the record is in force on the ISO day (both ends inclusive, as NBRB's are)."""
    return record["Cur_DateStart"][:10] <= day <= record["Cur_DateEnd"][:10]


def _shown_name(record: dict) -> str:
    """The name rates show: the quoted amount's, "100 Российских рублей" -> "Российских рублей"."""
    return record["Cur_QuotName"].removeprefix(f"{record['Cur_Scale']} ")


def _dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _with_rate(obj: dict, text: str) -> str:
    """obj as JSON plus a last field Cur_OfficialRate holding the text itself: a float would
    turn 3.1980 into 3.198."""
    return _dumps(obj)[:-1] + ',"Cur_OfficialRate":' + text + "}"


def _date_param(query, name, default=None) -> date:
    text = query.get(name, default)
    if text is None:
        raise _BadRequest(f"{name} is required")
    try:
        return datetime.fromisoformat(text).date()
    except ValueError:
        raise _BadRequest(f"{name} is not a date: {text!r}") from None


def _int_param(query, name, default=None) -> int:
    try:
        return int(query.get(name, default))
    except (TypeError, ValueError):
        raise _BadRequest(f"{name} is not an integer") from None


def _problem(status: int, detail: str | None = None) -> tuple[int, str, bytes]:
    """An ASP.NET problem+json body like NBRB's (samples/error_404_rates_INVALID_parammode2.json)."""
    trace = uuid.uuid4().hex
    body = {
        "type": "https://tools.ietf.org/html/rfc7231#section-" + ("6.5.4" if status == 404 else "6.5.1"),
        "title": HTTPStatus(status).phrase,
        "status": status,
        "traceId": f"|{trace[:8]}-{trace[8:24]}.",
    }
    if detail:
        body["detail"] = detail
    return status, PROBLEM, _dumps(body).encode()


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # a handler sleeping on a scripted delay must not hold up stop()
    fake: FakeNBRB

    def handle_error(self, request, client_address):
        # Clients that give up (timeouts, closed pools) are part of the tests; only report real bugs.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the real API, so clients reuse connections
    # Headers and body go out in separate writes: with Nagle on, the body waits for the
    # client's delayed ACK, 40 ms a response.
    disable_nagle_algorithm = True
    server: _Server

    def do_GET(self):
        parts = urlsplit(self.path)
        query = {k.lower(): v for k, v in parse_qsl(parts.query, keep_blank_values=True)}
        fake = self.server.fake
        fault = fake._received(parts.path, query)
        if fault == "reset":
            self._reset()
            return
        if isinstance(fault, tuple) and fault[0] == "delay":
            if isinstance(fault[1], threading.Event):
                fault[1].wait(60)  # held until the test lets it go (never past a minute)
            else:
                time.sleep(fault[1])
        elif isinstance(fault, tuple) and fault[0] == "trickle":
            self._trickle(*fake._answer(parts.path, query), fault[1])
            return
        elif isinstance(fault, tuple):
            status, headers, body = fault
            self._send(status, headers, body)
            return
        if fault == "html":
            self._send(200, {"Content-Type": "text/html; charset=utf-8"}, PROXY_PAGE)
            return
        status, content_type, body = fake._answer(parts.path, query)
        if fault == "empty":
            body = b"[]"
        elif fault == "hole":
            if body.count(b"},{") >= 2:
                texts = body[1:-1].split(b"},{")  # keep the numbers as written
                del texts[len(texts) // 2]
                body = b"[" + b"},{".join(texts) + b"]"
        elif fault == "truncate":
            body = body[:max(1, len(body) // 2)]
        if fake.bom and "json" in content_type:
            body = "\ufeff".encode() + body
        if fault == "cut":
            self._send(status, {"Content-Type": content_type, "Content-Length": str(len(body))},
                       body[:len(body) // 2])
            self.close_connection = True
            return
        self._send(status, {"Content-Type": content_type}, body)

    def _send(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        if not any(name.lower() == "content-length" for name in headers):
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _trickle(self, status: int, content_type: str, body: bytes, seconds: float) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.close_connection = True
        try:
            for n in range(len(body)):
                self.wfile.write(body[n:n + 1])
                self.wfile.flush()
                time.sleep(seconds)
        except OSError:
            pass  # the client gave up

    def _reset(self) -> None:
        # A zero linger time makes close() send RST instead of FIN: the client sees a reset.
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        self.connection.close()

    def log_message(self, format, *args):
        pass  # one line per request on stderr would drown test and benchmark output
