"""`ticker serve` as a real process for the tests, and Frankfurter's OpenAPI documents as a validator.

The server runs the real CLI with "now" pinned (pinned.py) on a free port (port 0: it says which
on its first line), and every wait has a deadline.
"""

import contextlib
import json
import queue
import re
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from . import write_config
from .nbrb_data import shared_dir

PINNED = Path(__file__).resolve().parent / "pinned.py"
STARTED = re.compile(r"^ticker serve: (http://\S+?)/ ")


@dataclass
class Served:
    url: str
    process: subprocess.Popen
    log: list[str]  # every line the server wrote on stderr so far
    config: Path


@contextlib.contextmanager
def serving(folder: Path, database: Path, now: str = "2026-03-17T10:00", env=None, start: float = 60, **sections):
    """A `ticker serve` process over `database` with the clock at the Minsk time `now`, until the block ends.

    `sections` override the config's ([charts] dir, say); its exit status must be 0 after SIGTERM.
    """
    settings = {"database": {"path": json.dumps(str(database))}, "serve": {"port": "0"}}
    for name, keys in sections.items():
        settings.setdefault(name, {}).update(keys)
    config = write_config(folder, "http://127.0.0.1:9", **settings)
    process = subprocess.Popen([sys.executable, str(PINNED), now, "--config", str(config), "serve"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
    lines: queue.Queue = queue.Queue()
    log: list[str] = []

    def read():
        for line in process.stderr:
            log.append(line.rstrip("\n"))
            lines.put(line)
        lines.put(None)

    threading.Thread(target=read, daemon=True).start()
    deadline = time.monotonic() + start
    url = None
    while url is None:
        try:
            line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
        except queue.Empty:
            line = ""
        if line is None:
            raise AssertionError(f"ticker serve exited with {process.wait(timeout=10)}: {log}")
        found = STARTED.match(line or "")
        if found:
            url = found[1]
        elif time.monotonic() > deadline:
            process.kill()
            raise AssertionError(f"ticker serve did not start within {start} s: {log}")
    try:
        yield Served(url, process, log, config)
    finally:
        if process.poll() is None:
            process.terminate()
        try:
            status = process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            raise AssertionError("ticker serve did not stop within 30 s of SIGTERM") from None
    assert status == 0, (status, log)
    assert not any("Traceback" in line for line in log), log


# -- Frankfurter's OpenAPI documents, read in place -------------------------------------------

FRANKFURTER = shared_dir() / "frankfurter"
HOST = "https://api.frankfurter.dev"  # the documents' server: each request's path is checked under it


def frankfurter_document(version: str, codes=()) -> dict:
    """Frankfurter's OpenAPI document for `version` ("v1" or "v2"), read with decimal numbers.

    v1 names its currencies in an enum (the ECB's 31); `codes`, the currencies ticker serves (BYN,
    RUB, UAH ...), are added to it, and that enum is the only thing changed.
    """
    document = json.loads((FRANKFURTER / f"openapi-{version}.json").read_text(encoding="utf-8"), parse_float=Decimal)
    if codes:
        enum = document["components"]["schemas"]["base"]["enum"]
        document["components"]["schemas"]["base"]["enum"] = sorted(set(enum) | set(codes))
    return document


class Validator:
    """openapi-core over one OpenAPI document: each real answer against its path and status.

    JSON is read with decimal numbers, so `multipleOf: 1e-05` is judged on the digits sent (a binary
    float makes 1.8004 / 0.00001 come out as 180039.99999999997).
    """

    def __init__(self, document: dict, base: str):
        from openapi_core import Config, OpenAPI

        def decimals(body: bytes):
            return json.loads(body, parse_float=Decimal)

        self.api = OpenAPI.from_dict(document, config=Config(
            extra_media_type_deserializers={"application/json": decimals}))
        self.base = base  # the documents' path prefix: /v1, /v2, or "" for ticker's own

    def check(self, response, template: str) -> None:
        """Raise unless `response` (an httpx.Response) is valid for `template` (a path of the document)
        and its status there."""
        self.api.validate_response(_Asked(response, self.base + template), _Answered(response))


class _Asked:
    """openapi-core's Request protocol for the request behind an httpx.Response, under the document's server."""

    def __init__(self, response, pattern: str):
        from openapi_core.datatypes import RequestParameters
        from werkzeug.datastructures import ImmutableMultiDict

        self.host_url = HOST
        self.path = response.request.url.path
        self.path_pattern = pattern
        self.method = response.request.method.lower()
        self.parameters = RequestParameters(query=ImmutableMultiDict(response.request.url.params.multi_items()))
        self.content_type, self.body = "", None


class _Answered:
    def __init__(self, response):
        from werkzeug.datastructures import Headers

        self.status_code = response.status_code
        self.headers = Headers(list(response.headers.items()))
        self.data = response.content
        self.content_type = response.headers.get("content-type", "").split(";")[0].strip()
