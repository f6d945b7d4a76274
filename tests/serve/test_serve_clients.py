"""An unmodified third-party Frankfurter client against a real `ticker serve`: frankfurtermcp, from
PyPI, pointed at the server only through its documented FRANKFURTER_API_URL, gets NBRB's values
through its own tools, asked over MCP by the official MCP client (the `mcp` package it installs).

frankfurtermcp needs Python 3.12 or newer: it is installed once into a virtual environment of
pyenv's Python 3.12 under build/ (kept, so that reruns are fast). A failed install fails the test.
"""

import json
import os
import subprocess
from pathlib import Path

import pytest
from support.serving import serving

ROOT = Path(__file__).resolve().parents[2]
PYTHON312 = Path(os.environ.get("TICKER_PYTHON312", "/root/.pyenv/versions/3.12.1/bin/python"))
CLIENT = "frankfurtermcp==0.5.0"
VENV = ROOT / "build" / "clients" / CLIENT.replace("==", "-")

# Run by the venv's Python: starts the frankfurtermcp server as its README says (python -m
# frankfurtermcp.server, stdio transport) and calls its tools with the MCP SDK's client.
SCRIPT = r"""
import asyncio, json, os, sys
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

async def main():
    calls = json.loads(sys.argv[1])
    server = StdioServerParameters(command=sys.executable, args=["-m", "frankfurtermcp.server"], env=dict(os.environ))
    async with stdio_client(server) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        out = []
        for name, args in calls:
            result = await asyncio.wait_for(session.call_tool(name, args), 60)
            out.append({"error": result.is_error, "text": [c.text for c in result.content if getattr(c, "text", None)]})
        print(json.dumps(out))

asyncio.run(asyncio.wait_for(main(), 120))
"""


def client_python() -> Path:
    python = VENV / "bin" / "python"
    if python.exists() and subprocess.run([python, "-c", "import frankfurtermcp, mcp"], capture_output=True,
                                          timeout=120).returncode == 0:
        return python
    assert PYTHON312.exists(), f"frankfurtermcp needs Python 3.12: {PYTHON312} is missing (set TICKER_PYTHON312)"
    subprocess.run([PYTHON312, "-m", "venv", "--clear", VENV], check=True, timeout=120)
    done = subprocess.run([python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", CLIENT],
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, f"pip install {CLIENT} failed: {done.stderr[-2000:]}"
    return python


@pytest.fixture(scope="module")
def python():
    return client_python()


def test_frankfurtermcp_gets_nbrbs_rates_through_its_own_tools(python, tmp_path, recorded_db):
    calls = [
        ["get_historical_exchange_rates", {"base_currency": "USD", "symbols": ["BYN"], "specific_date": "2024-01-10"}],
        ["convert_currency_specific_date", {"amount": 100, "from_currency": "USD", "to_currency": "BYN",
                                            "specific_date": "2024-01-10"}],
        ["get_latest_exchange_rates", {"base_currency": "USD", "symbols": ["BYN", "EUR"]}],
        ["get_historical_exchange_rates", {"base_currency": "USD", "symbols": ["BYN"], "start_date": "2024-01-08",
                                           "end_date": "2024-01-10"}],
        ["get_supported_currencies", {}],
    ]
    with serving(tmp_path, recorded_db) as server:
        env = {**os.environ, "FRANKFURTER_API_URL": f"{server.url}/v1", "LOG_LEVEL": "WARNING"}
        done = subprocess.run([python, "-c", SCRIPT, json.dumps(calls)], capture_output=True, text=True, env=env,
                              timeout=180, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    day, converted, latest, span, currencies = [json.loads(answer["text"][0]) for answer in json.loads(done.stdout)]
    assert day == {"amount": 1.0, "base": "USD", "date": "2024-01-10", "rates": {"BYN": 3.1949}}
    assert converted["exchange_rate"] == 3.1949 and converted["rate_date"] == "2024-01-10"
    assert converted["converted_amount"] == pytest.approx(319.49)
    assert latest["date"] == "2026-03-17" and latest["rates"]["BYN"] == 2.9463
    assert span["rates"] == {"2024-01-08": {"BYN": 3.1986}, "2024-01-09": {"BYN": 3.1955}, "2024-01-10": {"BYN": 3.1949}}
    assert currencies["BYN"] == "Belarusian Ruble"
