"""Upstream text on a terminal: NBRB's names and Belarusbank's point fields carrying terminal
controls (an escape sequence that sets the window's title and clears the screen, a bell, a C1
control, a right-to-left override) reach no terminal as they are, through the real `ticker`
process: the tables as text and as JSON, warnings, and the daemon's log."""

import json
import re
import subprocess
from pathlib import Path

import pytest
from support import write_config
from support.banks import answer, bank_section, bank_server, recorded_points
from support.daemon import NEVER, PINNED, Running
from support.nbrb_data import recorded_server

# What a terminal acts on instead of showing: C0 but the newline, DEL, C1, bidirectional controls.
CONTROLS = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
HOSTILE = "\x1b]0;owned\x07\x1b[2J\u202e\x9b31m"


def ticker(config: Path, *args) -> subprocess.CompletedProcess:
    """The real CLI, "now" pinned at 2026-03-17 10:00 in Minsk; its output as bytes decoded strictly."""
    done = subprocess.run([*PINNED, "--config", str(config), *args], capture_output=True, timeout=120,
                          stdin=subprocess.DEVNULL)
    return subprocess.CompletedProcess(done.args, done.returncode, done.stdout.decode(), done.stderr.decode())


def hostile_points() -> list[dict]:
    """The recorded answer with the controls in every text field of each Minsk point, and one point
    whose USD rate is damaged, so that its refusal names it."""
    points = recorded_points()
    minsk = [p for p in points if p["name"] == "Минск"]
    for point in minsk:
        for key in ("filials_text", "street", "home_number", "info_worktime"):
            point[key] = f"{point[key]}{HOSTILE}"
    minsk[0]["USD_in"] = f"2.05{HOSTILE}"
    return points


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    folder = tmp_path_factory.mktemp("printable")
    nbrb = recorded_server(today="2026-03-17")
    for record in nbrb.catalogue:
        for key in ("Cur_Name", "Cur_Name_Eng"):
            record[key] = f"{record[key]}{HOSTILE}"
    with nbrb, bank_server() as bank:
        answer(bank, hostile_points())
        config = write_config(folder, nbrb.url, track={"currencies": '["USD", "EUR", "RUB"]', "since": "2026-03-17"},
                              belarusbank=bank_section(bank, schedule=NEVER),
                              schedule={"poll": NEVER, "catchup": NEVER, "retry": "600"})
        said = {"fetch": ticker(config, "fetch"), "bank-fetch": ticker(config, "bank-fetch")}
        yield {"config": config, "said": said, "bank": bank}


def shown(done: subprocess.CompletedProcess) -> str:
    assert done.returncode == 0, done.stderr
    text = done.stdout + done.stderr
    assert not CONTROLS.search(text), CONTROLS.search(text)
    return text


def test_the_days_table_shows_the_names_controls_as_escapes(site):
    text = shown(ticker(site["config"], "table", "--date", "2026-03-17"))
    assert "US Dollar\\x1b]0;owned\\x07\\x1b[2J\\u202e\\x9b31m" in text


def test_json_carries_the_names_exactly_but_escaped(site):
    data = json.loads(shown(ticker(site["config"], "table", "--date", "2026-03-17", "--json")))
    usd = next(c for c in data["currencies"] if c["code"] == "USD")
    assert usd["name"] == f"US Dollar{HOSTILE}"  # the data itself, unchanged


def test_bank_shows_the_points_fields_controls_as_escapes(site):
    text = shown(ticker(site["config"], "bank", "USD"))
    assert "\\x1b]0;owned" in text
    data = json.loads(shown(ticker(site["config"], "bank", "USD", "--json")))
    assert any(HOSTILE in point["address"] for point in data["buy"]["points"] + data["sell"]["points"])


def test_warnings_of_a_refused_point_show_its_controls_as_escapes(site):
    text = shown(site["said"]["bank-fetch"])
    [refused] = [line for line in text.splitlines() if line.startswith("Warning: Belarusbank: refused")]
    assert "USD_in is '2.05\\x1b]0;owned\\x07\\x1b[2J\\u202e\\x9b31m'" in refused


def test_the_daemons_log_shows_the_controls_as_escapes(site):
    daemon = Running(site["config"])  # it polls the bank at start
    try:
        daemon.wait_for(r"^INFO belarusbank: \d+ points")
        assert daemon.stop(within=60) == 0
    finally:
        if daemon.proc.poll() is None:
            daemon.proc.kill()
    refused = [line for line in daemon.lines if "refused" in line and "USD_in" in line]
    assert refused and not CONTROLS.search(daemon.log)
    assert "\\x1b]0;owned" in refused[0]
