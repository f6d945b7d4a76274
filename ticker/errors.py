"""Typed errors. Each docstring is the prefix of the one line a user sees."""


class TickerError(Exception):
    """Error"""

    exit_code = 1

    def __init__(self, detail: str):
        super().__init__(f"{self.__doc__}: {detail}")


class ConfigError(TickerError):
    """Bad configuration"""

    exit_code = 2


class SourceUnavailable(TickerError):
    """Could not reach NBRB"""


class BadResponse(TickerError):
    """NBRB sent a response that cannot be used"""


class NotQuoted(TickerError):
    """Not quoted by NBRB"""


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
