"""HTTP for the sources: one session each, timeouts, capped retries with backoff, TLS always verified,
and JSON answers checked before a source reads them."""

import json
import re
from decimal import Decimal

from ..errors import BadResponse, SourceUnavailable

RETRY_STATUSES = (429, 500, 502, 503, 504)
RETRY_AFTER_CAP = 60  # seconds; urllib3 would otherwise honour hours


def session(retries: int, backoff: float):
    """A requests.Session retrying GETs on connection errors, read timeouts, 5xx and 429."""
    import requests
    from requests.adapters import HTTPAdapter
    from urllib3.util.retry import Retry

    class CappedRetry(Retry):
        def parse_retry_after(self, retry_after):
            return min(super().parse_retry_after(retry_after), RETRY_AFTER_CAP)

    retry = CappedRetry(
        total=retries,
        connect=retries,
        read=retries,
        status=retries,
        other=0,  # never retry a TLS verification failure
        backoff_factor=backoff,
        status_forcelist=RETRY_STATUSES,
        allowed_methods=("GET",),
        respect_retry_after_header=True,
        raise_on_status=False,
    )
    http = requests.Session()
    http.verify = True
    http.headers["User-Agent"] = "byn-ticker (+https://pypi.org/project/byn-ticker/)"
    adapter = HTTPAdapter(max_retries=retry)
    http.mount("https://", adapter)
    http.mount("http://", adapter)
    return http


class Client:
    """GETs JSON from one source's API root; every failure is a SourceUnavailable or a BadResponse
    naming the source, the URL and the reason, with `hint` on what a person can do."""

    def __init__(self, source: str, base_url: str, timeout: float, retries: int, backoff: float, hint: str):
        self.source = source
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.hint = hint
        self._http = session(retries, backoff)

    def json(self, path: str, **params):
        """(the URL answered, the parsed body, numbers with a fraction as Decimal)."""
        response = self.get(path, **params)
        url = response.url
        if response.status_code != 200:
            detail = f"{url}: HTTP {response.status_code}{_problem_title(response)}"
            if response.status_code in RETRY_STATUSES:
                raise SourceUnavailable(self.source, f"{detail}, still after retries; {self.hint}")
            raise BadResponse(self.source, detail)
        kind = response.headers.get("Content-Type", "")
        if "json" not in kind:
            raise BadResponse(self.source, f"{url}: expected JSON, got {kind or 'no content type'}: {snippet(response.text)}")
        try:
            return url, json.loads(response.text, parse_float=Decimal)
        except ValueError as exc:
            raise BadResponse(self.source, f"{url}: malformed JSON ({exc})") from None

    def get(self, path: str, **params):
        """The response to GET base_url + path, or SourceUnavailable with the URL and a short reason."""
        import requests

        url = self.base_url + path
        try:
            return self._http.get(url, params=params, timeout=(min(self.timeout, 10), self.timeout))
        except requests.exceptions.SSLError as exc:
            reason = f"TLS verification failed ({_reason(exc)})"
        except requests.exceptions.RequestException as exc:
            # After the retries, a read timeout arrives wrapped in a ConnectionError.
            timed_out = isinstance(exc, requests.exceptions.Timeout) or "TimeoutError" in str(exc)
            reason = f"no answer within {self.timeout:g} s" if timed_out else _reason(exc)
        raise SourceUnavailable(self.source, f"{url}: {reason}; {self.hint}")


def snippet(text: str) -> str:
    """The start of a body, on one line, for an error message."""
    return " ".join(text.split())[:80]


def _problem_title(response) -> str:
    try:
        return f" {json.loads(response.text)['title']}"
    except (ValueError, KeyError, TypeError):
        return ""


def _reason(exc: Exception) -> str:
    """The innermost cause of a requests error, without urllib3's pool repr."""
    text = str(exc)
    found = re.findall(r"\[Errno -?\d+\] ([^'\")]+)", text)
    if found:
        return found[-1].strip()
    if "RemoteDisconnected" in text or "Connection aborted" in text or "reset" in text:
        return "connection closed by the server"
    return text.splitlines()[0][:200]
