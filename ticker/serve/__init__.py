"""`ticker serve`: the record over HTTP, read-only. Frankfurter's v1 and v2 APIs on NBRB's rates
(frankfurter.py), an exact native API (native.py), Prometheus metrics (metrics.py), the page and
charts as static files, with caching a CDN can keep (caching.py); app.py puts them together.

The web libraries (starlette, uvicorn, prometheus_client) are imported only inside this package,
which only `ticker serve` imports: the other commands never load them.
"""


class Refused(Exception):
    """An answer that is an error: its HTTP status and the one-line message sent as JSON."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message
