"""Official NBRB exchange rates of the Belarusian rouble, recorded into SQLite."""

__version__ = "0.1.0"


def __getattr__(name):
    # `from ticker import Rates` loads the API on first use, so `import ticker` (every CLI start) stays cheap.
    if name == "Rates":
        from .api import Rates

        return Rates
    raise AttributeError(f"module 'ticker' has no attribute {name!r}")
