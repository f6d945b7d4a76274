"""`ticker init`: the commented config, every key of config.SCHEMA at its default, never over another."""

import re
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from ticker import config as configuration
from ticker import template
from ticker.cli import cli

ROOT = Path(__file__).resolve().parents[1]


def invoke(*args):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def uncommented(text: str) -> str:
    """The config with every `# key = value` line of a SCHEMA key uncommented, in its section."""
    section, lines = None, []
    for line in text.splitlines():
        if match := re.match(r"^\[(\w+)\]$", line):
            section = match.group(1)
        elif (match := re.match(r"^# (\w+) = ", line)) and match.group(1) in configuration.SCHEMA.get(section, {}):
            line = line[2:]
        lines.append(line)
    return "\n".join(lines)


def test_init_writes_every_key_at_its_default_with_its_doc(tmp_path):
    file = tmp_path / "etc" / "ticker.toml"
    result = invoke("--config", str(file), "init")
    assert (result.exit_code, result.output) == (0, f"Wrote {file}: every key at its default, commented out\n"
                                                    f"database  {tmp_path / 'etc/db/rates.sqlite'}\n"
                                                    f"charts    {tmp_path / 'etc/charts'}\n")
    text = file.read_text(encoding="utf-8")
    assert tomllib.loads(text) == {key: {} for key in configuration.SCHEMA}  # every key commented out
    for section, keys in configuration.SCHEMA.items():
        for key, spec in keys.items():
            assert f"# {spec.doc}\n# {key} = " in text, (section, key)
    # Uncommented, every line gives the default it names.
    (tmp_path / "etc/all.toml").write_text(uncommented(text), encoding="utf-8")
    given = tomllib.loads(uncommented(text))
    assert [(s, sorted(k)) for s, k in given.items()] == [(s, sorted(k)) for s, k in configuration.SCHEMA.items()]
    loaded, defaults = configuration.load(tmp_path / "etc/all.toml"), configuration.load(file)
    for section, keys in configuration.SCHEMA.items():
        for key in keys:
            assert getattr(getattr(loaded, section), key) == getattr(getattr(defaults, section), key), (section, key)
    assert '# city = "Минск"' in text and "# since = 2016-07-01" in text and "# windows = [30, 365]" in text
    assert file.stat().st_mode & 0o777 == 0o644


def test_init_refuses_to_overwrite_and_leaves_the_file_alone(tmp_path):
    file = tmp_path / "config.toml"
    file.write_text("[line]\nprecision = 4\n")
    result = invoke("--config", str(file), "init")
    assert (result.exit_code, result.output) == (
        1, f"Error: Already exists: {file}: ticker init never overwrites a config; edit it, or move it away first\n")
    assert file.read_text() == "[line]\nprecision = 4\n"


def test_init_refuses_a_local_config_that_ticker_would_read(tmp_path, monkeypatch):
    monkeypatch.delenv("TICKER_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "config.toml").write_text("")
    result = invoke("init")
    assert result.exit_code == 1 and result.output.startswith(f"Error: Already exists: {tmp_path / 'config.toml'}:")
    assert (tmp_path / "config.toml").read_text() == ""


def test_init_writes_where_ticker_config_says(tmp_path, monkeypatch):
    monkeypatch.setenv("TICKER_CONFIG", str(tmp_path / "from-env.toml"))
    assert invoke("init").exit_code == 0
    assert configuration.load(tmp_path / "from-env.toml").database.path == tmp_path / "db/rates.sqlite"


def test_init_takes_no_db(tmp_path):
    result = invoke("--db", "x.sqlite", "--config", str(tmp_path / "c.toml"), "init")
    assert (result.exit_code, result.output) == (
        2, "Error: Invalid value for --db: init writes a config; set [database] path in it instead\n")
    assert list(tmp_path.iterdir()) == []


def test_the_shipped_config_sets_every_key_of_the_schema_in_its_order():
    """config.toml (hand-written, with longer comments) and the schema `ticker init` writes from never drift."""
    shipped = tomllib.loads((ROOT / "config.toml").read_text(encoding="utf-8"))
    assert [(section, list(keys)) for section, keys in shipped.items()] == [
        (section, list(keys)) for section, keys in configuration.SCHEMA.items()]


@pytest.mark.parametrize("value, text", [
    (True, "true"), (15, "15"), (0.5, "0.5"), ("Минск", '"Минск"'), (("*",), '["*"]'),
    (Path("db/rates.sqlite"), '"db/rates.sqlite"'), ((30, 365), "[30, 365]"), ('a "b"', '"a \\"b\\""'),
])
def test_defaults_are_written_as_toml(value, text):
    assert template.toml(value) == text
    assert tomllib.loads(f"x = {text}")["x"] == (list(value) if isinstance(value, tuple) else
                                                 str(value) if isinstance(value, Path) else value)


def test_the_readmes_service_steps_set_the_paths_into_the_state_directory(tmp_path):
    """README, "With systemd": `ticker init`, then its sed line uncomments the two paths."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    step = re.search(r"sudo sed -i (.*?) /etc/ticker/config.toml\n", readme, re.S).group(1)
    file = tmp_path / "etc/ticker/config.toml"
    assert invoke("--config", str(file), "init").exit_code == 0
    text = file.read_text(encoding="utf-8")
    for old, new in re.findall(r"-e 's\|\^(.*?)\|(.*?)\|'", step):
        assert text.count(f"\n{old}\n") == 1, old
        text = text.replace(f"\n{old}\n", f"\n{new}\n")
    file.write_text(text, encoding="utf-8")
    loaded = configuration.load(file)
    assert (loaded.database.path, loaded.charts.dir) == (Path("/var/lib/ticker/rates.sqlite"),
                                                         Path("/var/lib/ticker/charts"))
