"""ticker/sync/pool.py with the real HTTP client against a real local server that counts the
requests on the wire: a retry's wait frees its worker, at most WORKERS asks at once, stop(), and
workers that end."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ticker.errors import SourceUnavailable
from ticker.sources.http import Client
from ticker.sync.pool import OPEN, WORKERS, Pool

# A pool that loses an answer would leave its taker waiting: fail in a minute, not pytest's five.
pytestmark = pytest.mark.timeout(60)
HOLD = 10  # seconds a held request waits at most for its batch: a bound, never reached when the pool works


class CountingServer:
    """A real HTTP server on 127.0.0.1 that answers GET <path> with {"path": <path>} and logs, for
    each request, when it arrived (time.monotonic) and how many requests were in it then, itself
    included; `faults[path]` lists (status, headers) answers to give that path first, at once.

    With `batch` set, a request that is not a fault is held until `batch` requests are in the
    server at once (then all held ones are answered together), or until every path of `expected`
    has arrived, or no request has arrived for `quiet` seconds (when set), or `release()`: so that
    the pool's concurrency shows as requests really open together, whatever the machine's speed.
    A request is counted out before its answer is written, so a worker's next request can never be
    counted beside its last.
    """

    def __init__(self):
        self.faults: dict[str, list[tuple[int, dict]]] = {}
        self.batch = 0
        self.quiet: float | None = None
        self.expected: set[str] = set()
        self.arrived: list[tuple[str, float, int]] = []  # (path, when, requests in the server then)
        self.answered: list[tuple[str, float, int]] = []  # (path, when, status)
        self._in = 0
        self._batches = 0
        self._released = False
        self._cond = threading.Condition()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                fake._handle(self)

            def log_message(self, *args):
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def _handle(self, handler):
        path = handler.path
        with self._cond:
            self._in += 1
            self.arrived.append((path, time.monotonic(), self._in))
            script = self.faults.get(path)
            fault = script.pop(0) if script else None
            if fault is None and self.batch:
                mine = self._batches
                if self._in >= self.batch or self._all_arrived():
                    self._batches += 1
                    self._cond.notify_all()
                deadline = time.monotonic() + HOLD
                while not (self._batches > mine or self._released or self._all_arrived() or self._quiet()):
                    if time.monotonic() > deadline:
                        break
                    self._cond.wait(0.02)
            self._in -= 1
            status, headers = fault or (200, {})
            self.answered.append((path, time.monotonic(), status))
            self._cond.notify_all()
        body = json.dumps({"path": path} if status == 200 else {"title": "busy"}).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(body)

    def _all_arrived(self) -> bool:
        return bool(self.expected) and self.expected <= {path for path, _, _ in self.arrived}

    def _quiet(self) -> bool:
        return self.quiet is not None and time.monotonic() - self.arrived[-1][1] >= self.quiet

    def release(self):
        """Answer every held request, and hold none from now on."""
        with self._cond:
            self._released = True
            self._cond.notify_all()

    def asked(self) -> list[str]:
        with self._cond:
            return [path for path, _, _ in self.arrived]

    def __enter__(self):
        threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.release()
        self._httpd.shutdown()
        self._httpd.server_close()


@pytest.fixture
def server():
    with CountingServer() as running:
        yield running


def asker(server):
    """ask(path) -> the path the server says it answered, through the real client: one attempt at a
    time under urllib3's Retry, which inside the pool hands a wait back instead of sleeping it."""
    client = Client("Test", server.url, timeout=HOLD + 5, retries=2, backoff=0.05, hint="no mirror in a test")
    return lambda path: client.json(path)[1]["path"]


def paths(n: int) -> list[str]:
    return [f"/rates/{k}" for k in range(n)]


def test_a_request_waiting_for_its_retry_gives_its_worker_to_the_next_planned_request(server):
    planned = paths(3 * WORKERS)
    busy = planned[0]  # asked first, answered 503 with Retry-After: 1 once
    server.faults[busy] = [(503, {"Retry-After": "1"})]
    server.batch, server.expected = WORKERS, set(planned)
    got = []
    with Pool(asker(server), [(p,) for p in planned]) as pool:
        for (path,), answer in pool:
            got.append((path, answer))
    assert pool.join(timeout=10)
    # Each request answered once, with its own answer; the busy one last, after its one retry.
    assert sorted(got) == sorted((p, p) for p in planned)
    assert got[-1] == (busy, busy)
    asked = server.asked()
    assert asked.count(busy) == 2 and all(asked.count(p) == 1 for p in planned[1:])
    [(_, refused_at, _)] = [a for a in server.answered if a[2] == 503]
    again_at = [when for path, when, _ in server.arrived if path == busy][1]
    # Every other request was answered in the second it waited: none waited for it.
    others = [when for path, when, status in server.answered if path != busy]
    assert len(others) == len(planned) - 1 and all(refused_at < when < again_at for when in others)
    assert again_at - refused_at >= 1  # the Retry-After was honoured, not cut short
    # While it waited, WORKERS other requests were on the wire at once: its worker was asking them,
    # not sleeping. (Had the worker slept through the second, only WORKERS - 1 could have been, and the
    # held requests would have waited out HOLD, after the retry.) So the whole took the one wait,
    # once, and never more than WORKERS requests were open.
    during = [count for _, when, count in server.arrived if refused_at < when < again_at]
    assert max(during) == WORKERS
    assert max(count for _, _, count in server.arrived) == WORKERS


def test_never_more_than_workers_requests_on_the_wire(server):
    planned = paths(2 * WORKERS + 1)
    for path in planned[::4]:  # every fourth is busy twice before its answer
        server.faults[path] = [(503, {"Retry-After": "0"}), (502, {})]
    # Held until one request more than WORKERS is in the server (which would fail the test), or
    # until none came for a quarter of a second: the pool had sent all it may.
    server.batch, server.quiet = WORKERS + 1, 0.25
    with Pool(asker(server), [(p,) for p in planned]) as pool:
        got = dict((path, answer) for (path,), answer in pool)
    assert pool.join(timeout=10)
    assert got == {p: p for p in planned}
    assert len(server.asked()) == len(planned) + 2 * len(planned[::4])
    counts = [count for _, _, count in server.arrived]
    assert all(count <= WORKERS for count in counts)
    assert max(counts) == WORKERS  # reached: the bound was met, not only kept


def test_stop_hands_back_the_requests_never_asked_and_answers_a_waiting_retry_with_its_error(server):
    planned = paths(3 * WORKERS)
    busy = planned[0]
    server.faults[busy] = [(503, {"Retry-After": "30"})]  # it would wait 30 s for its retry
    server.batch = WORKERS
    with Pool(asker(server), [(p,) for p in planned]) as pool:
        answers = iter(pool)
        first = next(answers)  # by now the busy request has had its 503: it waits for its retry
        unasked = pool.stop()
        server.release()  # the requests on the wire at the stop are answered
        rest = list(answers)
    assert pool.join(timeout=10)
    done = dict((path, answer) for (path,), answer in [first, *rest])
    handed_back = [path for (path,) in unasked]
    # Every request exactly once: answered, or handed back never asked; those handed back are the
    # last planned, in order.
    assert sorted([*done, *handed_back]) == sorted(planned) and len(done) + len(handed_back) == len(planned)
    assert handed_back and handed_back == planned[len(planned) - len(handed_back):]
    asked = server.asked()
    assert not set(handed_back) & set(asked)
    assert len(set(asked)) <= OPEN  # begun before the stop: at most OPEN are open at once
    # The waiting one arrives at once with its last error, never asked again.
    assert isinstance(done[busy], SourceUnavailable)
    assert str(done[busy]) == f"Could not reach Test: {server.url}{busy}: HTTP 503 busy; no mirror in a test"
    assert asked.count(busy) == 1
    assert all(done[path] == path for path in done if path != busy)


def test_the_workers_end_once_the_pool_is_left(server):
    planned = paths(3 * WORKERS)
    server.batch = WORKERS
    with Pool(asker(server), [(p,) for p in planned]) as pool:
        for (path,), answer in pool:
            assert answer == path
            break  # the taker stops early, as the daemon's stop or Ctrl-C makes it
        server.release()
    assert pool.join(timeout=10)  # every worker ended: none can ask anything more
    assert len(server.asked()) < len(planned)  # left early: the rest was never asked
