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


class NotQuoted(SourceError):
    """Not quoted by {source}"""


class DatabaseError(TickerError):
    """Database error"""


class NoData(TickerError):
    """No data"""


class AlreadyRunning(TickerError):
    """Already running"""


class Interrupted(TickerError):
    """Interrupted"""


class ChartError(TickerError):
    """Could not write the charts"""


class BadRange(TickerError):
    """Bad range"""

    exit_code = 2  # a usage error, as click's for --since after --until
