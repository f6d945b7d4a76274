"""index.html (ticker/outputs/page.py): rendered from tables and items built in memory from the
recorded rates, every cell checked and escaped; then in a real browser (Debian's headless Chromium,
driven by Playwright): the day's full table, the next day's once published, the header line
unbroken, and charts legible on a phone.

The screenshots are kept as test artefacts in build/artefacts/ ($TICKER_ARTEFACTS overrides it).
"""

import contextlib
import functools
import html
import json
import os
import re
import tempfile
import threading
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from html.parser import HTMLParser
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner
from support import minsk, write_config
from support.banks import best_in, recorded_points
from support.series import bank_rates, item, monthly, name, rate, table

from ticker import config as configuration
from ticker.cli import cli
from ticker.outputs import charts, page
from ticker.outputs.table import Row, Table

ROOT = Path(__file__).resolve().parents[2]
ARTEFACTS = Path(os.environ.get("TICKER_ARTEFACTS") or ROOT / "build" / "artefacts")
BROWSER = "/usr/bin/chromium"
# This machine's network is closed: Chromium must not try to reach its services.
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run"]
MONDAY = "2026-03-16 18:00"  # Tuesday's rates, recorded, are published by then
TICK_PX = charts.SMALL * charts.DPI / 72  # tick labels in the PNG, in image pixels


def run(config_file, *args) -> str:
    result = CliRunner().invoke(cli, ["--config", str(config_file), *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


@contextlib.contextmanager
def served(folder: Path):
    """The URL of folder/index.html on a real local web server, while the block runs."""
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(folder))
    handler.log_message = lambda *args: None
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/index.html"
    finally:
        server.shutdown()
        server.server_close()


@contextlib.contextmanager
def monday_site(folder: Path, database: Path):
    """`ticker chart` on Monday 2026-03-16 evening over `database`, served over HTTP, with the
    tables of that day and the next (published by then) and the header line."""
    config_file = write_config(folder, "http://127.0.0.1:9", database={"path": f'"{database}"'})
    with minsk(MONDAY):
        run(config_file, "chart")
        tables = {day: json.loads(run(config_file, "table", "--date", day, "--json"))
                  for day in ("2026-03-16", "2026-03-17")}
        header = run(config_file, "line").strip()
    with served(folder / "charts") as url:
        yield {"url": url, "folder": folder / "charts", "tables": tables, "header": header}


# -- in memory: page.render on tables and items of the recorded rates, no database ----------------

MONDAY_DAY, TUESDAY_DAY = date(2026, 3, 16), date(2026, 3, 17)
CODES = ["RUB", "USD", "EUR"]
SET = [page.Chart("overview-365.png", "RUB, USD, EUR in BYN, % change over 365 days", charts.PIXELS),
       page.Chart("usd-30.png", "USD in BYN over 30 days", charts.PIXELS)]
LINKS = ["ticker.txt", "ticker.json"]


def rendered(today=None, ahead=(), line=None, banks=None, figures=SET) -> str:
    """The page of `today`'s table (Monday's of CODES by default) with its header line (the items of CODES)."""
    today = today or table(MONDAY_DAY, CODES)
    return page.render(today.day, line if line is not None else [item(c, today.day) for c in CODES], 2, today,
                       list(ahead), figures, LINKS, banks)


def sections(html_: str) -> list[str]:
    return re.findall(r"<section>(.*?)</section>", html_, re.S)


def cells_of(row_html: str) -> list[str]:
    """A row's cells as a reader sees them: tags dropped, entities read, non-breaking spaces as spaces."""
    return [html.unescape(re.sub(r"<[^>]+>", "", c)).replace("\xa0", " ") for c in re.findall(r"<td[^>]*>(.*?)</td>", row_html)]


def signed_cells(r: Row) -> list[str]:
    """What the table shows of a row, worked out from its rates: the day before's in the same scale here."""
    change = r.current.rate - r.previous.rate
    arrow = {1: "▲ ", -1: "▼ ", 0: ""}[(change > 0) - (change < 0)]
    pct = (100 * change / r.previous.rate).quantize(Decimal("0.01"), ROUND_HALF_UP)
    return [f"{r.current.scale} {r.current.code}", r.name, str(r.current.rate), f"{arrow}{change:+f}", f"{pct:+}%"]


def test_the_page_has_the_days_table_and_each_day_published_ahead():
    today, tomorrow = table(MONDAY_DAY, CODES, ahead=[TUESDAY_DAY]), table(TUESDAY_DAY, CODES)
    out = rendered(today, [tomorrow])
    assert "<script" not in out
    found = sections(out)
    assert [re.search(r"<h2>(.*?)</h2>", s)[1] for s in found] == [
        "Official rates in force on Monday, 2026-03-16", "Published ahead: in force on Tuesday, 2026-03-17"]
    for section, shown in zip(found, (today, tomorrow)):
        assert f"<caption>Change in BYN and % against {shown.previous_day}</caption>" in section
        rows = re.findall(r'<tr class="(up|down|none)">(.*?)</tr>', section)
        assert [cells_of(row) for _, row in rows] == [signed_cells(r) for r in shown.rows]
        assert [direction for direction, _ in rows] == [r.direction for r in shown.rows]
    # The scale written out, joined to the code by a non-breaking space.
    assert '<td class="code">100\xa0RUB</td>' in found[0]
    assert f"<title>BYN exchange rates, {MONDAY_DAY}</title>" in out


def test_the_header_line_is_ticker_lines_items_never_broken():
    line = [item(c, MONDAY_DAY) for c in CODES]
    out = rendered(line=line)
    [shown] = re.findall(r'<p class="line">(.*?)</p>', out)
    spans = re.findall(r'<span class="item (up|down|none)" title="([^"]*)">(.*?)</span>', shown)
    assert [s[0] for s in spans] == [i.direction for i in line]
    assert [html.unescape(s[2]) for s in spans] == [page.item_text(i, 2).replace(" ", "\xa0") for i in line]
    assert all(" " not in s[2] for s in spans)
    assert [s[1] for s in spans] == [f"{i.current.rate} BYN per {i.current.scale} {i.current.code}" for i in line]
    assert re.sub(r"<[^>]+>", "", shown).replace("\xa0", " ") == " · ".join(page.item_text(i, 2) for i in line)


def test_a_monthly_rate_is_marked_with_the_day_it_was_set_and_no_daily_one():
    # KRW and THB: made-up monthly rates set on 2026-03-01, in force on both days.
    monthly_rows = [Row(monthly(code, "2026-03-01"), monthly(code, "2026-03-01"), name(monthly(code, "2026-03-01").cur_id))
                    for code in ("KRW", "THB")]
    days = [table(day, CODES) for day in (MONDAY_DAY, TUESDAY_DAY)]
    today, tomorrow = (Table(t_.day, t_.rows + monthly_rows, [TUESDAY_DAY] if t_.day == MONDAY_DAY else [])
                       for t_ in days)
    out = rendered(today, [tomorrow])
    for section, shown in zip(sections(out), (today, tomorrow)):
        rows = re.findall(r'<tr class="(?:up|down|none)">(.*?)</tr>', section)
        assert len(rows) == len(shown.rows) == 5
        for row, r in zip(rows, shown.rows):
            note = f" set monthly on {r.current.date}" if r.current.periodicity else ""
            expected = [f"{r.current.scale} {r.current.code}", r.name, f"{r.current.rate}{note}"]
            assert cells_of(row)[:3] == expected
        # The rate NBRB set on the 1st is in force all month: against the day before, no change.
        krw = next(row for row in rows if ">1000\xa0KRW<" in row)
        assert re.search(r'<td class="num">2\.1367 <span class="set">set monthly on 2026-03-01</span></td>'
                         r'<td class="num change abs">\+0\.0000</td><td class="num change">\+0\.00%</td>', krw)
    assert out.count('class="set"') == 4  # KRW and THB, today and tomorrow; no daily rate is marked


def test_every_text_from_outside_is_escaped():
    hostile = '<script>alert("x")</script> & "Co"'
    usd = rate("USD", MONDAY_DAY)
    today = Table(MONDAY_DAY, [Row(usd, rate("USD", "2026-03-15"), hostile)], [])
    figures = [page.Chart('a"b<c>.png', 'USD "in" <BYN>', (975, 700))]
    # A city named with markup: the bank's answer is input from outside too.
    points = [{**p, "name": "<Минск>"} for p in recorded_points() if p["name"] == "Минск"]
    bank = bank_rates("USD", "<Минск>", "2026-03-16T09:00:00Z", usd, points)
    out = rendered(today, line=[item("USD", MONDAY_DAY)], figures=figures,
                   banks=page.Banks("<Минск>", {"USD": bank}, table=True, line=True))
    assert "<script>" not in out and "<Минск>" not in out and 'a"b' not in out
    assert '<td class="name">&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &#34;Co&#34;</td>' in out
    assert '<img src="latest/a&#34;b&lt;c&gt;.png" alt="USD &#34;in&#34; &lt;BYN&gt;"' in out
    assert "best Belarusbank rates in &lt;Минск&gt; as of 12:00 Minsk time" in out
    assert "in &lt;Минск&gt;" in re.search(r'<span class="item [a-z]+" title="([^"]*)"', out)[1]


def test_the_best_bank_rates_beside_each_official_rate_in_its_units():
    points = recorded_points()
    today = table(TUESDAY_DAY, CODES)
    quoted = {code: bank_rates(code, "Минск", "2026-03-17T09:00:00Z", rate(code, TUESDAY_DAY), points) for code in CODES}
    out = rendered(today, line=[item(c, TUESDAY_DAY) for c in CODES], banks=page.Banks("Минск", quoted, True, True))
    [section] = sections(out)
    assert ('<p class="note">Buy and Sell: the best Belarusbank rates in Минск as of 12:00 Minsk time, in the same'
            " units: the bank buys the currency from you at the one and sells it to you at the other.</p>") in section
    head = [html.unescape(re.sub(r"<[^>]+>", "", c)) for c in re.findall(r"<th[^>]*>(.*?)</th>", section)]
    assert head == ["Currency", "Name", "Rate, BYN", "Change", "%", "Buy", "Sell"]
    assert '<table class="banks">' in section
    for row, r in zip(re.findall(r'<tr class="(?:up|down|none)">(.*?)</tr>', section), today.rows):
        code = r.current.code
        # Belarusbank quotes per NBRB's scale for these: the rates as published.
        assert cells_of(row)[5:] == [str(best_in(points, "Минск", f"{code}_in")), str(best_in(points, "Минск", f"{code}_out"))]
    [line] = re.findall(r'<p class="line">(.*?)</p>', out)
    usd_buy, usd_sell = best_in(points, "Минск", "USD_in"), best_in(points, "Минск", "USD_out")
    shown = re.sub(r"<[^>]+>", "", line).replace("\xa0", " ")
    assert f"USD {rate('USD', TUESDAY_DAY).rate.quantize(Decimal('0.01'), ROUND_HALF_UP)} BYN" in shown
    assert f"({usd_buy.quantize(Decimal('0.01'), ROUND_HALF_UP)}/{usd_sell.quantize(Decimal('0.01'), ROUND_HALF_UP)})" in shown


def test_a_day_without_bank_rates_says_so_and_adds_no_columns():
    out = rendered(table(TUESDAY_DAY, CODES), line=[item(c, TUESDAY_DAY) for c in CODES],
                   banks=page.Banks("Брест", {}, table=True, line=True))
    assert '<p class="note">No bank rates were seen in Брест on 2026-03-17.</p>' in out
    assert "<th scope=\"col\" class=\"num bank\">" not in out and '<table class="banks">' not in out
    assert "(" not in re.findall(r'<p class="line">(.*?)</p>', out)[0]


def test_each_chart_is_an_image_of_its_size_and_the_footer_links_the_ticker_files():
    out = rendered()
    figures = re.findall(r'<figure><img src="([^"]+)" alt="([^"]+)" width="(\d+)" height="(\d+)" loading="lazy"></figure>', out)
    assert figures == [(f"latest/{c.name}", c.text, str(c.size[0]), str(c.size[1])) for c in SET]
    assert f"max-width: {charts.PIXELS[0]}px" in out  # never drawn wider than its pixels
    assert re.findall(r'<footer><p>(.*?)</p></footer>', out) == [
        '<a href="latest/ticker.txt">ticker.txt</a> · <a href="latest/ticker.json">ticker.json</a>']


# -- end to end: `ticker chart` over the recorded database, and in Chromium -----------------------


@pytest.fixture(scope="module")
def site(tmp_path_factory, recorded_db):
    """The page over the recorded database."""
    with monday_site(tmp_path_factory.mktemp("site"), recorded_db) as served_site:
        yield served_site


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright, tempfile.TemporaryDirectory() as profile:
        context = playwright.chromium.launch_persistent_context(
            profile, executable_path=BROWSER, headless=True, args=FLAGS, timeout=60_000)
        yield context
        context.close()


def test_the_page_has_the_full_table_of_today_and_of_tomorrow(site):
    page = (site["folder"] / "index.html").read_text(encoding="utf-8")
    assert "<script" not in page
    sections = re.findall(r"<section>(.*?)</section>", page, re.S)
    assert [re.search(r"<h2>(.*?)</h2>", s)[1] for s in sections] == [
        "Official rates in force on Monday, 2026-03-16", "Published ahead: in force on Tuesday, 2026-03-17"]
    for section, day in zip(sections, ("2026-03-16", "2026-03-17")):
        rows = re.findall(r'<tr class="(up|down|none)">(.*?)</tr>', section)
        expected = site["tables"][day]["currencies"]
        assert len(rows) == len(expected) == 30
        for (direction, row), currency in zip(rows, expected):
            cells = [html.unescape(re.sub(r"<[^>]+>", "", c)).replace("\xa0", " ")
                     for c in re.findall(r"<td[^>]*>(.*?)</td>", row)]
            mark = {"up": "▲ ", "down": "▼ ", "none": ""}[currency["direction"]]
            assert direction == currency["direction"]
            assert cells == [f"{currency['scale']} {currency['code']}", currency["name"], currency["rate"],
                             f"{mark}{Decimal(currency['change']):+f}", f"{Decimal(currency['change_pct']):+}%"]
    # The scale written out, the change in BYN and percent, with its arrow and colour class.
    rub = re.search(r'<tr class="(\w+)"><td class="code">100\xa0RUB</td>.*?</tr>', sections[0])
    assert rub and rub[1] in ("up", "down")


@pytest.mark.parametrize("width, height", [(1280, 800), (390, 844)])
def test_in_chromium_nothing_overflows_every_image_loads_and_ticks_are_legible(site, browser, width, height):
    in_chromium(site, browser, width, height, images=7)


def in_chromium(site, browser, width, height, images, name="page"):
    """The page at `width` x `height`: nothing scrolls sideways, every one of the `images` loads and
    its tick labels are at least 11 CSS px, the header line is `ticker line`'s, unbroken. Returns
    the layout read, with where each monthly rate's mark and its rate are drawn (`marks`)."""
    tab = browser.new_page()
    try:
        tab.set_viewport_size({"width": width, "height": height})
        tab.goto(site["url"], wait_until="load", timeout=30_000)
        # Scroll down as a reader does, half a screen at a time, so that every lazy image comes near
        # enough to load; then wait for each (with a deadline).
        tab.evaluate("""async () => {
            for (let y = 0; y < document.body.scrollHeight; y += innerHeight / 2) {
                window.scrollTo(0, y);
                await new Promise(done => setTimeout(done, 50));
            }
            window.scrollTo(0, document.body.scrollHeight);
        }""")
        tab.wait_for_function("[...document.images].every(i => i.complete && i.naturalWidth > 0)", timeout=30_000)
        ARTEFACTS.mkdir(parents=True, exist_ok=True)
        tab.evaluate("window.scrollTo(0, 0)")
        tab.screenshot(path=ARTEFACTS / f"{name}-{width}x{height}.png", full_page=True)
        layout = tab.evaluate("""() => ({
            scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth,
            images: [...document.images].map(i => ({src: i.currentSrc, shown: i.clientWidth, natural: i.naturalWidth,
                                                    ok: i.complete && i.naturalWidth > 0})),
            items: [...document.querySelectorAll('.line .item')].map(e => ({
                text: e.textContent, lines: e.getClientRects().length, wrap: getComputedStyle(e).whiteSpace})),
            marks: [...document.querySelectorAll('td .set')].map(e => {
                const cell = e.closest('td'), mark = e.getBoundingClientRect(), rate = cell.firstChild;
                const range = document.createRange();
                range.selectNodeContents(rate);
                const number = range.getBoundingClientRect();
                return {text: e.textContent, row: e.closest('tr').querySelector('.code').textContent,
                        size: parseFloat(getComputedStyle(e).fontSize), left: mark.left, right: mark.right,
                        top: mark.top, width: mark.width, height: mark.height,
                        number: {left: number.left, right: number.right, bottom: number.bottom},
                        content: cell.getBoundingClientRect().right - parseFloat(getComputedStyle(cell).paddingRight)};
            }),
        })""")
    finally:
        tab.close()
    assert layout["scroll"] <= layout["client"] == width  # no horizontal scrolling
    assert len(layout["images"]) == images and all(image["ok"] for image in layout["images"]), layout["images"]
    for image in layout["images"]:
        assert image["natural"] == charts.PIXELS[0]
        # The tick labels as the reader sees them, in CSS pixels.
        assert TICK_PX * image["shown"] / image["natural"] >= 11, image
    assert " · ".join(item["text"].replace("\xa0", " ") for item in layout["items"]) == site["header"]
    assert all(item["lines"] == 1 and item["wrap"] == "nowrap" and " " not in item["text"] for item in layout["items"])
    assert (ARTEFACTS / f"{name}-{width}x{height}.png").stat().st_size > 10_000
    return layout


# -- the best bank rates beside the official ones ([banks] show) --------------------------------


@pytest.fixture(scope="module")
def bank_site(tmp_path_factory, bank_db):
    """`ticker chart` on 2026-03-17 evening with every bank output shown, served over HTTP."""
    folder = tmp_path_factory.mktemp("bank_site")
    config_file = write_config(folder, "http://127.0.0.1:9", database={"path": f'"{bank_db}"'},
                               banks={"show": '["page", "ticker", "charts"]'})
    with minsk("2026-03-17 18:00"):
        run(config_file, "chart")
        table = json.loads(run(config_file, "table", "--json"))
        header = run(config_file, "line").strip()
    with served(folder / "charts") as url:
        yield {"url": url, "folder": folder / "charts", "table": table, "header": header}


def test_the_days_table_has_the_best_minsk_buy_and_sell_beside_each_official_rate(bank_site):
    from support.banks import best_in, history

    last = history()[-1][1]  # the last answer of 2026-03-17, 12:00 Minsk time
    page = (bank_site["folder"] / "index.html").read_text(encoding="utf-8")
    section = re.findall(r"<section>(.*?)</section>", page, re.S)[0]
    assert ('<p class="note">Buy and Sell: the best Belarusbank rates in Минск as of 12:00 Minsk time, in the same'
            " units: the bank buys the currency from you at the one and sells it to you at the other.</p>") in section
    head = [html.unescape(re.sub(r"<[^>]+>", "", c)) for c in re.findall(r"<th[^>]*>(.*?)</th>", section)]
    assert head == ["Currency", "Name", "Rate, BYN", "Change", "%", "Buy", "Sell"]
    rows = re.findall(r'<tr class="(?:up|down|none)">(.*?)</tr>', section)
    assert len(rows) == len(bank_site["table"]["currencies"]) == 30
    quoted = 0
    for row, currency in zip(rows, bank_site["table"]["currencies"]):
        cells = [html.unescape(re.sub(r"<[^>]+>", "", c)) for c in re.findall(r"<td[^>]*>(.*?)</td>", row)]
        code = currency["code"]
        # Belarusbank quotes per NBRB's scale (the poll checks it): the rates as published.
        buy, sell = (best_in(last, "Минск", f"{code}_{side}") if f"{code}_in" in last[0] else None
                     for side in ("in", "out"))
        assert cells[5:] == [str(buy) if buy else "", str(sell) if sell else ""], code
        quoted += buy is not None
    assert quoted == 12  # every currency some Minsk point quotes, UAH included
    usd = next(r for r in rows if ">1\xa0USD<" in r)
    assert '<td class="num bank">2.0550</td><td class="num bank">2.0600</td>' in usd
    assert bank_site["header"].startswith("RUB 3.67 BYN ▼ (3.21/3.24) · USD 2.95 BYN ▲ (2.06/2.06)")


@pytest.mark.parametrize("width, height", [(1280, 800), (390, 844)])
def test_with_bank_rates_nothing_overflows_in_chromium_and_every_band_chart_loads(bank_site, browser, width, height):
    # The trend and the band chart of USD, EUR and RUB over 30 and 365 days, and the overview.
    in_chromium(bank_site, browser, width, height, images=13, name="page-banks")


# -- monthly currencies (KRW, THB: NBRB sets their rates once a month) ---------------------------


@pytest.fixture(scope="module")
def monthly_site(tmp_path_factory, monthly_db):
    """The page over the daily and the monthly list."""
    with monday_site(tmp_path_factory.mktemp("monthly_site"), monthly_db) as served_site:
        yield served_site


@pytest.mark.parametrize("width, height", [(1280, 800), (390, 844)])
def test_monthly_marks_show_under_their_rate_and_nothing_overflows(monthly_site, browser, width, height):
    layout = in_chromium(monthly_site, browser, width, height, images=7, name="page-monthly")
    marks = layout["marks"]
    assert sorted((m["row"].replace("\xa0", " "), m["text"]) for m in marks) == sorted(
        [("1000 KRW", "set monthly on 2026-03-01"), ("100 THB", "set monthly on 2026-03-01")] * 2)
    for mark in marks:
        assert mark["width"] > 0 and mark["height"] > 0 and mark["size"] >= 11, mark  # shown and legible, on a phone too
        assert 0 <= mark["left"] and mark["right"] <= width, mark
        # On its own line under the rate, whose digits stay right-aligned with the other rates'.
        assert mark["top"] >= mark["number"]["bottom"] - 1, mark
        assert abs(mark["number"]["right"] - mark["content"]) < 1, mark


# -- hostile text: no value of the data or the config becomes markup --------------------------------

# Each would run a script if it reached the page as markup: window.pwned would be set.
PAYLOADS = ['<img src=x onerror="window.pwned=1">', "<script>window.pwned=2</script>",
            '" onmouseover="window.pwned=3" autofocus onfocus="window.pwned=3" x="', "'><svg onload=window.pwned=4>"]
# The city the config names, and the bank writes, with markup in it: the page's note, the title of
# the header line's items and the band charts' alt text carry it.
CITY = 'Минск"><img src=x onerror="window.pwned=5"><script>window.pwned=6</script>'
# Every element and attribute the page's template writes: nothing else may appear.
TEMPLATE = {"html": {"lang"}, "head": set(), "meta": {"charset", "name", "content", "http-equiv"}, "title": set(),
            "style": set(), "body": set(), "header": set(), "p": {"class"}, "span": {"class", "title"},
            "main": set(), "section": set(), "h2": set(), "table": {"class"}, "caption": set(), "thead": set(),
            "tbody": set(), "tr": {"class"}, "th": {"scope", "class"}, "td": {"class"}, "div": {"class"},
            "figure": set(), "img": {"src", "alt", "width", "height", "loading"}, "footer": set(), "a": {"href"}}


def hostile_points() -> list[dict]:
    """The recorded Belarusbank answer with every Minsk point in CITY and markup in its text fields."""
    from support.banks import recorded_points

    points = recorded_points()
    for n, point in enumerate(p for p in points if p["name"] == "Минск"):
        point["name"] = CITY
        for key in ("filials_text", "street", "street_type", "home_number", "name_type"):
            point[key] = f"{PAYLOADS[n % len(PAYLOADS)]} {point[key]}"
    return points


@pytest.fixture(scope="module")
def hostile_site(tmp_path_factory):
    """`ticker chart` over a database whose catalogue names and bank points carry markup, with the
    config's city too, every bank output shown; served over HTTP."""
    from support.banks import bank_section, bank_server, poll_history
    from support.nbrb_data import recorded_server

    folder = tmp_path_factory.mktemp("hostile_site")
    nbrb = recorded_server(today="2026-03-17")
    for n, record in enumerate(nbrb.catalogue):
        for key in ("Cur_Name", "Cur_Name_Eng", "Cur_NameMulti", "Cur_Name_EngMulti"):
            record[key] = f"{PAYLOADS[n % len(PAYLOADS)]} {record[key]}"
    with nbrb, bank_server() as bank:
        config_file = write_config(folder, nbrb.url, track={"currencies": '["*"]', "since": "2026-03-01"},
                                   belarusbank=bank_section(bank),
                                   banks={"show": '["page", "ticker", "charts"]',
                                          "city": json.dumps(CITY, ensure_ascii=False)})
        with minsk("2026-03-17 18:00"):
            run(config_file, "backfill")
        poll_history(configuration.load(config_file), bank,
                     [("2026-03-17 09:00", hostile_points())])
        with minsk("2026-03-17 18:00"):
            run(config_file, "chart")
    with served(folder / "charts") as url:
        yield {"url": url, "folder": folder / "charts", "config": config_file}


class Elements(HTMLParser):
    """What a real HTML parser finds in a page: each element with its attributes, and the text."""

    def __init__(self, page: str):
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict]] = []
        self.text: list[str] = []
        self.cells: list[list[str]] = []  # each table cell: [its class, its text]
        self._in_cell = False
        self.feed(page)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))
        if tag == "td":
            self.cells.append([dict(attrs).get("class", ""), ""])
            self._in_cell = True

    def handle_startendtag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))

    def handle_endtag(self, tag):
        if tag == "td":
            self._in_cell = False

    def handle_data(self, data):
        self.text.append(data)
        if self._in_cell:
            self.cells[-1][1] += data


def test_markup_from_the_data_and_the_config_reaches_the_page_as_text_only(hostile_site):
    import base64
    import hashlib

    page = (hostile_site["folder"] / "index.html").read_text(encoding="utf-8")
    found = Elements(page)
    for tag, attrs in found.elements:
        assert tag in TEMPLATE and set(attrs) <= TEMPLATE[tag], (tag, attrs)
    assert not [a for _, attrs in found.elements for a in attrs if a.startswith("on")]
    # The markup is there, as text: in the table's names, the note, the titles and the alt texts.
    text = "".join(found.text)
    names = [cell for css, cell in found.cells if css == "name"]
    assert len(names) == 32 and all(any(name.startswith(p + " ") for p in PAYLOADS) for name in names), names
    for payload in PAYLOADS:
        assert payload in text, payload
    assert f"Buy and Sell: the best Belarusbank rates in {CITY} as of 09:00 Minsk time" in text
    titles = [attrs["title"] for tag, attrs in found.elements if tag == "span" and "title" in attrs]
    assert titles and all(title.endswith(f" in {CITY}") for title in titles if "best bank" in title)
    assert any("best bank" in title for title in titles)
    alts = [attrs["alt"] for tag, attrs in found.elements if tag == "img"]
    assert sum(alt.endswith(f"rates in {CITY}") for alt in alts) == 6  # USD, EUR, RUB over 30 and 365 days
    # The one style, allowed by its hash, and no script of any kind.
    [csp] = [attrs["content"] for tag, attrs in found.elements if attrs.get("http-equiv") == "Content-Security-Policy"]
    style = re.search(r"<style>(.*?)</style>", page, re.S)[1]
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    assert csp == (f"default-src 'none'; img-src 'self'; style-src 'sha256-{digest}'; base-uri 'none';"
                   " form-action 'none'")


def load(browser, url: str, images: int, csp: bool = True) -> dict:
    """Open `url`, bring every lazy image near, wait for all of them; what the page ran and showed.
    Without `csp`, Chromium ignores the page's Content-Security-Policy (DevTools' Page.setBypassCSP):
    then only escaping stands between a payload and its script."""
    tab = browser.new_page()
    violations = []
    tab.on("console", lambda message: violations.append(message.text))
    try:
        if not csp:
            browser.new_cdp_session(tab).send("Page.setBypassCSP", {"enabled": True})
        tab.goto(url, wait_until="load", timeout=30_000)
        tab.evaluate("""async () => {
            for (let y = 0; y < document.body.scrollHeight; y += innerHeight / 2) {
                window.scrollTo(0, y);
                await new Promise(done => setTimeout(done, 50));
            }
        }""")
        tab.wait_for_function(f"document.images.length === {images} && "
                              "[...document.images].every(i => i.complete)", timeout=30_000)
        # Hover and focus every element, as a reader's pointer and keyboard would reach them.
        tab.evaluate("() => { for (const e of document.querySelectorAll('*')) {"
                     " e.dispatchEvent(new MouseEvent('mouseover', {bubbles: true})); e.focus && e.focus(); } }")
        tab.wait_for_timeout(200)
        return {"pwned": tab.evaluate("typeof window.pwned === 'undefined' ? null : window.pwned"),
                "loaded": tab.evaluate("[...document.images].filter(i => i.naturalWidth > 0).length"),
                "stylesheets": tab.evaluate("document.styleSheets.length"),
                "console": violations}
    finally:
        tab.close()


@pytest.mark.parametrize("where", ["http", "file"])
def test_in_chromium_no_payload_runs_even_without_the_csp_and_every_image_loads(hostile_site, browser, where):
    url = hostile_site["url"] if where == "http" else (hostile_site["folder"] / "index.html").as_uri()
    for csp in (False, True):
        shown = load(browser, url, images=13, csp=csp)
        assert shown["pwned"] is None, shown
        assert shown["loaded"] == 13, shown  # img-src 'self' admits the charts, from file:// too
        assert shown["stylesheets"] == 1, shown  # the style's hash matches: it applies
    assert not [line for line in shown["console"] if "Content Security Policy" in line]


def test_the_csp_stops_a_script_that_got_in_and_the_probe_sees_one_that_runs(hostile_site, browser):
    """The control of the test above: the same page with a script and a handler written into it
    sets window.pwned where the CSP is ignored, and not where it is honoured."""
    page = (hostile_site["folder"] / "index.html").read_text(encoding="utf-8")
    injected = hostile_site["folder"] / "injected.html"
    injected.write_text(page.replace("<main>", '<main><script>window.pwned = 7</script>'
                                     '<img src="x" onerror="window.pwned = 8">', 1), encoding="utf-8")
    try:
        url = hostile_site["url"].replace("index.html", "injected.html")
        assert load(browser, url, images=14, csp=False)["pwned"] in (7, 8)
        honoured = load(browser, url, images=14)
        assert honoured["pwned"] is None
        assert [line for line in honoured["console"] if "Content Security Policy" in line]
    finally:
        injected.unlink()
