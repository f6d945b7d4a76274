"""The README documents every command, option and config key (a check in Datasette's manner)."""

import re
from pathlib import Path

import click
import pytest

from ticker.cli import cli
from ticker.alerts.rules import ALERT_KEYS
from ticker.config import SCHEMA

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def flags(command: click.Command) -> list[str]:
    return [flag for param in command.params if isinstance(param, click.Option)
            for flag in param.opts if flag.startswith("--") and flag != "--help"]


@pytest.mark.parametrize("name", sorted(cli.commands))
def test_every_command_and_its_options_are_documented(name):
    lines = "\n".join(line for line in README.splitlines() if re.search(rf"`ticker {name}\b", line))
    assert lines, f"`ticker {name}` is not in README.md"
    for flag in flags(cli.commands[name]):
        assert re.search(rf"{flag}\b", lines), f"ticker {name} {flag} is not documented where the command is"


def test_global_options_are_documented():
    for flag in flags(cli):
        assert f"`{flag}" in README, flag


@pytest.mark.parametrize("section, key", [(s, k) for s, keys in SCHEMA.items() for k in keys])
def test_every_config_key_is_documented(section, key):
    assert f"`[{section}] {key}`" in README


@pytest.mark.parametrize("key", ALERT_KEYS)
def test_every_alert_key_is_documented(key):
    assert f"`[[alerts]] {key}`" in README
