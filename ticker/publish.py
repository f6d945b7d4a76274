"""Everything derived from the rates, refreshed after new rates are stored: charts and ticker files."""


def refresh(config, day=None) -> None:
    """Bring every derived output up to date with the database, as of `day` (default today)."""
