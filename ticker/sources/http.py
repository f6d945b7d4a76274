"""HTTP for the sources: one session each, timeouts, capped retries with backoff, TLS always verified,
and JSON or XML answers checked before a source reads them.

Retries are urllib3's Retry, and a damaged answer (truncated or malformed JSON, a proxy's HTML page
with status 200, whatever a source's check calls damaged) is retried by the same Retry: the state
urllib3 hands back with the response is incremented for it and carried into the next attempt, so a
request has one budget (`retries`) and one backoff schedule whatever fails, the connection or the
body. Each retry is logged once, at DEBUG, in our words; urllib3's own retry warning is dropped.

A client may be used from several threads at once (a backfill asks for a few spans at a time):
each thread gets a requests.Session of its own, because requests does not promise that one
Session is safe to share between threads (psf/requests#2766; its maintainers advise one per
thread, psf/requests#1871), and the Retry carried from one attempt to the next is per thread too.

A strict client (every commercial bank's but Belarusbank's, so far) also bounds the answer's size
and follows a redirect only to the same host, never from https to http: Belgazprombank's
documented URL redirects through plain http (shared/banks/FACTS.md §4), where anyone on the way
could answer in its name.
"""

import json
import logging
import re
import threading
from decimal import Decimal
from urllib.parse import urljoin, urlsplit

from ..errors import BadResponse, DamagedResponse, SourceUnavailable

log = logging.getLogger("ticker.http")

RETRY_STATUSES = (429, 500, 502, 503, 504)
RETRY_AFTER_CAP = 60  # seconds; urllib3 would otherwise honour hours
NO_ANSWER = "no answer in time"
BOM = "\ufeff"  # RFC 8259 lets a parser ignore a byte-order mark before JSON
MAX_BODY = 8 * 2**20  # bytes a strict client reads at most: MTBank's XML, the largest known, is about 309 KB
XML_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")
XML_ENCODING = re.compile(rb"^\s*<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z][A-Za-z0-9._-]*)[\"']")
CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9._:-]+)", re.I)


def _drop_urllib3_retry_warning(record: logging.LogRecord) -> bool:
    # urllib3 marks its "Retrying (Retries(total=3, ...)) after connection broken by ..." warning
    # with this attribute; Retries.increment logs the same event in our words instead.
    return not hasattr(record, "__urllib3-retry-warning")


logging.getLogger("urllib3.connectionpool").addFilter(_drop_urllib3_retry_warning)


def _classes():
    """Retries and the adapter, defined on first use so that read-only commands never import requests."""
    global Retries, Adapter
    if "Retries" in globals():
        return Retries, Adapter
    from requests.adapters import HTTPAdapter
    from urllib3.util.retry import Retry

    class Retries(Retry):
        """urllib3's Retry, logging each retry in one line: the URL, the reason and the attempt."""

        def increment(self, method=None, url=None, response=None, error=None, _pool=None, _stacktrace=None,
                      reason=None):
            new = super().increment(method, url, response, error, _pool, _stacktrace)
            if _pool is not None and url and url.startswith("/"):
                url = f"{_pool.scheme}://{_pool.host}:{_pool.port}{url}"
            if reason is None:
                reason = _reason(error) if error is not None else f"HTTP {response.status}"
            wait = (response is not None and self.respect_retry_after_header and new.get_retry_after(response))
            wait = wait if wait else new.get_backoff_time()
            budget = len(new.history) + (new.total if isinstance(new.total, int) else 0)
            log.debug("retry %d of %d in %g s: %s: %s", len(new.history), budget, wait, url, reason)
            return new

    class Adapter(HTTPAdapter):
        """An HTTPAdapter whose Retry can be carried, in this thread, from one attempt to the next."""

        def __init__(self, retry):
            self._carried = threading.local()
            super().__init__(max_retries=retry)

        @property
        def max_retries(self):
            return getattr(self._carried, "retry", None) or self._max_retries

        @max_retries.setter
        def max_retries(self, value):
            self._max_retries = value

        def carry(self, retry) -> None:
            """The Retry state the next request in this thread starts from (None: the configured one)."""
            self._carried.retry = retry

    return Retries, Adapter


def session(retries: int, backoff: float):
    """A requests.Session retrying GETs on connection errors, read timeouts, 5xx and 429."""
    import requests

    retry_class, adapter_class = _classes()
    retry = retry_class(
        total=retries,
        connect=retries,
        read=retries,
        status=retries,
        other=0,  # never retry a TLS verification failure
        backoff_factor=backoff,
        status_forcelist=RETRY_STATUSES,
        allowed_methods=("GET",),
        respect_retry_after_header=True,
        retry_after_max=RETRY_AFTER_CAP,
        raise_on_status=False,
    )
    http = requests.Session()
    http.verify = True
    http.headers["User-Agent"] = "byn-ticker (+https://pypi.org/project/byn-ticker/)"
    adapter = adapter_class(retry)
    http.mount("https://", adapter)
    http.mount("http://", adapter)
    return http


class Client:
    """GETs JSON or XML from one source's API root; every failure is a SourceUnavailable or a
    BadResponse (a DamagedResponse when it was damaged, after its retries) naming the source, the
    URL and the reason, with `hint` on what a person can do.

    `strict`: refuse an answer over MAX_BODY bytes (decompressed) and a redirect to another host or
    from https to http (BadResponse, not retried); otherwise any redirect is followed, as requests
    does, and the body is read whole.
    """

    def __init__(self, source: str, base_url: str, timeout: float, retries: int, backoff: float, hint: str,
                 strict: bool = False):
        self.source = source
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.hint = hint
        self.strict = strict
        self._retries, self._backoff = retries, backoff
        self._local = threading.local()  # this thread's session

    @property
    def _http(self):
        """This thread's session, made on its first request."""
        http = getattr(self._local, "http", None)
        if http is None:
            http = self._local.http = session(self._retries, self._backoff)
        return http

    def json(self, path: str, check=None, **params):
        """(the URL answered, the parsed body, numbers with a fraction as Decimal).

        `check(url, body)`, when given, returns what the caller wants from the body and raises
        DamagedResponse for a damaged one (retried, as the answer's JSON checks here are) or
        BadResponse for a well-formed one that is wrong (not retried: it would be wrong again).
        """
        return self._answer(path, self._parse, check, params)

    def xml(self, path: str, check=None, **params):
        """(the URL answered, the root element of its XML body), parsed by defusedxml: an answer that
        declares entities or refers to external ones is refused (BadResponse), never expanded.

        The body is read in the encoding its byte-order mark or XML declaration names, else in the
        charset of its Content-Type, else as UTF-8: the declaration is written with the document,
        where a PHP feed's Content-Type is often the server's default. Any content type is taken
        (no bank's is recorded), but an HTML page, a body that is not well-formed XML (cut short,
        empty) or not in its encoding is damaged, and retried; `check` as for `json`.
        """
        return self._answer(path, self._xml, check, params)

    def _answer(self, path: str, parse, check, params: dict):
        """What `check` makes of `parse(response, body)`, asking again while the answer is damaged."""
        retry = None
        adapter = self._http.get_adapter(self.base_url)
        try:
            while True:
                adapter.carry(retry)
                response = self.get(path, **params)
                try:
                    parsed = parse(response, self._body(response))
                    return response.url, check(response.url, parsed) if check else parsed
                except DamagedResponse as exc:
                    retry = self._again(response, exc)
        finally:
            adapter.carry(None)

    def _again(self, response, damage: DamagedResponse):
        """The Retry state for the next attempt after a damaged answer; the error itself when none is left."""
        from urllib3.exceptions import MaxRetryError

        state = response.raw.retries if response.raw is not None else None
        if state is None:
            raise damage
        url = response.url
        reason = str(damage).split(": ", 1)[-1].removeprefix(f"{url}: ")
        try:
            retry = state.increment("GET", url, response=response.raw, reason=reason)
        except MaxRetryError:
            tries = len(state.history)
            after = f", still after {tries} retr{'y' if tries == 1 else 'ies'}; {self.hint}" if tries else ""
            raise DamagedResponse(self.source, f"{url}: {reason}{after}") from None
        retry.sleep()
        return retry

    def _body(self, response) -> bytes:
        """The body; one that breaks off is a DamagedResponse, retried like the rest."""
        import requests

        try:
            if not self.strict:
                return response.content
            return self._bounded(response)
        except requests.exceptions.RequestException as exc:
            raise DamagedResponse(self.source, f"{response.url}: the answer broke off ({self._reason(exc)})") from None

    def _bounded(self, response) -> bytes:
        """The body, or BadResponse once it is over MAX_BODY bytes (as declared, or as read)."""
        declared = response.headers.get("Content-Length", "")
        chunks, size = [], int(declared) if declared.isdigit() else 0
        if size <= MAX_BODY:
            size = 0
            for chunk in response.iter_content(64 * 1024):
                size += len(chunk)
                if size > MAX_BODY:
                    break
                chunks.append(chunk)
        if size > MAX_BODY:
            response.close()
            raise BadResponse(self.source, f"{response.url}: the answer is over {MAX_BODY:,} bytes, far more than"
                                           " any answer of this feed; refused")
        return b"".join(chunks)

    def _status(self, response, body: bytes) -> None:
        """Nothing for a 200; the error for any other status (5xx and 429 after their retries)."""
        if response.status_code != 200:
            detail = f"{response.url}: HTTP {response.status_code}{_problem_title(body)}"
            if response.status_code in RETRY_STATUSES:
                raise SourceUnavailable(self.source, f"{detail}, still after retries; {self.hint}")
            raise BadResponse(self.source, detail)

    def _parse(self, response, body: bytes):
        url = response.url
        self._status(response, body)
        kind = response.headers.get("Content-Type", "")
        text = body.decode("utf-8", errors="replace")
        if "json" not in kind:
            raise DamagedResponse(self.source, f"{url}: expected JSON, got {kind or 'no content type'}: {snippet(text)}")
        try:
            return json.loads(body.decode("utf-8").removeprefix(BOM), parse_float=Decimal)
        except ValueError as exc:  # UnicodeDecodeError included: JSON is UTF-8 (RFC 8259)
            raise DamagedResponse(self.source, f"{url}: malformed JSON ({exc})") from None

    def _xml(self, response, body: bytes):
        from xml.etree.ElementTree import ParseError

        import defusedxml
        from defusedxml.ElementTree import fromstring

        url = response.url
        self._status(response, body)
        kind = response.headers.get("Content-Type", "") or "no content type"
        shown = snippet(body.decode("utf-8", errors="replace"))
        charset = CHARSET.search(kind)
        try:
            if body.startswith(XML_BOMS) or XML_ENCODING.match(body) or not charset:
                root = fromstring(body)  # expat reads the BOM or the declaration itself; UTF-8 otherwise
            else:
                root = fromstring(body.decode(charset.group(1)))
        except defusedxml.DefusedXmlException as exc:
            raise BadResponse(self.source, f"{url}: the XML declares entities or refers to external ones"
                                           f" ({type(exc).__name__}); refused unread") from None
        except LookupError:
            raise BadResponse(self.source, f"{url}: unknown charset {charset.group(1)!r} ({kind})") from None
        except UnicodeDecodeError as exc:
            raise DamagedResponse(self.source, f"{url}: the answer is not {exc.encoding} as its {kind} says:"
                                               f" {shown}") from None
        except (ParseError, ValueError) as exc:
            if body.lstrip()[:14].lower().startswith((b"<!doctype html", b"<html")):  # whatever its content type says
                raise DamagedResponse(self.source, f"{url}: expected XML, got {kind}: {shown}") from None
            if not body.strip():
                raise DamagedResponse(self.source, f"{url}: the answer is empty ({kind})") from None
            raise DamagedResponse(self.source, f"{url}: malformed XML ({exc})") from None
        if tag(root).lower() == "html":
            raise DamagedResponse(self.source, f"{url}: expected XML, got an HTML page ({kind}): {shown}")
        return root

    def _redirected(self, response, *args, **kwargs):
        """A strict client's response hook: a redirect to another host, or from https to plain http, is
        refused before it is followed."""
        if not response.is_redirect:
            return response
        target = urljoin(response.url, self._http.get_redirect_target(response))
        was, to = urlsplit(response.url), urlsplit(target)
        problem = None
        if to.scheme not in ("http", "https") or (was.scheme == "https" and to.scheme != "https"):
            problem = f"from {was.scheme} to {to.scheme}, which anyone on the way could answer"
        elif to.hostname != was.hostname:
            problem = "to another host"
        if problem is None:
            return response
        response.close()
        raise BadResponse(self.source, f"{response.url}: redirected {problem} ({target}); refused; {self.hint}")

    def get(self, path: str, **params):
        """The response to GET base_url + path (its body not read yet), or SourceUnavailable with
        the URL and a short reason."""
        import requests

        url = self.base_url + path
        hooks = {"response": self._redirected} if self.strict else None
        try:
            return self._http.get(url, params=params, timeout=(min(self.timeout, 10), self.timeout), stream=True,
                                  hooks=hooks)
        except requests.exceptions.SSLError as exc:
            reason = f"TLS verification failed ({_reason(exc)})"
        except requests.exceptions.RequestException as exc:
            reason = self._reason(exc)
        raise SourceUnavailable(self.source, f"{url}: {reason}; {self.hint}")

    def _reason(self, exc: Exception) -> str:
        # After the retries, a read timeout arrives wrapped in a ConnectionError.
        return f"no answer within {self.timeout:g} s" if _reason(exc) == NO_ANSWER else _reason(exc)


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
    """The innermost cause of a requests or urllib3 error, without urllib3's pool repr."""
    text = str(exc)
    if "timed out" in text or "TimeoutError" in text or "Timeout" in type(exc).__name__:
        return NO_ANSWER
    found = re.findall(r"\[Errno -?\d+\] ([^'\")]+)", text)
    if found:
        return found[-1].strip()
    if "RemoteDisconnected" in text or "Connection aborted" in text or "reset" in text:
        return "connection closed by the server"
    if "IncompleteRead" in text:
        return "connection closed mid-answer"
    return text.splitlines()[0][:200] if text else type(exc).__name__
