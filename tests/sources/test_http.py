"""The HTTP client's bounds, through the real `ticker` process against hostile local servers
(support.hostile): a trickling answer, a flood, redirects over TLS with a local certificate
authority the process is told to trust (REQUESTS_CA_BUNDLE), TLS errors, and credentials in the
API root that must show nowhere.

"Now" is pinned (support/pinned.py) at 2026-03-17 10:00 in Minsk, the recordings' last day.
"""

import base64
import os
import re
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest
from support import hostile, write_config
from support.daemon import PINNED, Running
from support.nbrb_data import recorded_server

USD = "2026-03-17  1 USD = 2.9463 BYN  new\n"  # the recorded rate, as `ticker fetch` shows it
FIRST = "/exrates/rates?ondate=2026-03-17&periodicity=0"  # what `ticker fetch` asks first
HINT = "set nbrb.base_url in the config to use a mirror or proxy"


def ticker(config: Path, *args, env=None, timeout: float = 120) -> subprocess.CompletedProcess:
    """The real CLI, "now" pinned, its stdin closed."""
    return subprocess.run([*PINNED, "--config", str(config), *args], capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL, env={**os.environ, **(env or {})})


def config_for(folder: Path, url: str, **nbrb) -> Path:
    return write_config(folder, url, nbrb={"base_url": f'"{url}"', "timeout": "1", "retries": "2", "backoff": "0.05",
                                           **nbrb}, track={"currencies": '["USD"]', "since": "2026-03-01"})


def stored(config: Path) -> tuple[int, int]:
    """(rates, catalogue records) in the config's database; (0, 0) when there is none."""
    path = config.parent / "rates.sqlite"
    if not path.exists():
        return 0, 0
    with sqlite3.connect(path) as conn:
        return tuple(conn.execute("SELECT count(*) FROM " + t).fetchone()[0] for t in ("rates", "currencies"))


@pytest.fixture(scope="module")
def tls(tmp_path_factory) -> hostile.Authority:
    return hostile.authority(tmp_path_factory.mktemp("ca"))


@pytest.fixture
def nbrb_tls(tls):
    """The recorded NBRB fake, over https with a certificate of the local authority."""
    server = recorded_server(today="2026-03-17")
    server.tls = tls.context()
    with server:
        yield server


def trusting(tls) -> dict:
    return {"REQUESTS_CA_BUNDLE": str(tls.ca)}


# -- time: one deadline for each attempt ----------------------------------------------------------


@pytest.mark.parametrize("headers_too", [False, True], ids=["body", "headers"])
def test_an_answer_that_trickles_is_abandoned_at_the_timeout_and_retried_like_one(tmp_path, headers_too):
    # A byte each half second: every read is quick, so only a deadline for the whole attempt ends
    # it; the whole answer would take 100 s (and its headers already 40 s).
    with hostile.serving(hostile.trickle(0.5, 200, headers_too)) as (url, asked):
        config = config_for(tmp_path, url)
        started = time.monotonic()
        done = ticker(config, "fetch", timeout=200)
        took = time.monotonic() - started
    assert (done.returncode, done.stdout) == (1, "")
    why = r"no whole answer within 1 s \(\d+ bytes had come\)" if not headers_too else r"no answer within 1 s"
    # The day's list, asked once with its two retries: 1 s each, the backoff and the start-up.
    assert [path for path, _ in asked] == [FIRST] * 3
    assert re.fullmatch(rf"Error: Could not reach NBRB: {url}{re.escape(asked[0][0])}: {why}, still after 2 retries; "
                        rf"{HINT}\n", done.stderr), done.stderr
    assert took < 3 * 1 + 0.15 + 10, took  # far below the 40 s a per-read timeout alone would allow
    assert stored(config) == (0, 0)
    print(f"trickle ({'headers' if headers_too else 'body'}): the fetch ended after {took:.2f} s")


def wait4(proc: subprocess.Popen, timeout: float) -> tuple[int, int]:
    """(exit status, peak resident memory in kB) of a child, from the kernel's own account (wait4)."""
    deadline = time.monotonic() + timeout
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            proc.returncode = os.waitstatus_to_exitcode(status)
            return proc.returncode, usage.ru_maxrss
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError(f"the process did not end within {timeout} s")
        time.sleep(0.05)


def fetch_measured(config: Path) -> tuple[int, str, str, int]:
    """`ticker fetch`: (exit status, stdout, stderr, its peak resident memory in kB)."""
    proc = subprocess.Popen([*PINNED, "--config", str(config), "fetch"], stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    status, peak_kb = wait4(proc, 120)
    return status, proc.stdout.read(), proc.stderr.read(), peak_kb


@pytest.mark.parametrize("declared", [False, True], ids=["chunked", "content-length"])
def test_an_answer_over_max_answer_mb_is_refused_as_damaged_while_it_is_read(tmp_path, nbrb, declared):
    (tmp_path / "plain").mkdir()
    # The same command on an ordinary answer, side by side: what the process needs anyway.
    assert fetch_measured(config_for(tmp_path / "plain", nbrb.url))[:3] == (0, USD, "")
    *_, usual_kb = fetch_measured(config_for(tmp_path / "plain", nbrb.url))
    with hostile.serving(hostile.flood(200, declared)) as (url, asked):
        config = config_for(tmp_path, url, max_answer_mb="1")
        status, out, err, peak_kb = fetch_measured(config)
    assert (status, out) == (1, "")
    over = ("the answer is 209,715,200 bytes, over the limit of 1,048,576" if declared
            else "the answer is over the limit of 1,048,576 bytes")
    assert err == f"Error: NBRB sent a damaged response: {url}{FIRST}: {over}, still after 2 retries; {HINT}\n"
    assert len(asked) == 3  # damaged answers are retried, as a 5xx
    # 200 MB was on offer; the process held the 1 MB it read at most, never the answer.
    assert peak_kb < usual_kb + 16 * 1024, (peak_kb, usual_kb)
    assert stored(config) == (0, 0)
    print(f"flood ({'declared' if declared else 'chunked'}): peak RSS of `ticker fetch` {peak_kb / 1024:.1f} MB,"
          f" {usual_kb / 1024:.1f} MB on an ordinary answer")


# -- redirects, over TLS with a local certificate authority ----------------------------------------


def test_a_redirect_from_https_to_http_on_another_host_is_refused_in_one_line_naming_both(tmp_path, tls):
    target = f"http://{hostile.OTHER_HOST}:9"  # never asked: the redirect is refused before
    with hostile.serving(hostile.redirect(target), context=tls.context()) as (url, asked):
        config = config_for(tmp_path, url)
        done = ticker(config, "fetch", env=trusting(tls))
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == ("Error: NBRB sent a response that cannot be used: refused a redirect from https to http: "
                           f"{url}{FIRST} -> {target}{FIRST}\n")
    assert asked == [(FIRST, None)]  # refused, so not retried
    assert stored(config) == (0, 0)


def test_a_redirect_to_https_on_the_same_host_is_followed(tmp_path, tls, nbrb_tls):
    with hostile.serving(hostile.redirect(nbrb_tls.url, 301), context=tls.context()) as (url, asked):
        done = ticker(config_for(tmp_path, url), "fetch", env=trusting(tls))
    assert (done.returncode, done.stdout, done.stderr) == (0, USD, "")
    assert asked[0] == (FIRST, None)
    assert [path for path, _ in asked] == [f"{path}?{'&'.join(f'{k}={v}' for k, v in query.items())}".rstrip("?")
                                           for path, query in nbrb_tls.requests]  # every one, followed


def test_a_redirect_to_another_host_is_followed_only_when_redirect_hosts_names_it(tmp_path, tls, nbrb_tls):
    other = nbrb_tls.url.replace("127.0.0.1", "localhost")  # the same server, by another name
    with hostile.serving(hostile.redirect(other), context=tls.context()) as (url, asked):
        refused = ticker(config_for(tmp_path, url), "fetch", env=trusting(tls))
        assert (refused.returncode, refused.stdout) == (1, "")
        assert refused.stderr == (
            "Error: NBRB sent a response that cannot be used: refused a redirect to another host (localhost); name it"
            " in the source's redirect_hosts in the config if it is the source's own: "
            f"{url}{FIRST} -> {other}{FIRST}\n")
        assert nbrb_tls.requests == []
        allowed = ticker(config_for(tmp_path, url, redirect_hosts='["localhost"]'), "fetch", env=trusting(tls))
    assert (allowed.returncode, allowed.stdout, allowed.stderr) == (0, USD, "")
    assert stored(tmp_path / "config.toml")[0] == 1


def test_credentials_go_only_to_the_api_roots_own_host_never_along_a_redirect(tmp_path, tls, nbrb_tls):
    # The root (127.0.0.1) sends every request to localhost, which sends it on to the fake's port.
    with hostile.serving(hostile.redirect(nbrb_tls.url), context=tls.context()) as (relay, relayed), \
            hostile.serving(hostile.redirect(relay.replace("127.0.0.1", "localhost")),
                            context=tls.context()) as (root, rooted):
        url = root.replace("https://", "https://mirror:Hunter2-pass@")
        done = ticker(config_for(tmp_path, url, redirect_hosts='["localhost"]'), "fetch", env=trusting(tls))
    assert (done.returncode, done.stdout, done.stderr) == (0, USD, "")
    basic = "Basic " + base64.b64encode(b"mirror:Hunter2-pass").decode()
    assert rooted and {auth for _, auth in rooted} == {basic}
    assert relayed and {auth for _, auth in relayed} == {None}


# -- TLS errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize("case, reason", [
    ("self-signed", "certificate verify failed: self-signed certificate"),
    ("untrusted authority", "certificate verify failed: unable to get local issuer certificate"),
    ("another name", "certificate verify failed: IP address mismatch, certificate is not valid for '127.0.0.3'"),
])
def test_a_tls_error_is_one_line_with_its_reason_and_is_not_retried(tmp_path, tls, case, reason):
    # The authority's certificate names 127.0.0.1, 127.0.0.2 and localhost: not 127.0.0.3.
    host = "127.0.0.3" if case == "another name" else "127.0.0.1"
    env = {} if case == "untrusted authority" else trusting(tls)
    with hostile.serving(hostile.failing(), host=host, context=tls.context(trusted=case != "self-signed")) as (url, asked):
        done = ticker(config_for(tmp_path, url), "fetch", env=env)
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == f"Error: Could not reach NBRB: {url}{FIRST}: TLS verification failed ({reason}); {HINT}\n"
    assert asked == []  # the handshake failed: no request was sent, and none was retried


# -- credentials in the API root: masked everywhere -----------------------------------------------


@pytest.mark.parametrize("userinfo, secret, shown", [
    ("mirror:Pa55-w0rd-42", "Pa55-w0rd-42", "mirror:****@"),
    ("mirror:pa@ss-w0rd-42", "ss-w0rd-42", "mirror:****@"),  # an @ left unescaped in the password
    ("t0ken-abc123def", "t0ken-abc123def", "****@"),  # a token as the user name
], ids=["password", "password-with-@", "token"])
def test_credentials_in_base_url_show_nowhere(tmp_path, userinfo, secret, shown):
    with hostile.serving(hostile.failing(503)) as (url, asked):
        root = url.replace("http://", f"http://{userinfo}@")
        config = write_config(tmp_path, root, nbrb={"base_url": f'"{root}"', "timeout": "1", "retries": "1",
                                                    "backoff": "0.02"},
                              track={"currencies": '["USD"]', "since": "2026-03-01"},
                              schedule={"poll": '"0 3 1 1 *"', "catchup": '"0 3 1 1 *"', "retry": "600"})
        said = {"fetch": ticker(config, "fetch"), "backfill": ticker(config, "backfill")}
        daemon = Running(config, "--log-level", "debug")
        try:
            daemon.wait_for(r"^ERROR catch-up failed: ")
            daemon.wait_for(r"^INFO catch-up: retrying in 600 s$")
            assert daemon.stop(within=60) == 0
        finally:
            if daemon.proc.poll() is None:
                daemon.proc.kill()
        said["status"], said["status --json"] = ticker(config, "status"), ticker(config, "status", "--json")
    # A user and password were used: the server got them, as HTTP basic auth (requests, whose
    # get_auth_from_url ticker uses, sends no user name alone).
    user, colon, password = userinfo.partition(":")
    sent = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode() if colon else None
    assert asked and {auth for _, auth in asked} == {sent}
    masked_url = url.replace("http://", f"http://{shown}")
    for command in ("fetch", "backfill"):
        assert said[command].returncode == 1
        assert said[command].stderr == (f"Error: Could not reach NBRB: {masked_url}/exrates/"
                                        + said[command].stderr.split("/exrates/", 1)[1]), said[command].stderr
        assert "HTTP 503, still after 1 retry" in said[command].stderr
    assert said["status"].returncode == said["status --json"].returncode == 1
    assert f"{masked_url}/exrates/" in said["status"].stdout  # the last error, as recorded
    texts = {name: done.stdout + done.stderr for name, done in said.items()}
    texts["the daemon's log"] = daemon.log
    with sqlite3.connect(tmp_path / "rates.sqlite") as conn:
        texts["sqlite3 .dump"] = "\n".join(conn.iterdump())
    assert masked_url in texts["sqlite3 .dump"] and masked_url in texts["the daemon's log"]
    for name, text in texts.items():
        assert secret not in text, name
    for path in tmp_path.iterdir():  # the database, its -wal, the lock: every byte written
        if path.name != "config.toml" and path.is_file():
            assert secret.encode() not in path.read_bytes(), path.name
