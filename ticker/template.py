"""The commented config `ticker init` writes: every key of config.SCHEMA, at its default, with its doc."""

import json
import os
from datetime import date
from pathlib import Path

from . import __version__, paths
from .config import SCHEMA
from .errors import AlreadyExists

HEADER = """\
# ticker configuration, written by `ticker init` (ticker {version}).
# Every key is commented out at its default: uncomment a line and change its value to set it.
# Relative paths are relative to this file's folder. README.md, "Configuration", says more.
"""

ALERTS = """\
# Alerts (README.md, "Alerts"): none by default. [[alerts]] tables go after the sections above;
# the passwords and tokens in their Apprise URLs make this file a secret: chmod 600 it then.
"""


def toml(value) -> str:
    """A default as TOML: strings and paths quoted, tuples as arrays, dates bare."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, date)):
        return value.isoformat() if isinstance(value, date) else repr(value)
    if isinstance(value, (str, Path)):
        return json.dumps(str(value), ensure_ascii=False)  # a JSON string is a TOML basic string
    if isinstance(value, tuple):
        return "[" + ", ".join(toml(item) for item in value) + "]"
    raise TypeError(f"no TOML form for {value!r}")


def text(file: Path) -> str:
    """The config for `file`, its paths' defaults as they would be there: in the user's data
    folder for the user's config file, beside it (db/rates.sqlite, charts) for any other."""
    data = paths.data_dir() if paths.is_user_config(file) else None
    parts = [HEADER.format(version=__version__)]
    for section, keys in SCHEMA.items():
        lines = [f"\n[{section}]\n"]
        for key, spec in keys.items():
            default = data / paths.DATA[section, key] if data and (section, key) in paths.DATA else spec.default
            lines.append(f"# {spec.doc}\n# {key} = {toml(default)}\n")
        parts.append("".join(lines))
    return "".join(parts) + "\n" + ALERTS


def write(file: Path) -> Path:
    """Write the config at `file`, creating its folder; an existing file is never touched.

    The mode is the umask's (0644 as a rule): it holds no secret, and a service's config must be
    readable by the user the daemon runs as.
    """
    file = Path(file)
    body = text(file).encode("utf-8")
    file.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # refuses whatever is there, atomically
    except FileExistsError:
        raise AlreadyExists(f"{file.absolute()}: ticker init never overwrites a config; edit it, or move it away first") from None
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(body)
            out.flush()
            os.fsync(out.fileno())
    except BaseException:
        file.unlink(missing_ok=True)  # never half a config
        raise
    return file
