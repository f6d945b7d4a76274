"""`ticker serve` as a client and a CDN meet it: Cache-Control by what an answer is about, ETags and
304s, gzip, CORS, the page and charts (in headless Chromium), no path outside the charts folder,
503 until the daemon has written, answers right while a backfill writes, no traceback or SQL text."""

import gzip
import http.client
import json
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

import httpx
import pytest
from click.testing import CliRunner
from support import minsk, write_config
from support.nbrb_data import recorded_server
from support.serving import PINNED, serving

from ticker.cli import cli

BROWSER = "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def site(tmp_path_factory, recorded_db):
    """The charts of Monday 2026-03-16 evening (`ticker chart`), served by `ticker serve` at that time."""
    folder = tmp_path_factory.mktemp("site")
    config = write_config(folder, "http://127.0.0.1:9", database={"path": json.dumps(str(recorded_db))})
    with minsk("2026-03-16 18:00"):
        result = CliRunner().invoke(cli, ["--config", str(config), "chart"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    with serving(folder, recorded_db, now="2026-03-16T18:00", charts={"dir": json.dumps(str(folder / "charts"))}) as served:
        yield served, folder / "charts"


def max_age(response) -> int:
    parts = dict(p.strip().partition("=")[::2] for p in response.headers["cache-control"].split(","))
    assert parts["stale-if-error"] == "86400", response.headers["cache-control"]
    assert "public" in parts
    return int(parts["max-age"])


@pytest.mark.parametrize("now, seconds", [
    ("2026-03-17T10:00", 2 * 3600),  # Tuesday morning: until the first poll, 12:00 Minsk
    ("2026-03-17T12:05", 15 * 60),  # between two polls: until 12:20
    ("2026-03-17T17:00", 7 * 3600),  # after the last poll: until midnight
    ("2026-03-15T10:00", 14 * 3600),  # Sunday: no poll, until midnight
])
def test_latest_answers_are_fresh_until_the_next_moment_nbrb_can_publish(tmp_path, recorded_db, now, seconds):
    with serving(tmp_path, recorded_db, now=now) as served:
        latest = httpx.get(f"{served.url}/v1/latest", timeout=30)
        past = httpx.get(f"{served.url}/v1/2024-01-10", timeout=30)
        error = httpx.get(f"{served.url}/v1/2024-02-30", timeout=30)
    assert seconds - 30 <= max_age(latest) <= seconds
    assert max_age(past) == 7 * 86400 and "stale-while-revalidate=86400" in past.headers["cache-control"]
    assert error.headers["cache-control"] == "no-store"


def test_etag_last_modified_and_304_from_the_server_and_its_cache(site):
    served, _ = site
    with httpx.Client(base_url=served.url, timeout=30) as client:
        first = client.get("/v1/latest", params={"symbols": "USD"})
        again = client.get("/v1/latest", params={"symbols": "USD"})
        assert first.status_code == again.status_code == 200 and first.content == again.content
        assert first.headers["etag"] == again.headers["etag"] and "age" in again.headers
        tag = first.headers["etag"]
        cached = client.get("/v1/latest", params={"symbols": "USD"}, headers={"if-none-match": tag})
        assert cached.status_code == 304 and cached.content == b"" and cached.headers["etag"] == tag
        fresh = client.get("/v1/latest", params={"symbols": "GBP"}, headers={"if-none-match": tag})
        assert fresh.status_code == 200
        since = client.get("/v1/latest", params={"symbols": "USD"},
                           headers={"if-modified-since": first.headers["last-modified"]})
        assert since.status_code == 304
        # A streamed range has a weak ETag of what it is made from; a match is a 304 without the work.
        span = client.get("/v1/2026-03-01..2026-03-10")
        assert span.headers["etag"].startswith('W/"')
        assert client.get("/v1/2026-03-01..2026-03-10", headers={"if-none-match": span.headers["etag"]}).status_code == 304


def test_gzip_and_cors(site):
    served, _ = site
    raw = httpx.get(f"{served.url}/v1/currencies", headers={"accept-encoding": "gzip", "origin": "https://example.org"},
                    timeout=30)
    assert raw.headers["content-encoding"] == "gzip" and raw.headers["access-control-allow-origin"] == "*"
    plain = httpx.get(f"{served.url}/v1/currencies", headers={"accept-encoding": "identity"}, timeout=30)
    assert "content-encoding" not in plain.headers and raw.json() == plain.json()
    assert gzip.compress(plain.content)  # the plain one is the same JSON, uncompressed
    preflight = httpx.options(f"{served.url}/v1/latest", headers={
        "origin": "https://example.org", "access-control-request-method": "GET",
        "access-control-request-headers": "if-none-match"}, timeout=30)
    assert preflight.status_code == 200 and "GET" in preflight.headers["access-control-allow-methods"]
    assert httpx.post(f"{served.url}/v1/latest", timeout=30).status_code == 405


def test_the_page_and_charts_with_caching_and_nothing_outside_the_folder(site, tmp_path):
    served, charts = site
    page = httpx.get(f"{served.url}/", timeout=30)
    assert page.status_code == 200 and "<table" in page.text
    assert max_age(page) > 0 and page.headers["etag"] and page.headers["last-modified"]
    assert httpx.get(f"{served.url}/", headers={"if-none-match": page.headers["etag"]}, timeout=30).status_code == 304
    image = httpx.get(f"{served.url}/latest/usd-30.png", timeout=30)
    assert image.status_code == 200 and image.content.startswith(b"\x89PNG")
    dated = httpx.get(f"{served.url}/2026-03-16/usd-30.png", timeout=30)
    assert dated.content == image.content and "max-age=" in dated.headers["cache-control"]
    # A symlink out of the folder, and .. in the path, raw as a client can send it.
    (charts / "escape").symlink_to("/etc")
    secret = tmp_path / "secret.txt"
    secret.write_text("secret")
    (charts / "secret.txt").symlink_to(secret)
    try:
        for path in ("/escape/passwd", "/secret.txt", "/../../../../etc/passwd", "/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
                     "/latest/..%2f..%2f..%2fetc%2fpasswd"):
            host, port = served.url.removeprefix("http://").split(":")
            conn = http.client.HTTPConnection(host, int(port), timeout=30)
            conn.request("GET", path)
            answer = conn.getresponse()
            body = answer.read()
            conn.close()
            assert answer.status == 404, (path, answer.status)
            assert b"root:" not in body and b"secret" not in body
    finally:
        (charts / "escape").unlink()
        (charts / "secret.txt").unlink()


def test_in_chromium_the_page_loads_from_the_server_with_every_image(site):
    from playwright.sync_api import sync_playwright

    served, charts = site
    expected = len(list((charts / "latest").glob("*.png")))
    with sync_playwright() as playwright, tempfile.TemporaryDirectory() as profile:
        context = playwright.chromium.launch_persistent_context(profile, executable_path=BROWSER, headless=True,
                                                                args=FLAGS, timeout=60_000)
        try:
            tab = context.new_page()
            tab.goto(f"{served.url}/", wait_until="load", timeout=30_000)
            tab.evaluate("""async () => {
                for (let y = 0; y < document.body.scrollHeight; y += innerHeight / 2) {
                    window.scrollTo(0, y);
                    await new Promise(done => setTimeout(done, 50));
                }
            }""")
            tab.wait_for_function("[...document.images].every(i => i.complete && i.naturalWidth > 0)", timeout=30_000)
            images = tab.evaluate("[...document.images].map(i => [i.currentSrc, i.naturalWidth])")
        finally:
            context.close()
    assert len(images) == expected == 7
    assert all(src.startswith(served.url) and width > 0 for src, width in images), images


def test_503_until_the_daemon_has_written_then_rates(tmp_path):
    (tmp_path / "db").mkdir()
    database = tmp_path / "db" / "rates.sqlite"  # not there yet
    with serving(tmp_path, database) as served:
        for path in ("/v1/latest", "/api/rates/today", "/metrics", "/v2/rates"):
            response = httpx.get(f"{served.url}{path}", timeout=30)
            assert response.status_code == 503, path
            assert "no rates to serve yet" in response.json()["message"] and response.headers["retry-after"] == "60"
            assert response.headers["cache-control"] == "no-store"
        with recorded_server(today="2026-03-17") as nbrb:
            config = write_config(tmp_path / "db", nbrb.url)
            result = CliRunner().invoke(cli, ["--config", str(config), "backfill", "--since", "2026-03-16",
                                              "--until", "2026-03-17", "--currency", "USD"], catch_exceptions=False)
            assert result.exit_code == 0, result.output
        answer = httpx.get(f"{served.url}/v1/latest", params={"from": "USD", "to": "BYN"}, timeout=30)
    assert answer.status_code == 200 and answer.json()["rates"] == {"BYN": 2.9463}


def test_answers_stay_right_while_a_backfill_writes_beside_them(tmp_path, recorded_db):
    from support.nbrb_data import synthetic_server

    database = tmp_path / "rates.sqlite"
    shutil.copy(recorded_db, database)
    (tmp_path / "server").mkdir()
    with synthetic_server(since="2024-02-01", until="2026-02-28") as nbrb, serving(tmp_path / "server", database) as served:
        config = write_config(tmp_path, nbrb.url, database={"path": json.dumps(str(database))})
        # Two years of rates the recorded database lacks, written beside the server's answers.
        codes = [arg for code in ("USD", "EUR", "RUB", "PLN", "CNY", "GBP") for arg in ("--currency", code)]
        backfill = subprocess.Popen([sys.executable, str(PINNED), "2026-03-17T10:00", "--config", str(config),
                                     "backfill", "--since", "2024-02-01", "--until", "2026-02-28", *codes],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        seen, failures = 0, []
        deadline = time.monotonic() + 240
        with httpx.Client(base_url=served.url, timeout=30) as client:
            while backfill.poll() is None and time.monotonic() < deadline:
                day = client.get("/v1/2024-01-10", params={"from": "USD", "to": "BYN"})
                native = client.get("/api/rates/2026-03-17")
                if day.status_code != 200 or day.json()["rates"] != {"BYN": 3.1949} or native.status_code != 200:
                    failures.append((day.status_code, day.text, native.status_code))
                seen += 1
            assert backfill.wait(timeout=max(1, deadline - time.monotonic())) == 0, backfill.stderr.read()
            after = client.get("/v1/2025-06-30", params={"from": "USD", "to": "BYN"})
    assert seen > 5 and not failures, failures[:3]
    stored = json.loads(subprocess.run(
        [sys.executable, str(PINNED), "2026-03-17T10:00", "--config", str(config), "rate", "USD", "--date",
         "2025-06-30", "--json"], capture_output=True, text=True, timeout=60, check=True).stdout)
    assert after.status_code == 200 and after.json()["date"] == "2025-06-30"
    assert after.json()["rates"]["BYN"] == float(stored["rate"])


def test_a_damaged_database_is_a_503_without_traceback_or_sql(tmp_path):
    database = tmp_path / "rates.sqlite"
    database.write_bytes(b"SQLite format 3\x00" + b"\xff" * 4096)
    with serving(tmp_path, database) as served:
        response = httpx.get(f"{served.url}/v1/latest", timeout=30)
    assert response.status_code == 503 and response.headers["content-type"].startswith("application/json")
    text = response.text.lower()
    assert "traceback" not in text and "select" not in text and "sqlite_master" not in text


def test_the_command_line_refuses_a_bad_port_and_a_port_in_use(tmp_path, recorded_db):
    config = write_config(tmp_path, "http://127.0.0.1:9", database={"path": json.dumps(str(recorded_db))})
    bad = CliRunner().invoke(cli, ["--config", str(config), "serve", "--port", "70000"])
    assert bad.exit_code == 2 and "70000" in bad.output
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    port = busy.getsockname()[1]
    try:
        done = subprocess.run([sys.executable, "-m", "ticker", "--config", str(config), "serve", "--port", str(port)], capture_output=True, text=True, timeout=60)
    finally:
        busy.close()
    assert done.returncode == 1
    assert done.stderr.strip() == f"Error: cannot listen on 127.0.0.1:{port}: Address already in use"


def test_other_commands_never_import_the_web_libraries(recorded_db):
    code = ("import sys; from click.testing import CliRunner; from ticker.cli import cli; "
            f"r = CliRunner().invoke(cli, ['--db', {str(recorded_db)!r}, 'rate', 'USD', '--date', '2024-01-10']); "
            "assert r.exit_code == 0, r.output; "
            "print(sorted(m for m in ('starlette', 'uvicorn', 'prometheus_client', 'ticker.serve') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.strip() == "[]"


def test_the_server_answers_concurrent_clients(site):
    served, _ = site
    results = []

    def ask():
        with httpx.Client(base_url=served.url, timeout=30) as client:
            for _ in range(20):
                results.append(client.get("/v1/latest", params={"symbols": "USD"}).json()["rates"]["USD"])

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(results) == 160 and len(set(results)) == 1
