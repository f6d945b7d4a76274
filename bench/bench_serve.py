"""`ticker serve` under a real load generator (wrk), the server on one core (taskset), against a bare
ASGI application on the same server (uvicorn, uvloop, httptools) returning the same bytes, measured
in the same run and interleaved; a ten-year series against serialising the same rows straight from
sqlite3; and the server's memory after 100,000 requests against after warm-up.

Targets: requests per second >= 0.7 of the bare application's; the series as JSON and as NDJSON
within 2x; RSS after 100,000 requests <= 1.05 of after warm-up.
"""

import json
import re
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from common import ROOT, Row, backfilled, median_ms, ratio_row

from ticker import days

SINCE = date(2016, 7, 1)
SERVER_CORE, LOAD_CORE = "0", "1"
CONNECTIONS, SECONDS, ROUNDS = 32, 8, 3
PATHS = ("/v1/latest?symbols=USD,EUR,RUB", "/api/rates/today")
SERIES_RUNS = 21
# A mix of what clients ask, cycled by wrk for the memory figure: latest and dated answers, native
# ones, a short range (streamed) and misses (every distinct query string is a new cache entry).
MIX = """
counter = 0
paths = {"/v1/latest?symbols=USD,EUR,RUB", "/api/rates/today", "/v1/2024-01-10?from=USD&to=BYN",
         "/v2/rates?base=USD&quotes=EUR,RUB", "/v1/2026-01-01..2026-01-31?symbols=USD",
         "/api/rates/USD?from=2025-01-01&to=2025-01-31", "/v1/currencies"}
request = function()
  counter = counter + 1
  local path = paths[(counter % #paths) + 1]
  if counter % 10 == 0 then
    path = "/v1/2020-01-01?n=" .. (counter % 5000)
  end
  return wrk.format("GET", path)
end
"""
MISSES = """
counter = 0
request = function()
  counter = counter + 1
  return wrk.format("GET", "%s&n=" .. counter)
end
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(port: int, process, deadline: float = 60) -> None:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited: {process.stderr.read()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {port} after {deadline} s")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def wrk(url: str, seconds: int = SECONDS, script: str | None = None) -> dict:
    """wrk on the load core: requests per second, p99 latency (ms), requests done."""
    command = ["taskset", "-c", LOAD_CORE, "wrk", "-t1", f"-c{CONNECTIONS}", f"-d{seconds}s", "--latency"]
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as lua:
        if script:
            lua.write(script)
            lua.flush()
            command += ["-s", lua.name]
        out = subprocess.run(command + [url], capture_output=True, text=True, timeout=seconds + 60, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out)[1])
    value, unit = re.search(r"\s99%\s+([\d.]+)(us|ms|s)\b", out).groups()
    done = int(re.search(r"(\d+) requests in", out)[1])
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rate": rate, "p99": float(value) * UNITS[unit], "requests": done, "errors": int(errors[1]) if errors else 0}


def start(command: list[str], port: int, **kwargs):
    process = subprocess.Popen(["taskset", "-c", SERVER_CORE, *command], stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True, **kwargs)
    wait_for(port, process)
    return process


def stop(process) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=30)


def answers_of(base: str, paths) -> dict:
    """What ticker serve answers for each path: its headers (less the per-response ones) and body."""
    import httpx

    found = {}
    for path in paths:
        response = httpx.get(base + path, headers={"accept-encoding": "identity"}, timeout=30)
        assert response.status_code == 200, (path, response.text)
        headers = [[k, v] for k, v in response.headers.items() if k not in ("date", "age")]
        found[path] = {"headers": headers, "body": response.text}
    return found


def series_rows(db: Path, first: date, last: date):
    """The baseline: the same rows straight from sqlite3, serialised as JSON and as NDJSON."""
    keys = ("date", "code", "scale", "rate", "unit", "cur_id", "periodicity")
    conn = sqlite3.connect(db)

    def rows():
        return [dict(zip(keys, r)) for r in conn.execute(
            "SELECT date, code, scale, rate_text, unit, cur_id, periodicity FROM rates WHERE code = 'USD'"
            " AND date BETWEEN ? AND ? ORDER BY date", [first.isoformat(), last.isoformat()])]

    return (lambda: json.dumps(rows(), separators=(",", ":")).encode(),
            lambda: "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in rows()).encode())


def run() -> list[Row]:
    import httpx

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        today = days.today()
        db = backfilled(folder, SINCE, today + timedelta(days=1))
        (folder / "serve.toml").write_text(f'[database]\npath = "{db}"\n[charts]\ndir = "{folder / "charts"}"\n')
        port, bare_port = free_port(), free_port()
        server = start([sys.executable, "-m", "ticker", "--config", str(folder / "serve.toml"), "serve", "--port",
                        str(port)], port, cwd=ROOT)
        base = f"http://127.0.0.1:{port}"
        try:
            answers = answers_of(base, PATHS)
            (folder / "answers.json").write_text(json.dumps(answers))
            bare = start([sys.executable, str(Path(__file__).with_name("bare_asgi.py")), str(folder / "answers.json"),
                          str(bare_port)], bare_port)
            try:
                for path in PATHS:  # the bare app answers the same bytes
                    assert httpx.get(f"http://127.0.0.1:{bare_port}{path}").text == answers[path]["body"]
                figures = {(who, path): [] for who in ("ticker", "bare") for path in PATHS}
                for who, url in (("ticker", base), ("bare", f"http://127.0.0.1:{bare_port}")):
                    wrk(url + PATHS[0], seconds=2)  # warm both up
                for _ in range(ROUNDS):
                    for path in PATHS:
                        for who, url in (("ticker", base), ("bare", f"http://127.0.0.1:{bare_port}")):
                            result = wrk(url + path)
                            assert result["errors"] == 0, (who, path, result)
                            figures[who, path].append(result)
            finally:
                stop(bare)
            for path in PATHS:
                ours = statistics.median(r["rate"] for r in figures["ticker", path])
                theirs = statistics.median(r["rate"] for r in figures["bare", path])
                p99 = statistics.median(r["p99"] for r in figures["ticker", path])
                bare_p99 = statistics.median(r["p99"] for r in figures["bare", path])
                rows.append(ratio_row(f"serve {path} (p99 {p99:.2f} ms)", ours, f"bare ASGI, same bytes (p99 {bare_p99:.2f} ms)",
                                      theirs, "r/s", at_least=0.7))
            # Every request a miss of the in-process cache (a query string never seen), for reference.
            missed = wrk(base + PATHS[0], script=MISSES % PATHS[0])
            rows.append(Row(f"serve {PATHS[0]}, every request a cache miss (p99 {missed['p99']:.2f} ms)",
                            missed["rate"], "the same, cached", statistics.median(
                                r["rate"] for r in figures["ticker", PATHS[0]]), "r/s", "reference", True))

            # Ten years of one currency (3,650 days) as JSON and as NDJSON, against the same rows from sqlite3.
            last = today
            first = last - timedelta(days=3649)
            as_json, as_ndjson = series_rows(db, first, last)
            params = {"from": first.isoformat(), "to": last.isoformat()}
            with httpx.Client(base_url=base, timeout=60, headers={"accept-encoding": "identity"}) as client:
                served_json = client.get("/api/rates/USD", params=params)
                assert json.loads(served_json.content) == json.loads(as_json()) and len(served_json.json()) == 3650
                for kind, accept, bare_work in (("JSON", "application/json", as_json),
                                                ("NDJSON", "application/x-ndjson", as_ndjson)):
                    figure = median_ms(lambda: client.get("/api/rates/USD", params=params,
                                                          headers={"accept": accept}).content, SERIES_RUNS)
                    baseline = median_ms(bare_work, SERIES_RUNS)
                    rows.append(ratio_row(f"serve a 10-year series (3,650 rows) as {kind}", figure,
                                          "the same rows from sqlite3, json.dumps", baseline, "ms", at_most=2))

            # Memory: after warm-up, then after 100,000 requests more of a mix of answers.
            wrk(base, seconds=5, script=MIX)
            warm = rss_mb(server.pid)
            done, spent = 0, 0
            while done < 100_000 and spent < 120:
                result = wrk(base, seconds=10, script=MIX)
                assert result["errors"] == 0, result
                done, spent = done + result["requests"], spent + 10
            after = rss_mb(server.pid)
            rows.append(ratio_row(f"serve RSS after {done:,} more requests", after, "after warm-up", warm, "MB",
                                  at_most=1.05))
        finally:
            stop(server)
    return rows

