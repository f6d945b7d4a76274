"""Fakes of MTBank's, Belgazprombank's, Alfa-Bank's and Dabrabyt's feeds: real local HTTP(S) servers
serving answers BUILT from shared/banks/FACTS.md (§2, §3, §4, §6.1), since no whole answer of any of
them is on record. Alfa-Bank's two recorded entries (2024) are read from shared/ in place.

Each answer is built from plain data (the `*_data()` functions, lists of dicts in the shape of the
feed), so a test computes what it expects from the data the fake served, never from the parser.
The traps the facts list are in the default data: MTBank's direction labels of two versions and
comma lists of department ids; Belgazprombank's lower-case codes, explicit units and amount tiers;
cross pairs and zero values in every feed; Alfa-Bank's client-side names and changing order.
"""

import json
from decimal import Decimal
from functools import lru_cache
from xml.sax.saxutils import quoteattr

from ticker.sources import BANKS

from .nbrb_data import shared_dir
from .nbrb_server import JSON, FakeNBRB

XML = "text/xml; charset=utf-8"


class FakeBank(FakeNBRB):
    """One bank's feed over a real local server; `redirects` {path: location} are answered with a 301
    (the location may name the server's own root as {url}, or its host and port as {host})."""

    def __init__(self, redirects: dict[str, str] | None = None):
        super().__init__()
        self.redirects = dict(redirects or {})

    def _received(self, path, query):
        fault = super()._received(path, query)
        if fault is None and path in self.redirects:
            host = self.url.split("://", 1)[1]
            return 301, {"Location": self.redirects[path].format(url=self.url, host=host)}, b""
        return fault


@lru_cache(maxsize=1)
def tls():
    """A local certificate authority (trustme), a server TLS context for 127.0.0.1 it signed, and the
    path of its certificate: point REQUESTS_CA_BUNDLE there and requests trusts the fakes' HTTPS."""
    import ssl
    import tempfile

    import trustme

    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    path = tempfile.NamedTemporaryFile(prefix="ticker-test-ca-", suffix=".pem", delete=False).name
    ca.cert_pem.write_to_path(path)
    return context, path


def _attrs(item: dict, keys) -> str:
    return "".join(f" {k}={quoteattr(str(item[k]))}" for k in keys if k in item)


# -- MTBank: GET /currxml.php?ver=2 (FACTS §3) -------------------------------------------------

MTBANK_PATH, MTBANK_QUERY = "/currxml.php", {"ver": "2"}


def mtbank_data() -> dict:
    """An answer's content: the root's date and its departments, each with its currencies as
    (code, codeTo, purchase, sale, cacheless) as the feed writes them.

    - 168,768,968,868: a comma list of ids (one department), Minsk, with coordinates (x longitude),
      every pair RECON26 lists at every department, cash and non-cash, plus PLN and CNY;
    - 12: Minsk, no coordinates (26 of 105 had none), CNY sold but not bought (a zero);
    - 45: Brest, in the older labels (code BYN, codeTo the currency), GBP and TRY (at a few);
    - 51: Grodno, non-cash all zero: cash only.
    """
    usual = [("USD", "BYN", "2.9200", "2.9700"), ("EUR", "BYN", "3.1700", "3.2500"), ("RUB", "BYN", "3.5500", "3.7500"),
             ("EUR", "RUB", "84.50", "90.00"), ("EUR", "USD", "1.0650", "1.1050"), ("USD", "RUB", "78.00", "82.50")]
    non_cash = [("USD", "BYN", "2.9350", "2.9550"), ("EUR", "BYN", "3.1900", "3.2300"), ("RUB", "BYN", "3.6000", "3.7000"),
                ("EUR", "RUB", "85.50", "89.00"), ("EUR", "USD", "1.0750", "1.0950"), ("USD", "RUB", "79.00", "81.50")]

    def both(cash, cashless):
        return [(*c, "0") for c in cash] + [(*c, "1") for c in cashless]

    return {
        "date": "17.03.2026",
        "departments": [
            {"id": "168,768,968,868", "label": "Обменный пункт №10", "address": "пр. Независимости, 58",
             "city": "Минск", "x": "27.5962", "y": "53.9185",
             "currencies": both(usual + [("PLN", "BYN", "7.4000", "8.0000"), ("CNY", "BYN", "4.0500", "4.3000")],
                                non_cash + [("PLN", "BYN", "7.5500", "7.8500"), ("CNY", "BYN", "4.1000", "4.2500")])},
            {"id": "12", "label": "ЦБУ №12", "address": "ул. Толстого, 10", "city": "Минск",
             "currencies": both(usual + [("CNY", "BYN", "0", "4.3500")], non_cash)},
            {"id": "45", "label": "ЦБУ №45", "address": "ул. Советская, 48", "city": "Брест", "x": "23.6870", "y": "52.0938",
             "currencies": both([(against, code, buy, sell) if against == "BYN" else (code, against, buy, sell)
                                 for code, against, buy, sell in usual + [("GBP", "BYN", "3.7000", "3.9500"),
                                                                          ("TRY", "BYN", "0.6500", "0.7800")]],
                                [("BYN", code, buy, sell) for code, _, buy, sell in non_cash[:3]])},
            {"id": "51", "label": "Обменный пункт №51", "address": "ул. Горького, 91", "city": "Гродно",
             "x": "23.8258", "y": "53.6694",
             "currencies": both(usual, [(c, a, "0", "0") for c, a, _, _ in non_cash])},
        ],
    }


def mtbank_body(data: dict | None = None) -> bytes:
    data = mtbank_data() if data is None else data
    lines = [f'<?xml version="1.0" encoding="UTF-8"?>\n<rates name="MTBank rates" date="{data["date"]}">']
    for d in data["departments"]:
        lines.append(f"<department{_attrs(d, ('x', 'y', 'label', 'address', 'id', 'city'))}>")
        for code, to, purchase, sale, cacheless in d["currencies"]:
            lines.append(f"<currency><code>{code}</code><codeTo>{to}</codeTo><purchase>{purchase}</purchase>"
                         f"<sale>{sale}</sale><cacheless>{cacheless}</cacheless></currency>")
        lines.append("</department>")
    lines.append('<metals><metal code="AU"><weight>1</weight><purchase>430.00</purchase><sale>470.00</sale></metal>'
                 "</metals>")  # precious metals: not exchange rates
    lines.append("</rates>")
    return "\n".join(lines).encode()


def mtbank_quotes(data: dict | None = None) -> set[tuple]:
    """What the answer quotes, from its data: (department id, currency, against, side, rate text, channel),
    the currency being whichever of code and codeTo is not BYN, zeros left out."""
    data = mtbank_data() if data is None else data
    found = set()
    for d in data["departments"]:
        for code, to, purchase, sale, cacheless in d["currencies"]:
            currency, against = (to, "BYN") if code == "BYN" else (code, to)
            for side, text in (("buy", purchase), ("sell", sale)):
                if Decimal(text):
                    found.add((d["id"], currency, against, side, text, "non-cash" if cacheless == "1" else "cash"))
    return found


# -- Belgazprombank: GET /upload/courses.xml (FACTS §4) -------------------------------------------

BELGAZPROMBANK_PATH = "/upload/courses.xml"
BELGAZPROMBANK_EXPORT = "/export_courses.php"  # documented; 301 to an http:// URL, then to the file


def belgazprombank_data() -> list[dict]:
    """Branches (names only), each with rates {currency as written, Units, tiers [(min, max or None,
    buy, sell)]}: lower-case codes, RUB per 100, PLN and CNY per 10, USD and EUR in two tiers,
    crosses and a reverse (usd_eur beside eur_usd), and a zero."""
    def rates(usd_buy, usd_sell, chf=("3.2500", "3.4500")):
        return [
            {"currency": "usd", "Units": "1", "tiers": [("0", "9999", usd_buy, usd_sell), ("10000", None, "2.9350", "2.9580")]},
            {"currency": "eur", "Units": "1", "tiers": [("0", "9999", "3.1800", "3.2450"), ("10000", None, "3.1900", "3.2300")]},
            {"currency": "rub", "Units": "100", "tiers": [("0", "999999", "3.5600", "3.7400")]},
            {"currency": "pln", "Units": "10", "tiers": [("0", "9999", "7.3500", "7.9500")]},
            {"currency": "cny", "Units": "10", "tiers": [("0", "9999", "4.0000", "4.3000")]},
            {"currency": "chf", "Units": "1", "tiers": [("0", "9999", *chf)]},
            {"currency": "eur_usd", "Units": "1", "tiers": [("0", "9999", "1.0600", "1.1000")]},
            {"currency": "usd_eur", "Units": "1", "tiers": [("0", "9999", "0.9050", "0.9400")]},
            {"currency": "usd_rub", "Units": "1", "tiers": [("0", "9999", "78.5000", "82.0000")]},
        ]
    return [
        {"name": "ЦБУ №501", "rates": rates("2.9250", "2.9690")},
        {"name": "ЦБУ №502", "rates": rates("2.9300", "2.9650", chf=("0", "3.4400"))},  # it sells CHF, buys none
        {"name": "Головной офис", "rates": rates("2.9280", "2.9700")},
    ]


def belgazprombank_body(data: list[dict] | None = None, encoding: str = "UTF-8", declared: bool = True,
                        root: str = "courses") -> bytes:
    """The answer in `encoding`, declared in the XML declaration or not; `root` is the root element's
    name, which nothing on record gives."""
    data = belgazprombank_data() if data is None else data
    head = f'<?xml version="1.0" encoding="{encoding}"?>\n' if declared else ""
    lines = [f"{head}<{root}>"]
    for branch in data:
        lines.append(f"<branch{_attrs(branch, ('name',))}>")
        for r in branch["rates"]:
            lines.append(f"<rate{_attrs(r, ('currency', 'Units'))}>")
            for low, high, buy, sell in r["tiers"]:
                bound = f' max-amount="{high}"' if high is not None else ""
                lines.append(f'<range min-amount="{low}"{bound}><buy>{buy}</buy><sell>{sell}</sell></range>')
            lines.append("</rate>")
        lines.append("</branch>")
    lines.append(f"</{root}>")
    return "\n".join(lines).encode(encoding)


def belgazprombank_quotes(data: list[dict] | None = None) -> set[tuple]:
    """(branch, code, against, side, rate text, scale, min amount, max amount) of every non-zero value."""
    found = set()
    for branch in belgazprombank_data() if data is None else data:
        for r in branch["rates"]:
            code, _, against = r["currency"].upper().partition("_")
            for low, high, buy, sell in r["tiers"]:
                for side, text in (("buy", buy), ("sell", sell)):
                    if Decimal(text):
                        found.add((branch["name"], code, against or "BYN", side, text, int(r["Units"]),
                                   Decimal(low), None if high is None else Decimal(high)))
    return found


# -- Alfa-Bank: GET /partner/1.0.1/public/rates (FACTS §2) ----------------------------------------

ALFA_PATH = "/partner/1.0.1/public/rates"
ALFA_FRAGMENT = "alfabank_rates_2024-02-16_two-of-six-entries.json"


def alfa_recorded() -> list[dict]:
    """The two entries on record (EUR/RUB, USD/RUB, 16.02.2024), read in place, numbers as Decimal."""
    text = (shared_dir() / "banks" / "samples" / "fragments" / ALFA_FRAGMENT).read_text(encoding="utf-8")
    return json.loads(text, parse_float=Decimal)["rates"]


def alfa_entries() -> list[dict]:
    """The six entries RECON26 lists, in its order: the two on record, then EUR/USD, RUB/BYN
    (quantity 100), EUR/BYN and USD/BYN built in their shape, with 2024's levels."""
    recorded = alfa_recorded()
    day = recorded[0]["date"]

    def entry(sell_iso, sell_code, buy_iso, buy_code, sell_rate, buy_rate, quantity=1, name=None):
        return {"sellRate": Decimal(sell_rate), "sellIso": sell_iso, "sellCode": sell_code,
                "buyRate": Decimal(buy_rate), "buyIso": buy_iso, "buyCode": buy_code,
                "quantity": quantity, "name": name, "date": day}

    return [*recorded,
            entry("EUR", 978, "USD", 840, "1.050000", "1.100000"),
            entry("RUB", 643, "BYN", 933, "3.450000", "3.600000", 100, "российских рублей"),
            entry("EUR", 978, "BYN", 933, "3.460000", "3.530000", 1, "евро"),
            entry("USD", 840, "BYN", 933, "3.220000", "3.270000", 1, "доллар США")]


def alfa_body(entries: list[dict] | None = None) -> bytes:
    """{"rates": [...]} with the numbers written as Alfa-Bank writes them (94.000000)."""
    # A Decimal goes out as its text, unquoted: json has no way to write 94.000000 otherwise.
    return json.dumps({"rates": alfa_entries() if entries is None else entries}, ensure_ascii=False,
                      default=lambda number: f"@@{number}@@").replace('"@@', "").replace('@@"', "").encode()


def alfa_quotes(entries: list[dict] | None = None) -> set[tuple]:
    """(code, against, side, rate text, scale): sellRate the bank's buy, buyRate its sell (FACTS §2)."""
    found = set()
    for e in alfa_entries() if entries is None else entries:
        for side, key in (("buy", "sellRate"), ("sell", "buyRate")):
            if e[key]:
                found.add((e["sellIso"], e["buyIso"], side, str(e[key]), e["quantity"]))
    return found


# -- Dabrabyt: GET /export_courses.php (FACTS §6.1) ------------------------------------------------

DABRABYT_PATH = "/export_courses.php"


def dabrabyt_data() -> dict:
    """The answer's time and its branches, each with values {iso, buy, sale} as written: a cross pair
    (USD/EUR), RUB per 100, a zero, and one branch that lists RUB first (clients read by position)."""
    usual = [{"iso": "USD", "buy": "2.9300", "sale": "2.9650"}, {"iso": "EUR", "buy": "3.1750", "sale": "3.2400"},
             {"iso": "RUB", "buy": "3.5800", "sale": "3.7200"}, {"iso": "USD/EUR", "buy": "0.9000", "sale": "0.9350"},
             {"iso": "PLN", "buy": "7.3000", "sale": "7.9000"}]
    return {"time": "17.03.2026 14:15", "filials": [
        {"name": "Центральный офис", "values": usual},
        {"name": "ЦБУ №5", "values": [usual[2], usual[0], usual[1], usual[3]]},
        {"name": "Отделение №12", "values": [*usual[:3], {"iso": "PLN", "buy": "0", "sale": "0"},
                                             {"iso": "EUR/RUB", "buy": "85.0000", "sale": "89.5000"}]},
    ]}


def dabrabyt_body(data: dict | None = None, encoding: str = "UTF-8", declared: bool = True,
                  time_as: str = "element") -> bytes:
    """The answer in `encoding`, declared or not; its `time` an element or (time_as "attribute") the root's."""
    data = dabrabyt_data() if data is None else data
    head = f'<?xml version="1.0" encoding="{encoding}"?>\n' if declared else ""
    stamp = f'<time>{data["time"]}</time>' if time_as == "element" else ""
    root = f' time="{data["time"]}"' if time_as == "attribute" else ""
    lines = [f"{head}<root{root}>{stamp}<filials>"]
    for branch in data["filials"]:
        lines.append(f"<filial{_attrs(branch, ('name',))}><rates>")
        lines += [f"<value{_attrs(v, ('iso', 'buy', 'sale'))}/>" for v in branch["values"]]
        lines.append("</rates></filial>")
    lines.append("</filials></root>")
    return "\n".join(lines).encode(encoding)


def dabrabyt_quotes(data: dict | None = None) -> set[tuple]:
    """(branch, code, against, side, rate text) of every non-zero value."""
    found = set()
    for branch in (dabrabyt_data() if data is None else data)["filials"]:
        for v in branch["values"]:
            code, _, against = v["iso"].upper().partition("/")
            for side, key in (("buy", "buy"), ("sell", "sale")):
                if Decimal(v[key]):
                    found.add((branch["name"], code, against or "BYN", side, v[key]))
    return found


# -- the servers ----------------------------------------------------------------------------------

FEEDS = {  # source id -> (path, query, body, content type) of its default answer
    "mtbank": lambda: (MTBANK_PATH, MTBANK_QUERY, mtbank_body(), XML),
    "belgazprombank": lambda: (BELGAZPROMBANK_PATH, {}, belgazprombank_body(), XML),
    "alfabank": lambda: (ALFA_PATH, {}, alfa_body(), JSON),
    "dabrabyt": lambda: (DABRABYT_PATH, {}, dabrabyt_body(), XML),
}


def feed_server(source_id: str) -> FakeBank:
    """A real local server (not started) answering as the bank's feed does by default; Belgazprombank's
    documented URL redirects to http://, as RECON26 saw."""
    path, query, body, kind = FEEDS[source_id]()
    redirects = {BELGAZPROMBANK_EXPORT: "http://{host}" + BELGAZPROMBANK_PATH} if source_id == "belgazprombank" else {}
    server = FakeBank(redirects)
    server.set_verbatim(path, query, body, 200, kind)
    return server


def serve(server: FakeBank, source_id: str, body: bytes, content_type: str | None = None, status: int = 200) -> None:
    """What the bank's feed answers from now on."""
    path, query, _, kind = FEEDS[source_id]()
    server.set_verbatim(path, query, body, status, content_type or kind)


def section(server: FakeBank, **keys) -> dict[str, str]:
    """The bank's config section pointing at the local server, enabled, with fast retries."""
    return {"enabled": "true", "base_url": f'"{server.url}"', "timeout": "2", "retries": "1", "backoff": "0.02",
            **keys}


# -- the five banks together ------------------------------------------------------------------------

def five_banks(folder, nbrb_url: str, belarusbank: FakeNBRB, feeds: dict[str, FakeBank], enabled=BANKS, **extra):
    """A config.toml for NBRB's fake, Belarusbank's (support.banks) and the four `feeds`, each bank's
    section enabled when in `enabled`, every currency tracked; `extra` as write_config's."""
    from . import write_config
    from .banks import bank_section

    sections = {"belarusbank": bank_section(belarusbank), **{b: section(s) for b, s in feeds.items()}}
    for name, keys in sections.items():
        keys["enabled"] = "true" if name in enabled else "false"
    return write_config(folder, nbrb_url, track={"currencies": '["*"]'}, **sections, **extra)


def city_quotes(code: str = "USD", city: str = "Минск", mtbank: dict | None = None) -> dict[tuple[str, str, str], Decimal]:
    """The cash rates of `code` against BYN that the fakes' bodies quote at the points of `city`:
    (bank, point id, side) -> rate. Only Belarusbank's recording and MTBank's feed name cities."""
    from .banks import recorded_points

    quotes = {("belarusbank", str(p["filial_id"]), side): Decimal(p[key]) for p in recorded_points()
              if p["name"] == city for side, key in (("buy", f"{code}_in"), ("sell", f"{code}_out")) if Decimal(p[key])}
    data = mtbank_data() if mtbank is None else mtbank
    here = {d["id"] for d in data["departments"] if d["city"] == city}
    quotes.update({("mtbank", point, side): Decimal(text) for point, code_, against, side, text, channel
                   in mtbank_quotes(data) if point in here and (code_, against, channel) == (code, "BYN", "cash")})
    return quotes


def best_of(quotes: dict, side: str) -> tuple[Decimal, list[tuple[str, str]]]:
    """The best rate of `side` (the highest buy, the lowest sell) and the (bank, point) pairs offering it."""
    values = [v for (_, _, s), v in quotes.items() if s == side]
    top = max(values) if side == "buy" else min(values)
    return top, sorted((b, p) for (b, p, s), v in quotes.items() if s == side and v == top)


def started_feeds() -> dict[str, FakeBank]:
    """The four fakes built from FACTS, started (stop each): source id -> server."""
    return {bank: feed_server(bank).start() for bank in BANKS if bank != "belarusbank"}
