"""What the user's folders cost a cold start: platformdirs is imported only when no config is
named or in the working folder, which is how an installed ticker runs."""

import os
import sys
import tempfile
from datetime import date
from pathlib import Path

from common import backfilled, interleaved_medians, ratio_row

TICKER = str(Path(sys.executable).with_name("ticker"))
UNTIL = date(2026, 3, 17)


def run():
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        db = backfilled(folder, date(2026, 1, 1), UNTIL)
        text = f'[database]\npath = "{db}"\n'
        local, bare, user = folder / "local", folder / "bare", folder / "home/.config/ticker"
        for made in (local, bare, user):
            made.mkdir(parents=True)
        (local / "config.toml").write_text(text)
        (user / "config.toml").write_text(text)
        env = {**os.environ, "HOME": str(folder / "home")}
        for name in ("TICKER_CONFIG", "XDG_CONFIG_HOME", "XDG_DATA_HOME"):
            env.pop(name, None)
        command = [TICKER, "rate", "USD", "--date", UNTIL.isoformat()]
        # `env -C`: each from its own working folder, the same exec in front of both.
        cold = interleaved_medians({"local": ["env", "-C", str(local), *command],
                                    "user": ["env", "-C", str(bare), *command]}, runs=31, env=env)
    return [ratio_row("cold `ticker rate`, the user's config (platformdirs)", cold["user"] * 1000,
                      "the same with ./config.toml", cold["local"] * 1000, "ms", at_most=1.35)]
