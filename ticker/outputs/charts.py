"""Trend charts: stored rates -> matplotlib Figures (object API, Agg canvas, never pyplot) -> PNG."""

import math
import os
from datetime import date, timedelta
from functools import partial
from pathlib import Path

from .. import sources
from ..errors import NoData
from ..store import reader
from . import hints


def _cache() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return str(Path(base) / "ticker" / "matplotlib")


# Before matplotlib is imported: a writable, lasting cache spares a font-cache rebuild at every start.
os.environ.setdefault("MPLCONFIGDIR", _cache())

import numpy as np  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter, num2date  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import MaxNLocator, ScalarFormatter  # noqa: E402
from PIL import Image  # noqa: E402

# Designed for a phone first: 7.8 x 5.6 inches whose smallest text, 18 pt, stays at least 11 CSS px
# when a 390 px phone shows the chart 366 px wide (18 / 72 in / 7.8 in x 366 px = 11.7 px); on a
# desktop the page shows it at most at its own width. 125 dpi: 975 x 700 px, sharp at both sizes.
SIZE, DPI = (7.8, 5.6), 125
PIXELS = (round(SIZE[0] * DPI), round(SIZE[1] * DPI))
SOURCE = "Source: National Bank of the Republic of Belarus"
AVERAGE_DAYS = 30  # the moving average drawn on windows of LONG_WINDOW days or more
LONG_WINDOW = 180
TITLE, TEXT, SMALL, FOOT = 22, 18, 18, 14  # points: SMALL is the tick labels, legend and tags
OFFSET, PAD = 14, 3  # points: from a min or max marker to its label; from a label to the plot's edge
INK, MUTED, GRID = "#1a1a1a", "#666666", "#e3e3e3"
LINE, AVERAGE, LOW, HIGH = "#1f5fa8", "#e08a1e", "#c0392b", "#1e8449"
BAND = "#e08a1e"  # the bank band, from the best buy (its lower edge) to the best sell
PALETTE = ["#1f5fa8", "#d1495b", "#2a9d8f", "#e08a1e", "#6a4c93", "#8c8c8c"]


def plan(conn, day: date, currencies, windows, overview,
         bank_city: str | None = None) -> list[tuple[str, str, partial]]:
    """(file name, description, figure builder) for each chart of the day's set, overview first;
    with `bank_city`, also the official rate of each currency with the city's best bank buy/sell
    band over each window in which any bank rate was seen (`usd-30-bank.png`).

    Every series is read here, before any drawing, so a currency that is not in the database or
    an empty window fails before a single file is written.
    """
    longest = max(windows)
    group = [_window(conn, code, day, longest) for code in overview]
    jobs = [(f"overview-{longest}.png", f"{', '.join(overview)} in BYN, % change over {longest} days",
             partial(changes, group))]
    for code in currencies:
        for window in windows:
            official = _window(conn, code, day, window)
            jobs.append((f"{code.lower()}-{window}.png", f"{code} in BYN over {window} days", partial(trend, official)))
            bank = bank_city and reader.bank_days(conn, bank_city, official.days[0], day, code).get(code)
            if bank:
                jobs.append((f"{code.lower()}-{window}-bank.png",
                             f"{code} in BYN over {window} days: the official rate and the best bank buy and sell"
                             f" rates in {bank.city}", partial(band, official, bank)))
    return jobs


def _window(conn, code: str, day: date, window: int) -> reader.Series:
    first = day - timedelta(days=window - 1)
    found = reader.series(conn, code, first, day)
    if found is None:
        raise NoData(hints.window(conn, code, first, day))
    return found


def unit_label(s: reader.Series) -> str:
    return f"BYN per {s.scale} {s.code}"


def moving_average(values: list[float], days: int) -> np.ndarray:
    """Each day's mean of the stored values among the last `days` calendar days of the window.

    Missing days are left out of the mean; with fewer than two thirds of them stored (or fewer
    than `days` days into the window) there is no mean: a gap rather than a guess.
    """
    y = np.asarray(values, dtype=float)
    present = ~np.isnan(y)
    sums = np.concatenate([[0.0], np.cumsum(np.where(present, y, 0.0))])
    counts = np.concatenate([[0], np.cumsum(present)])
    out = np.full(len(y), np.nan)
    n = sums[days:] - sums[:-days]
    c = counts[days:] - counts[:-days]
    enough = c >= math.ceil(days * 2 / 3)
    out[days - 1:] = np.where(enough, n / np.maximum(c, 1), np.nan)
    return out


def trend(s: reader.Series) -> Figure:
    """One currency over its window: the rate, its min and max, the last value, a moving average."""
    x, y = _days(s.days), np.asarray(s.values, dtype=float)
    fig, ax = _figure()
    ax.plot(x, y, color=LINE, linewidth=2.6, label=f"{s.code}, official rate", gid="rate")
    window = len(s.days)
    if window >= LONG_WINDOW:
        average = moving_average(s.values, AVERAGE_DAYS)
        if not np.isnan(average).all():  # too few stored days draw no line: the legend does not list it
            ax.plot(x, average, color=AVERAGE, linewidth=2, gid="average", label=f"{AVERAGE_DAYS}-day average")
    stored = [n for n, v in enumerate(s.exact) if v is not None]
    first, last = stored[0], stored[-1]
    # The extremes are found and labelled on the exact values, never on their float images.
    low = min(stored, key=lambda n: s.exact[n])
    high = max(stored, key=lambda n: s.exact[n])
    extremes = []
    if s.exact[high] > s.exact[low]:
        extremes = [_extreme(ax, x, y, low, f"min {_number(s.exact[low])}", LOW, below=True),
                    _extreme(ax, x, y, high, f"max {_number(s.exact[high])}", HIGH, below=False)]
    _tag(ax, x[last], y[last], _number(s.exact[last]), LINE)
    change = 100 * (y[last] / y[first] - 1)
    # The unit heads the chart rather than running up its side: the phone's width goes to the line.
    _frame(fig, ax, x, f"{s.code} in BYN · {window} days",
           f"{unit_label(s)} · {change:+.1f}% since {s.days[first]}", s.days[last])
    if extremes:
        _room_for(ax, extremes, y[low], y[high])
    else:
        ax.margins(y=0.14)
    return fig


def band(s: reader.Series, bank: reader.BankDays) -> Figure:
    """The official rate over the window with the city's best bank buy and sell as a band around
    it: each day's best across the banks as their last answers of the day had them, in the official
    rate's units; a day without bank rates is a gap in the band, never bridged. The footer names the
    banks whose rates are drawn."""
    x, y = _days(s.days), np.asarray(s.values, dtype=float)
    # In the official rate's units, exactly (scales are powers of ten); floats only to draw.
    exact = {side: [None if v is None else v * s.scale / bank.scale for v in values]
             for side, values in (("buy", bank.buy), ("sell", bank.sell))}
    buy, sell = (np.asarray([math.nan if v is None else float(v) for v in exact[side]]) for side in ("buy", "sell"))
    fig, ax = _figure()
    both = ~np.isnan(buy) & ~np.isnan(sell)
    # A bar a day wide for each day with both rates: days in a row make a band, a lone day still
    # shows, and a day without bank rates stays empty.
    bars = ax.bar(x[both], (sell - buy)[both], bottom=buy[both], width=1.0, align="center", color=BAND,
                  linewidth=0, label=f"best buy–sell, {bank.city}", gid="band")
    for bar in bars:  # a bar's foot is no floor of the axis: the margins apply as to the line
        bar.sticky_edges.y.clear()
    ax.plot(x, y, color=LINE, linewidth=2.6, label=f"{s.code}, official rate", gid="rate")
    stored = [n for n, v in enumerate(s.exact) if v is not None]
    _tag(ax, x[stored[-1]], y[stored[-1]], _number(s.exact[stored[-1]]), LINE)
    seen = np.flatnonzero(both)
    note = unit_label(s)
    if len(seen):  # the last day's band, written from the exact values
        last = int(seen[-1])
        note += f" · bank {_number(exact['buy'][last])}–{_number(exact['sell'][last])}"
    _frame(fig, ax, x, f"{s.code} in BYN · {len(x)} days · {bank.city}", note, s.days[stored[-1]],
           f"Sources: NBRB, {', '.join(sources.get(b).short for b in bank.banks)} (each day's last rates)")
    ax.margins(y=0.14)
    return fig


def changes(group: list[reader.Series]) -> Figure:
    """Several currencies on one axis: % change since each one's first stored day in the window."""
    fig, ax = _figure()
    ax.axhline(0, color=MUTED, linewidth=1.2)
    x = _days(group[0].days)
    drawn = []
    for s in group:
        y = np.asarray(s.values, dtype=float)
        stored = np.flatnonzero(~np.isnan(y))
        drawn.append((s, y, int(stored[0]), int(stored[-1])))
    # The subtitle names the day the changes are measured from (the earliest first stored day, not
    # the window's first day, which may have no rate); the legend names any currency's later one.
    start = min(s.days[first] for s, _, first, _ in drawn)
    for n, (s, y, first, last) in enumerate(drawn):
        pct = 100 * (y / y[first] - 1)
        since = f" since {s.days[first]}" if s.days[first] != start else ""
        ax.plot(x, pct, color=PALETTE[n % len(PALETTE)], linewidth=2.6, gid=s.code,
                label=f"{s.code} {pct[last]:+.1f}%{since}")
    ax.yaxis.set_major_formatter(lambda v, _: f"{v:+g}%" if v else "0")
    codes = ", ".join(s.code for s in group)
    as_of = max(s.days[last] for s, _, _, last in drawn)
    _frame(fig, ax, x, f"{codes} in BYN · {len(x)} days", f"% change in BYN since {start}", as_of)
    ax.margins(y=0.1)
    return fig


def save(fig: Figure, path: Path) -> None:
    """The chart as a 256-colour PNG with no metadata: the same chart is the same bytes.

    A palette costs less time to encode than matplotlib's RGBA PNG and a third of the bytes,
    with no visible loss on flat colours and anti-aliased lines.
    """
    fig.canvas.draw()
    image = Image.frombuffer("RGBA", fig.canvas.get_width_height(), fig.canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
    palette = image.convert("RGB").quantize(256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)
    palette.save(path, format="PNG")


def _figure():
    fig = Figure(figsize=SIZE, dpi=DPI, facecolor="white")
    FigureCanvasAgg(fig)
    # Fixed margins: a layout engine would draw every chart twice.
    fig.subplots_adjust(left=0.13, right=0.83, top=0.71, bottom=0.15)
    ax = fig.add_subplot()
    locator = AutoDateLocator(minticks=4, maxticks=7)
    ax.xaxis.set_major_locator(locator)
    # No offset ("2024-Aug") under the axis: the footer's "as of" date gives the year.
    ax.xaxis.set_major_formatter(_DateFormatter(locator, show_offset=False))
    # Few ticks and a fixed label position: ticks and label placement are most of the drawing time.
    ax.yaxis.set_major_locator(MaxNLocator(nbins=7, steps=[1, 2, 2.5, 5, 10]))
    ax.yaxis.set_major_formatter(ScalarFormatter(useOffset=False))
    ax.tick_params(labelsize=SMALL, colors=INK, length=0, pad=8)
    ax.grid(True, color=GRID, linewidth=1)
    ax.set_axisbelow(True)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.spines["bottom"].set_color(MUTED)
    return fig, ax


def _frame(fig, ax, x, title: str, note: str, as_of: date, source: str = SOURCE) -> None:
    """The window as the x range, the title with a note on its right, the legend and the footer."""
    # The whole window, so days missing at its start show as a gap too.
    pad = max((x[-1] - x[0]) / 100, np.timedelta64(1, "D"))
    ax.set_xlim(x[0] - pad, x[-1] + pad)
    fig.text(0.03, 0.945, title, fontsize=TITLE, fontweight="bold", color=INK, va="center")
    fig.text(0.03, 0.875, note, fontsize=TEXT, color=MUTED, va="center")
    # Rows between the title and the plot, where they can never hide a line.
    labels = ax.get_legend_handles_labels()[1]
    legend = ax.legend(loc="upper left", bbox_to_anchor=(0.02, 0.835), bbox_transform=fig.transFigure,
                       ncols=len(labels) if sum(map(len, labels)) <= 40 else 1, fontsize=SMALL, frameon=False,
                       handlelength=1.2, columnspacing=1.0, borderaxespad=0, handletextpad=0.5)
    # More rows push the plot down: it starts a tick label's height below the last one, so the
    # top tick label (centred on its tick, half above the plot) stays clear of it.
    bottom = legend.get_window_extent(fig.canvas.get_renderer()).y0 / fig.bbox.height
    fig.subplots_adjust(top=min(fig.subplotpars.top, bottom - SMALL / 72 / SIZE[1]))
    fig.text(0.03, 0.035, f"{source} · as of {as_of}", fontsize=FOOT, color=MUTED, va="center")


def _tag(ax, x, y, text: str, color: str) -> None:
    """The value in a box on the right edge, at its height, like a price tag."""
    ax.plot([x], [y], "o", color=color, markersize=9, gid="last")
    ax.annotate(text, xy=(1, y), xycoords=("axes fraction", "data"), xytext=(10, 0),
                textcoords="offset points", va="center", ha="left", fontsize=SMALL, color="white",
                fontweight="bold", linespacing=1.3, annotation_clip=False,
                bbox={"boxstyle": "round,pad=0.35", "facecolor": color, "edgecolor": "none"})


def _extreme(ax, x, y, i: int, label: str, color: str, below: bool):
    """The marker and its label: under the minimum, over the maximum, where the line never is."""
    ax.plot([x[i]], [y[i]], "v" if below else "^", color=color, markersize=11, gid=label.split()[0])
    return ax.annotate(label, xy=(x[i], y[i]), xytext=(0, -OFFSET if below else OFFSET),
                       textcoords="offset points", ha="center", va="top" if below else "bottom",
                       fontsize=SMALL, color=color, fontweight="bold", gid=f"{label.split()[0]} label")


def _room_for(ax, labels, low: float, high: float) -> None:
    """The y range with a band under `low` and over `high` as tall as the labels and their offset,
    then each label moved sideways just enough to be inside the plot: it never crosses the x axis,
    the tick labels or the last value's tag, and the min and max labels keep to their own bands."""
    fig = ax.figure
    renderer = fig.canvas.get_renderer()
    plot = ax.get_window_extent(renderer)
    points = fig.dpi / 72  # pixels per point
    tallest = max(label.get_window_extent(renderer).height for label in labels)
    band = (tallest + (OFFSET + PAD) * points) / plot.height  # of the plot's height, each end
    span = (high - low) / (1 - 2 * band)
    ax.set_ylim(low - band * span, high + band * span)
    for label in labels:
        box = label.get_window_extent(renderer)
        shift = max(plot.x0 + PAD * points - box.x0, 0) - max(box.x1 - (plot.x1 - PAD * points), 0)
        dx, dy = label.xyann
        label.xyann = (dx + shift / points, dy)


def _number(value) -> str:
    """A rate as the charts label it: 4 decimals, rounded half up from the exact value."""
    from decimal import Decimal

    from ..model import round_half_up

    return str(round_half_up(Decimal(value), 4))


class _DateFormatter(ConciseDateFormatter):
    """The concise date axis, naming the month of its first tick too: a 30-day window reads
    "Feb 15  22  Mar  08  15", where the plain formatter's "15  22  Mar  08  15" never names February."""

    def format_ticks(self, values):
        labels = super().format_ticks(values)
        if labels:
            first = num2date(values[0])
            if labels[0] == first.strftime(self.formats[2]):  # a bare day of the month
                labels[0] = f"{first:%b} {labels[0]}"
        return labels


def _days(days: list[date]) -> np.ndarray:
    return np.array(days, dtype="datetime64[D]")
