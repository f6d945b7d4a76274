"""HTTP for the sources: one attempt at a time, each bounded in time and size, retried by urllib3's
Retry policy, TLS always verified, redirects checked, JSON answers checked before a source reads them.

Every attempt has one deadline, the source's `timeout`, for everything: connecting, the headers,
every redirect and the whole body. An answer that trickles, its headers or its body, is cut off at
the deadline (its socket is shut down, which wakes the read) and counts as a timeout. A body larger
than `max_bytes` is refused as damaged while it is read, never held whole.

Retries: urllib3's Retry decides, as in urllib3 itself: which failures are retried (connection
errors, timeouts, 429 and 5xx, and answers a check calls damaged), the one budget a request has
(`retries`) and the backoff before each retry (Retry-After honoured, capped at 60 s). The waiting
is ours: `Client.json` sleeps it, but inside `deferred()` it raises `Backoff` instead, so that a
pool of workers gives the worker to another request and asks this one again, from the same Retry
state, when its wait is over. Each retry is logged once, at DEBUG, in our words.

Redirects are followed by hand: never from https to http, never to a host other than the API
root's unless the source's `redirect_hosts` names it; credentials in the root URL go only to its
own host. Credentials are masked in every message (errors.masked).

Each thread gets a requests.Session of its own, because requests does not promise that one Session
is safe to share between threads (psf/requests#2766; its maintainers advise one per thread,
psf/requests#1871).
"""

import json
import logging
import re
import socket
import threading
import time
from contextlib import contextmanager
from decimal import Decimal
from functools import cache
from urllib.parse import urljoin, urlsplit

from ..errors import BadResponse, DamagedResponse, Interrupted, SourceUnavailable, masked

log = logging.getLogger("ticker.http")

RETRY_STATUSES = (429, 500, 502, 503, 504)
REDIRECTS = (301, 302, 303, 307, 308)
MAX_REDIRECTS = 5
RETRY_AFTER_CAP = 60  # seconds; urllib3 would otherwise honour hours
MAX_BYTES = 64 * 2**20  # an answer's limit by default: NBRB's largest (the catalogue) is about 0.2 MB
CHUNK = 64 * 1024
BOM = "\ufeff"  # RFC 8259 lets a parser ignore a byte-order mark before JSON
XML_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")
XML_ENCODING = re.compile(rb"^\s*<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z][A-Za-z0-9._-]*)[\"']")
CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9._:-]+)", re.I)
USER_AGENT = "byn-ticker (+https://pypi.org/project/byn-ticker/)"

# Set by the daemon when it stops: a wait before a retry ends at once and raises Interrupted.
STOP = threading.Event()
_local = threading.local()  # per thread: its Session, and whether retries are deferred


def limits(section) -> dict:
    """A Client's bounds as a source's config section sets them: the largest answer and the other
    hosts a redirect may lead to."""
    return {"max_bytes": int(section.max_answer_mb * 2**20), "redirect_hosts": tuple(section.redirect_hosts)}


class Backoff(Exception):
    """Raised instead of waiting before a retry, inside `deferred()`: ask again in `seconds`, from
    `retry`; `error` is what the request failed with, should it never be asked again."""

    def __init__(self, seconds: float, retry, error: Exception):
        super().__init__(f"retry in {seconds:g} s")
        self.seconds, self.retry, self.error = seconds, retry, error


@contextmanager
def deferred(retry=None):
    """In this thread, raise Backoff where a request would wait before a retry; the first request
    made inside starts from `retry` (a Backoff's), the state of an earlier attempt."""
    _local.deferring, _local.resume = True, retry
    try:
        yield
    finally:
        _local.deferring, _local.resume = False, None


def policy(retries: int, backoff: float):
    """The Retry state a new request starts from (urllib3's Retry, which never sleeps here)."""
    from urllib3.util.retry import Retry

    return Retry(
        total=retries, connect=retries, read=retries, status=retries,
        other=0,  # never retry a TLS verification failure, nor anything unforeseen
        backoff_factor=backoff, status_forcelist=RETRY_STATUSES, allowed_methods=("GET",),
        respect_retry_after_header=True, retry_after_max=RETRY_AFTER_CAP, raise_on_status=False,
    )


class _Retry(Exception):
    """One attempt failed in a way worth retrying: the urllib3 error or response to count, and why."""

    def __init__(self, reason: str, error=None, response=None, url: str = ""):
        super().__init__(reason)
        self.reason, self.error, self.response, self.url = reason, error, response, url


class Client:
    """GETs from one source's API root. Every failure is a SourceUnavailable or a BadResponse (a
    DamagedResponse when the answer was damaged, after its retries) naming the source, the URL and
    the reason, with `hint` on what a person can do."""

    def __init__(self, source: str, base_url: str, timeout: float, retries: int, backoff: float, hint: str,
                 max_bytes: int = MAX_BYTES, redirect_hosts=()):
        self.source = source
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.hint = hint
        self.max_bytes = max_bytes
        root = urlsplit(self.base_url)
        self._origin = (root.hostname, root.port)
        self._hosts = {root.hostname, *(h.lower() for h in redirect_hosts)}
        self._retries, self._backoff = retries, backoff

    @property
    def _http(self):
        """This thread's session, made on its first request (it holds nothing of one client's)."""
        http = getattr(_local, "session", None)
        if http is None:
            import requests

            http = _local.session = requests.Session()
            http.verify = True
            for adapter in http.adapters.values():
                adapter.poolmanager.pool_classes_by_scheme = _pools()
            http.headers["User-Agent"] = USER_AGENT
        return http

    def json(self, path: str, check=None, **params):
        """(the URL answered, what `check(url, body)` returns, or the parsed body), with numbers that
        have a fraction parsed as Decimal.

        `check` raises DamagedResponse for a damaged body (retried, as the JSON checks here are) or
        BadResponse for a well-formed one that is wrong (not retried: it would be wrong again).
        """
        def parse(url, body, kind):
            if "json" not in kind:
                raise DamagedResponse(self.source, f"{url}: expected JSON, got {kind or 'no content type'}: "
                                                   f"{snippet(body.decode('utf-8', errors='replace'))}")
            try:
                parsed = json.loads(body.decode("utf-8").removeprefix(BOM), parse_float=Decimal)
            except ValueError as exc:  # UnicodeDecodeError included: JSON is UTF-8 (RFC 8259)
                raise DamagedResponse(self.source, f"{url}: malformed JSON ({exc})") from None
            return check(url, parsed) if check else parsed

        return self.get(path, parse, **params)

    def xml(self, path: str, check=None, **params):
        """(the URL answered, what `check(url, root)` returns, or the root element of its XML body),
        parsed by defusedxml: an answer that declares entities or refers to external ones is refused
        (BadResponse), never expanded.

        The body is read in the encoding its byte-order mark or XML declaration names, else in the
        charset of its Content-Type, else as UTF-8: the declaration is written with the document,
        where a PHP feed's Content-Type is often the server's default. Any content type is taken
        (no bank's is recorded), but an HTML page, a body that is not well-formed XML (cut short,
        empty) or not in its encoding is damaged, and retried; `check` as for `json`.
        """
        def parse(url, body, kind):
            root = self._xml(url, body, kind or "no content type")
            return check(url, root) if check else root

        return self.get(path, parse, **params)

    def _xml(self, url: str, body: bytes, kind: str):
        from xml.etree.ElementTree import ParseError

        import defusedxml
        from defusedxml.ElementTree import fromstring

        shown = snippet(body.decode("utf-8", errors="replace"))
        charset = CHARSET.search(kind)
        try:
            if body.startswith(XML_BOMS) or XML_ENCODING.match(body) or not charset:
                root = fromstring(body)  # expat reads the BOM or the declaration itself; UTF-8 otherwise
            else:
                root = fromstring(body.decode(charset.group(1)))
        except defusedxml.DefusedXmlException as exc:
            raise BadResponse(self.source, f"{masked(url)}: the XML declares entities or refers to external ones"
                                           f" ({type(exc).__name__}); refused unread") from None
        except LookupError:
            raise BadResponse(self.source, f"{masked(url)}: unknown charset {charset.group(1)!r} ({kind})") from None
        except UnicodeDecodeError as exc:
            raise DamagedResponse(self.source, f"{masked(url)}: the answer is not {exc.encoding} as its {kind} says:"
                                               f" {shown}") from None
        except (ParseError, ValueError) as exc:
            if body.lstrip()[:14].lower().startswith((b"<!doctype html", b"<html")):  # whatever its content type says
                raise DamagedResponse(self.source, f"{masked(url)}: expected XML, got {kind}: {shown}") from None
            if not body.strip():
                raise DamagedResponse(self.source, f"{masked(url)}: the answer is empty ({kind})") from None
            raise DamagedResponse(self.source, f"{masked(url)}: malformed XML ({exc})") from None
        if tag(root).lower() == "html":
            raise DamagedResponse(self.source, f"{masked(url)}: expected XML, got an HTML page ({kind}): {shown}")
        return root

    def get(self, path: str, read, **params):
        """(the URL answered, `read(url, body bytes, content type)`), retried as `json` is."""
        from requests.models import PreparedRequest

        retry = getattr(_local, "resume", None) or policy(self._retries, self._backoff)
        _local.resume = None  # only the first request of a deferred call resumes
        asked = PreparedRequest()
        asked.prepare_url(self.base_url + path, params)
        url = asked.url
        while True:
            try:
                answered, body, kind = self._attempt(url)
                return answered, read(answered, body, kind)
            except DamagedResponse as exc:
                # "{source} sent a damaged response: {URL answered}: {reason}"
                where, _, reason = str(exc).removeprefix(f"{DamagedResponse.__doc__.format(source=self.source)}: "
                                                         ).partition(": ")
                failure = _Retry(reason, url=where)
            except _Retry as exc:
                failure = exc
            retry, wait = self._again(retry, failure)
            if getattr(_local, "deferring", False):
                kind = DamagedResponse if failure.error is None and failure.response is None else SourceUnavailable
                raise Backoff(wait, retry, kind(self.source, f"{masked(failure.url)}: {failure.reason}; {self.hint}"))
            if STOP.wait(wait):
                raise Interrupted("stopping")

    def _again(self, retry, failure: "_Retry"):
        """(the Retry state after this failure, the seconds to wait); the final error when none is left."""
        from urllib3.exceptions import MaxRetryError

        url = failure.url
        try:
            new = retry.increment("GET", url, response=failure.response, error=failure.error)
        except MaxRetryError:
            tries = len(retry.history)
            after = f", still after {tries} retr{'y' if tries == 1 else 'ies'}" if tries else ""
            shown = f"{masked(url)}: {failure.reason}{after}; {self.hint}"
            if failure.error is None and (failure.response is None or failure.response.status == 200):
                raise DamagedResponse(self.source, shown) from None
            raise SourceUnavailable(self.source, shown) from None
        wait = new.get_retry_after(failure.response) if failure.response is not None else None
        wait = wait if wait else new.get_backoff_time()
        budget = len(new.history) + (new.total if isinstance(new.total, int) else 0)
        log.debug("retry %d of %d in %g s: %s: %s", len(new.history), budget, wait, masked(url), failure.reason)
        return new, wait

    def _attempt(self, url: str) -> tuple[str, bytes, str]:
        """One GET, its redirects and its body within one deadline: (URL answered, body, content type).

        Raises _Retry for what the policy may retry, BadResponse or SourceUnavailable otherwise.
        """
        import requests
        from urllib3.exceptions import ProtocolError, ReadTimeoutError

        deadline = time.monotonic() + self.timeout
        # At the deadline the timer shuts down the connection in use, whatever is being read: the
        # status line and headers (a trickle of them too), or the body.
        attempt, cut = _Attempt(), threading.Event()
        timer = threading.Timer(self.timeout, _shut, (attempt, cut))
        timer.daemon = True
        _local.attempt = attempt
        timer.start()
        try:
            for _ in range(MAX_REDIRECTS + 1):
                left = deadline - time.monotonic()
                late = _Retry(f"no answer within {self.timeout:g} s", ReadTimeoutError(None, url, "deadline"), url=url)
                if left <= 0 or cut.is_set():
                    raise late
                try:
                    response = self._http.get(url, timeout=(min(left, 10), left), stream=True, allow_redirects=False,
                                              auth=self._auth(url))
                except requests.exceptions.SSLError as exc:
                    if cut.is_set():
                        raise late from None
                    raise SourceUnavailable(self.source, f"{masked(url)}: TLS verification failed ({_reason(exc)}); {self.hint}") from None
                except requests.exceptions.Timeout as exc:
                    raise _Retry(f"no answer within {self.timeout:g} s", _cause(exc) or ReadTimeoutError(None, url, ""),
                                 url=url) from None
                except requests.exceptions.RequestException as exc:
                    if cut.is_set():
                        raise late from None
                    raise _Retry(_reason(exc), _cause(exc) or ProtocolError(str(exc)), url=url) from None
                with response:
                    if response.status_code in REDIRECTS and response.headers.get("Location"):
                        url = self._redirect(response.url, response.headers["Location"])
                        continue
                    body = self._read(response, cut)
                    if response.status_code != 200:
                        detail = f"HTTP {response.status_code}{_problem_title(body)}"
                        if response.status_code in RETRY_STATUSES:
                            raise _Retry(detail, response=response.raw, url=response.url)
                        raise BadResponse(self.source, f"{masked(response.url)}: {detail}")
                    return response.url, body, response.headers.get("Content-Type", "")
            raise BadResponse(self.source, f"{masked(url)}: more than {MAX_REDIRECTS} redirects")
        finally:
            timer.cancel()
            _local.attempt = None

    def _auth(self, url: str):
        """The root URL's credentials, for its own host only: a redirect elsewhere never gets them."""
        from requests.utils import get_auth_from_url

        parts = urlsplit(url)
        if (parts.hostname, parts.port) != self._origin:
            return None
        user, password = get_auth_from_url(self.base_url)
        return (user, password) if user or password else None

    def _redirect(self, current: str, location: str) -> str:
        """Where a redirect leads, if ticker may follow it: https stays https, and the host is the
        root's (or one of `redirect_hosts`); otherwise a BadResponse naming both URLs."""
        target = urljoin(current, location)
        here, there = urlsplit(current), urlsplit(target)
        problem = None
        if there.scheme not in ("http", "https"):
            problem = f"to a {there.scheme or 'relative'} URL"
        elif here.scheme == "https" and there.scheme != "https":
            problem = "from https to http"
        elif (there.hostname or "").lower() not in self._hosts:
            problem = (f"to another host ({there.hostname}); name it in the source's redirect_hosts in the config"
                       " if it is the source's own")
        if problem:
            raise BadResponse(self.source, f"refused a redirect {problem}: {masked(current)} -> {masked(target)}")
        return target

    def _read(self, response, cut: threading.Event) -> bytes:
        """The body, read until the attempt's deadline (`cut` set) and within the size limit
        (DamagedResponse past it)."""
        import requests

        size = response.headers.get("Content-Length", "")
        if size.isdigit() and int(size) > self.max_bytes:
            raise DamagedResponse(self.source, f"{masked(response.url)}: the answer is {int(size):,} bytes, over the"
                                               f" limit of {self.max_bytes:,}")
        chunks, read = [], 0
        try:
            for chunk in response.iter_content(CHUNK):
                read += len(chunk)
                if read > self.max_bytes:
                    raise DamagedResponse(self.source, f"{masked(response.url)}: the answer is over the limit of"
                                                       f" {self.max_bytes:,} bytes")
                chunks.append(chunk)
                if cut.is_set():
                    break
        except requests.exceptions.RequestException as exc:
            if not cut.is_set():
                raise DamagedResponse(self.source, f"{masked(response.url)}: the answer broke off ({_reason(exc)})") from None
        if cut.is_set():
            from urllib3.exceptions import ReadTimeoutError

            raise _Retry(f"no whole answer within {self.timeout:g} s ({read:,} bytes had come)",
                         ReadTimeoutError(None, response.url, "deadline"), url=response.url)
        return b"".join(chunks)


class _Attempt:
    """One attempt's connection, as its pool hands it over (`_pools`): what its deadline shuts down."""

    connection = None


@cache
def _pools() -> dict:
    """urllib3's pools for a Session, each telling this thread's running attempt which connection it
    took: requests returns only after the headers, so the attempt cannot learn it from the response."""
    from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

    class Told:
        def _get_conn(self, timeout=None):
            connection = super()._get_conn(timeout)
            attempt = getattr(_local, "attempt", None)
            if attempt is not None:
                attempt.connection = connection
            return connection

    return {"http": type("TimedPool", (Told, HTTPConnectionPool), {}),
            "https": type("TimedTLSPool", (Told, HTTPSConnectionPool), {})}


def _shut(attempt: _Attempt, cut: threading.Event) -> None:
    """At the deadline: shut the socket down, which wakes a read blocked on it (close would not)."""
    cut.set()
    sock = getattr(attempt.connection, "sock", None)
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def _cause(exc: Exception):
    """The urllib3 error inside a requests one, which urllib3's Retry counts by its type."""
    from urllib3.exceptions import HTTPError, MaxRetryError

    for arg in exc.args:
        if isinstance(arg, MaxRetryError):
            return arg.reason
        if isinstance(arg, HTTPError):
            return arg
    return None


def tag(element) -> str:
    """An element's name without its namespace: "{http://www.w3.org/1999/xhtml}html" -> "html"."""
    return element.tag.rsplit("}", 1)[-1] if isinstance(element.tag, str) else ""


def snippet(text: str) -> str:
    """The start of a body, on one line, for an error message."""
    return " ".join(text.split())[:80]


def _problem_title(body: bytes) -> str:
    try:
        return f" {json.loads(body)['title']}"
    except (ValueError, KeyError, TypeError):
        return ""


def _reason(exc: Exception) -> str:
    """The innermost cause of a requests or urllib3 error, in a few words, without urllib3's pool repr."""
    text = str(exc)
    # Quotes may be part of the reason ("... is not valid for '127.0.0.3'."), so only ( ) " end it.
    ssl = re.search(r"(certificate verify failed: [^()\"]+|wrong version number|SSLV3_ALERT[^'\")]+|"
                    r"hostname '[^']+' doesn't match [^)'\"]+|self[- ]signed certificate[^'\")]*)", text)
    if ssl:
        return ssl.group(1).strip().rstrip(".")
    found = re.findall(r"\[Errno -?\d+\] ([^'\")]+)", text)
    if found:
        return found[-1].strip()
    if "RemoteDisconnected" in text or "Connection aborted" in text or "reset" in text:
        return "connection closed by the server"
    if "IncompleteRead" in text or "InvalidChunkLength" in text:
        return "connection closed mid-answer"
    return masked(text.splitlines()[0][:200]) if text else type(exc).__name__
