"""Official NBRB exchange rates of the Belarusian rouble, recorded into SQLite."""

__version__ = "0.1.0"
