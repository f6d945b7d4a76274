"""One HTTP session for a source: timeouts, capped retries with backoff, TLS always verified."""

import re

from .errors import SourceUnavailable

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


def get(http, url: str, params: dict, timeout: float, hint: str):
    """GET or raise SourceUnavailable with the URL and a short reason, and `hint` on what to do."""
    import requests

    try:
        return http.get(url, params=params, timeout=(min(timeout, 10), timeout))
    except requests.exceptions.SSLError as exc:
        reason = f"TLS verification failed ({_reason(exc)})"
    except requests.exceptions.RequestException as exc:
        # After the retries, a read timeout arrives wrapped in a ConnectionError.
        timed_out = isinstance(exc, requests.exceptions.Timeout) or "TimeoutError" in str(exc)
        reason = f"no answer within {timeout:g} s" if timed_out else _reason(exc)
    raise SourceUnavailable(f"{url}: {reason}; {hint}")


def _reason(exc: Exception) -> str:
    """The innermost cause of a requests error, without urllib3's pool repr."""
    text = str(exc)
    found = re.findall(r"\[Errno -?\d+\] ([^'\")]+)", text)
    if found:
        return found[-1].strip()
    if "RemoteDisconnected" in text or "Connection aborted" in text or "reset" in text:
        return "connection closed by the server"
    return text.splitlines()[0][:200]
