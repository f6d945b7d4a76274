"""The user's own folders, where an installed ticker keeps its config and data (platformdirs).

On Linux: the config file `~/.config/ticker/config.toml`, and the database, its lock and the
charts in `~/.local/share/ticker/` ($XDG_CONFIG_HOME and $XDG_DATA_HOME honoured). They apply
only when no config file is named (--config, $TICKER_CONFIG) and none is in the working folder,
so platformdirs is imported only then: a clone's `./config.toml` never pays for it.
"""

from pathlib import Path

APP = "ticker"
CONFIG = "config.toml"
# What the user's data folder holds, by config key: the defaults of a config that has no folder of
# its own to keep data beside (none at all, or the user's, which lives among configs).
DATA = {("database", "path"): "rates.sqlite", ("charts", "dir"): "charts"}


def config_file() -> Path:
    """The user's config file, whether it exists or not: ~/.config/ticker/config.toml on Linux."""
    import platformdirs

    return platformdirs.user_config_path(APP, appauthor=False).absolute() / CONFIG


def data_dir() -> Path:
    """The user's data folder for ticker: ~/.local/share/ticker on Linux."""
    import platformdirs

    return platformdirs.user_data_path(APP, appauthor=False).absolute()


def is_user_config(file: Path) -> bool:
    """Whether `file` is the user's config file, whose data belong in the user's data folder."""
    file = Path(file)
    if file.name != CONFIG or file.absolute().parent.name != APP:
        return False  # not even named like it: spares every other config platformdirs' import
    return file.resolve() == config_file().resolve()
