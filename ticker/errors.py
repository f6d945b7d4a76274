"""Typed errors. Each docstring is the prefix of the one line a user sees."""


class TickerError(Exception):
    """Error"""

    exit_code = 1

    def __init__(self, detail: str):
        super().__init__(f"{self.__doc__}: {detail}")


class ConfigError(TickerError):
    """Bad configuration"""

    exit_code = 2


class SourceError(TickerError):
    """{source} failed"""

    def __init__(self, source: str, detail: str):
        # The docstring names the source it is about: "Could not reach NBRB: ...".
        self.source = source
        Exception.__init__(self, f"{self.__doc__.format(source=source)}: {detail}")


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
