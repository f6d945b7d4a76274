"""The OpenAPI 3.1 document of ticker's own endpoints, served at /openapi.json. Frankfurter's v1
and v2 are described by Frankfurter's own documents; this one names them and says how they differ."""

from .. import __version__

DECIMAL = {"type": "string", "pattern": r"^-?\d+(\.\d+)?$", "description": "an exact decimal, as a string"}
DAY = {"type": "string", "format": "date", "example": "2024-01-10"}
ERROR = {"type": "object", "required": ["message"], "properties": {"message": {"type": "string"}}}
STAMP = {"type": ["string", "null"], "description": "UTC, 2026-03-17T12:51:00Z"}

QUOTE = {
    "type": "object",
    "required": ["code", "date", "scale", "rate", "unit", "cur_id", "periodicity", "byn_per_unit"],
    "properties": {
        "code": {"type": "string", "pattern": "^[A-Z]{3}$", "example": "USD"},
        "date": {**DAY, "description": "the day in force; for a monthly rate, the day NBRB set it"},
        "scale": {"type": "integer", "minimum": 1, "description": "the rate is per this many units: RUB 100"},
        "rate": {**DECIMAL, "description": "`unit` per `scale` units, exactly as published", "example": "3.1949"},
        "unit": {"type": "string", "enum": ["BYN", "BYR", "BYB"]},
        "cur_id": {"type": "integer", "description": "NBRB's Cur_ID valid on that day"},
        "periodicity": {"type": "integer", "enum": [0, 1], "description": "0: NBRB's daily list; 1: its monthly one"},
        "byn_per_unit": {**DECIMAL, "description": "BYN per ONE unit: the scale and any BYR/BYB factor divided out"},
    },
}

DAY_RATES = {
    "type": "object",
    "required": ["date", "source", "ahead", "rates"],
    "properties": {
        "date": DAY,
        "source": {"const": "NBRB"},
        "ahead": {"type": "array", "items": DAY, "description": "days NBRB has published after `date`"},
        "rates": {"type": "array", "items": {
            "allOf": [QUOTE],
            "type": "object",
            "required": ["name", "set_monthly", "previous", "change", "change_pct", "direction"],
            "properties": {
                "name": {"type": "string", "description": "the English name in NBRB's catalogue"},
                "set_monthly": {"type": "boolean"},
                "previous": {"type": ["object", "null"], "required": ["date", "rate"], "properties": {
                    "date": DAY, "rate": {**DECIMAL, "description": "in this rate's scale and unit"}},
                    "description": "the previous distinct rate: the last earlier day whose value per unit differs"},
                "change": {"oneOf": [DECIMAL, {"type": "null"}]},
                "change_pct": {"oneOf": [DECIMAL, {"type": "null"}]},
                "direction": {"enum": ["up", "down", "none"]},
            },
        }},
    },
}

SERIES_ROW = {
    "type": "object",
    "required": ["date", "code", "scale", "rate", "unit", "cur_id", "periodicity"],
    "properties": {k: QUOTE["properties"][k] for k in ("date", "code", "scale", "rate", "unit", "cur_id", "periodicity")},
}

CONVERSION = {
    "type": "object",
    "required": ["amount", "from", "to", "date", "value", "rounded", "precision", "rates", "text"],
    "properties": {
        "amount": DECIMAL, "from": {"type": "string"}, "to": {"type": "string"}, "date": DAY,
        "value": {**DECIMAL, "description": "exact: the cross rate's quotient carried to 60 significant digits"},
        "rounded": {**DECIMAL, "description": "`value` rounded half up to `precision` decimals"},
        "precision": {"type": "integer", "minimum": 0, "maximum": 8},
        "rates": {"type": "array", "items": QUOTE, "description": "the rates used"},
        "text": {"type": "string", "example": "100 USD = 91.37 EUR  (2024-01-10: 1 USD = 3.1949 BYN, 1 EUR = 3.4965 BYN)"},
    },
}

BANK_SIDE = {"type": ["object", "null"], "required": ["rate", "scale", "points"], "properties": {
    "rate": DECIMAL, "scale": {"type": "integer"}, "vs_official_pct": {"oneOf": [DECIMAL, {"type": "null"}]},
    "checked": {"type": "boolean"}, "quoting": {"type": "integer"},
    "points": {"type": "array", "items": {"type": "object", "required": ["bank", "address", "label"]}}}}

BANKS = {
    "type": "object",
    "required": ["code", "city", "unit", "as_of", "official", "buy", "sell"],
    "properties": {"code": {"type": "string"}, "city": {"type": "string"}, "unit": {"const": "BYN"},
                   "as_of": {"type": "string"}, "official": {"type": ["object", "null"]},
                   "buy": BANK_SIDE, "sell": BANK_SIDE},
}

STATUS = {
    "type": "object",
    "required": ["verdict", "ok", "database", "today", "currencies", "last_success", "last_error", "daemon"],
    "properties": {"verdict": {"type": "string", "example": "up to date: 30 currencies through 2026-03-18"},
                   "ok": {"type": "boolean"}, "database": {"type": "string"}, "today": DAY,
                   "currencies": {"type": "array", "items": {"type": "object"}},
                   "last_success": {"type": ["object", "null"]}, "last_error": {"type": ["object", "null"]},
                   "daemon": {"type": ["object", "null"]}},
}


def _json(schema, description):
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*statuses):
    words = {404: "no such data (the message says what is stored and what to do)",
             422: "a request that cannot be meant (the message names the parameter)",
             503: "no rates stored yet (the daemon has not written), or the database cannot be read"}
    return {str(s): _json(ERROR, words[s]) for s in statuses}


def document() -> dict:
    """The OpenAPI 3.1 document."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "ticker: NBRB's official rates of the Belarusian rouble",
            "version": __version__,
            "description": (
                "The record of ticker's SQLite file over HTTP, read-only. /v1 and /v2 answer as Frankfurter's v1 and v2"
                " APIs (their documents: https://api.frankfurter.dev/v1/openapi.json and /v2/openapi.json), with NBRB's"
                " official rates and their crosses through BYN instead of the ECB's; the default base is EUR, as"
                " Frankfurter's. /api is ticker's own: exact decimals as strings. /metrics is Prometheus' text format."),
        },
        "paths": {
            "/api/rates/{which}": {"get": {
                "summary": "A day's official rates, or one currency's series",
                "description": "A date (YYYY-MM-DD, today, tomorrow, yesterday: in Minsk): every currency in force"
                               " that day as published, with its change against the previous distinct rate."
                               " A code (USD): its stored rows from `from` to `to`; NDJSON with"
                               " `Accept: application/x-ndjson`.",
                "parameters": [
                    {"name": "which", "in": "path", "required": True,
                     "schema": {"type": "string", "pattern": r"^(\d{4}-\d{2}-\d{2}|today|tomorrow|yesterday|[A-Za-z]{3})$"}},
                    {"name": "from", "in": "query", "schema": {"type": "string"},
                     "description": "with a code: the first day (default: the first of `to`'s month)"},
                    {"name": "to", "in": "query", "schema": {"type": "string"},
                     "description": "with a code: the last day (default: today)"},
                ],
                "responses": {"200": {"description": "the day's rates, or the series", "content": {
                    "application/json": {"schema": {"oneOf": [DAY_RATES, {"type": "array", "items": SERIES_ROW}]}},
                    "application/x-ndjson": {"schema": {"type": "string"}}}},
                    **_errors(404, 422, 503)},
            }},
            "/api/convert": {"get": {
                "summary": "An amount at the official rates of a day, exactly",
                "parameters": [
                    {"name": "amount", "in": "query", "required": True, "schema": {"type": "string"}, "example": "100"},
                    {"name": "from", "in": "query", "required": True, "schema": {"type": "string"}, "example": "USD"},
                    {"name": "to", "in": "query", "schema": {"type": "string", "default": "BYN"}},
                    {"name": "date", "in": "query", "schema": {"type": "string"}, "description": "default: today"},
                    {"name": "precision", "in": "query", "schema": {"type": "integer", "minimum": 0, "maximum": 8,
                                                                     "default": 2}},
                ],
                "responses": {"200": _json(CONVERSION, "the conversion and the rates used"), **_errors(404, 422, 503)},
            }},
            "/api/banks/{code}": {"get": {
                "summary": "The best bank buy and sell rates now in a city, and where",
                "parameters": [
                    {"name": "code", "in": "path", "required": True, "schema": {"type": "string"}},
                    {"name": "city", "in": "query", "schema": {"type": "string"},
                     "description": "as the bank writes it, any case (default: [banks] city)"},
                ],
                "responses": {"200": _json(BANKS, "as `ticker bank CODE --json`"), **_errors(404, 422, 503)},
            }},
            "/api/status": {"get": {
                "summary": "`ticker status`'s verdict: 200 when up to date, 503 when stale",
                "responses": {"200": _json(STATUS, "up to date"), "503": _json(
                    {"oneOf": [STATUS, ERROR]}, "stale (the verdict says why), or no rates yet")},
            }},
            "/metrics": {"get": {
                "summary": "Prometheus metrics: ticker_rate_byn, ticker_rate_tomorrow_byn, ages, failures, bank rates",
                "responses": {"200": {"description": "Prometheus' text format",
                                      "content": {"text/plain": {"schema": {"type": "string"}}}}},
            }},
        },
    }
