"""Typed errors. Each docstring is the prefix of the one line a user sees."""

import re

# The userinfo of a URL (a mirror with basic auth, a token as user name): never shown whole, as
# Apprise masks its targets.
_CREDENTIALS = re.compile(r"(?<=://)([^/\s:@]*)(:[^/\s@]*)?@")


# Characters that act on a terminal instead of showing (escape sequences set a title, clear the
# screen, move the cursor) or reorder what shows (bidirectional overrides): from upstream text, a
# database or a config, they are written as visible escapes, never sent as they are.
_CONTROLS = {c: f"\\x{c:02x}" for c in [*range(0x20), *range(0x7F, 0xA0)]}
_CONTROLS.update({c: f"\\u{c:04x}" for c in [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]})


_LINES = {c: e for c, e in _CONTROLS.items() if c != 0x0A}  # the same, newlines kept


def printable(text: str, keep_newlines: bool = False) -> str:
    """`text` safe to print on a terminal: control characters shown as escapes (`\\x1b`)."""
    return str(text).translate(_LINES if keep_newlines else _CONTROLS)


# The controls json.dumps leaves as they are (it escapes C0 alone), as JSON escapes: JSON a terminal
# may show still reads back as the same text.
_JSON = {c: f"\\u{c:04x}" for c in _CONTROLS if c >= 0x7F}


def printable_json(text: str) -> str:
    """JSON text (json.dumps's) safe to print on a terminal: DEL, C1 and bidirectional controls
    in its strings written as \\u escapes, which parse back to the same characters."""
    return text.translate(_JSON)


def masked(text: str) -> str:
    """`text` with the credentials of every URL in it masked: https://user:****@mirror.example/, and
    a user name alone (often a token) as https://****@mirror.example/."""
    return _CREDENTIALS.sub(lambda m: f"{m.group(1)}:****@" if m.group(2) else "****@", text)


class TickerError(Exception):
    """Error"""

    exit_code = 1

    def __init__(self, detail: str):
        # Every message a person, a log or a table sees is one of these: no credential and no
        # terminal control gets past.
        super().__init__(printable(masked(f"{self.__doc__}: {detail}")))


class ConfigError(TickerError):
    """Bad configuration"""

    exit_code = 2


class SourceError(TickerError):
    """{source} failed"""

    def __init__(self, source: str, detail: str):
        # The docstring names the source it is about: "Could not reach NBRB: ...".
        self.source = source
        Exception.__init__(self, printable(masked(f"{self.__doc__.format(source=source)}: {detail}")))


class SourceUnavailable(SourceError):
    """Could not reach {source}"""


class BadResponse(SourceError):
    """{source} sent a response that cannot be used"""


class DamagedResponse(BadResponse):
    """{source} sent a damaged response"""

    # Broken on the way (truncated or malformed JSON, a proxy's HTML page, an empty or holed
    # answer for days already published): asking again may well succeed, so it is retried like a
    # 5xx. A BadResponse that is not damaged is well-formed but wrong, and would be wrong again.


class Incomplete(SourceError):
    """{source} answered only in part"""

    # Raised after everything that could be stored was stored: `stored` counts the rates written
    # (new or revised), `failed` lists the requests still failing, `result` is what the call
    # would have returned for the part that worked.
    def __init__(self, source: str, detail: str, stored: int = 0, failed=(), result=None):
        super().__init__(source, detail)
        self.stored = stored
        self.failed = list(failed)
        self.result = result



class DatabaseError(TickerError):
    """Database error"""


class NotWritable(TickerError):
    """Cannot write"""


class NoData(TickerError):
    """No data"""


class AlreadyRunning(TickerError):
    """Already running"""


class Interrupted(TickerError):
    """Interrupted"""


class Overdue(TickerError):
    """Stopped at its deadline"""


class ChartError(TickerError):
    """Could not write the charts"""


class AlertError(TickerError):
    """Could not deliver an alert"""


class BadRange(TickerError):
    """Bad range"""

    exit_code = 2  # a usage error, as click's for --since after --until


class Superseded(TickerError):
    """Not stored"""


class AlreadyExists(TickerError):
    """Already exists"""


class BackupError(TickerError):
    """Could not back up"""
