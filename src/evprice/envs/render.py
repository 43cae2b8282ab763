"""Frames of a market for ``render_mode="rgb_array"``: what one environment member looks like.

Two pieces, kept apart so that each can be tested on its own:

* :class:`MarketFrame`, a snapshot of plain numbers (one member of a batched
  :class:`~evprice.envs.MarketEnv`; :meth:`MarketEnv.frame_data` takes it), and
  :func:`frame_labels`, the texts a frame shows, worked out from it;
* :class:`FrameRenderer`, which draws a snapshot on a small matplotlib figure (Agg canvas,
  no window, no pyplot) and returns an ``(H, W, 3)`` ``uint8`` RGB array. The figure is
  built and drawn once per layout (stations, bounds, queue, grid); a frame restores that
  background and draws only the artists that change (blitting), a few milliseconds
  (``docs/render.md``).

A frame shows, per station (one row each): the posted price as a bar inside its bounds
``[price_min, price_max]`` (currency/kWh), the chargers busy out of the station's total
(and, with ``when_full="queue"``, the EVs waiting out of the waiting spaces), and in a
grid-coupled market the voltage of the station's bus (p.u.) against the allowed band,
with the lowest voltage anywhere on the feeder in the period just run (a dashed line). The title gives
the scenario, the day and time of day and the period (periods completed of the episode);
the footer the last period's market profit (and the constraint cost, where there is one).

matplotlib is imported inside :class:`FrameRenderer`, never when this module is imported.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

RENDER_MODES = ("rgb_array",)
"""Render modes of the market environments (``None``, the default, renders nothing)."""
RENDER_FPS = 2
"""Frames per second a viewer should play (``metadata["render_fps"]``): two pricing periods a second."""
DPI = 80
"""Dots per inch of a frame: a two-station frame is 720 x 224 pixels."""
WIDTH_IN = 9.0
"""Width of a frame in inches (720 pixels at :data:`DPI`)."""

_PRICE_COLOR = "#1f77b4"
_TARGET_COLOR = "#222222"
_BUSY_COLOR = "#2ca02c"
_QUEUE_COLOR = "#ff7f0e"
_BAND_COLOR = "#d9f0d3"
_OK_COLOR = "#1a7f37"
_BAD_COLOR = "#d62728"
_BACK_COLOR = "#e6e6e6"


def check_render_mode(mode: Any) -> str | None:
    """``mode`` if it is ``None`` or one of :data:`RENDER_MODES`; raises ``ValueError`` naming them."""
    if mode is None or (isinstance(mode, str) and mode in RENDER_MODES):
        return mode
    allowed = ", ".join(repr(m) for m in RENDER_MODES)
    raise ValueError(f"render_mode={mode!r} is invalid: expected None or one of {allowed}")


@dataclass(frozen=True)
class MarketFrame:
    """What one frame shows: a snapshot of one environment member, ``N`` stations.

    Attributes:
        env_id: the scenario's id (title).
        period: pricing periods completed in the episode, 0 after reset.
        n_periods: pricing periods per episode.
        time_s: seconds since day 0, 00:00, at the end of the last period (the episode's
            ``start_s`` plus ``period`` times its ``action_period_s``).
        currency: currency unit of prices and money.
        station_ids: (N,) station ids.
        price_per_kwh: (N,) price posted by each station (in force during the period just run;
            the initial price after reset), currency/kWh.
        price_min_per_kwh, price_max_per_kwh: (N,) each station's price bounds, currency/kWh.
        chargers_busy: (N,) chargers holding an EV as the next period starts.
        chargers: (N,) chargers of each station.
        queue: (N,) EVs waiting for a charger, or None when the market does not queue.
        waiting_spaces: (N,) places in each station's queue, or None.
        profit: (N,) each station's profit in the period just run (currency), None after reset.
        cost: the period's constraint cost (the market's ``info["cost"]``), None after reset or
            in a market without one.
        bus_vm_pu: (N,) voltage of each station's bus, p.u. (None without a grid): over the
            period just run, its lowest; after reset, the base-load power flow's.
        station_buses: (N,) bus of each station (0-based pandapower indices), or None.
        vm_min_pu: lowest bus voltage on the feeder in the period just run, p.u. (None after
            reset, without a grid, or when no power flow of the period converged).
        vm_band_pu: the allowed voltage band ``(vm_min_pu, vm_max_pu)``, or None.
        has_chargers: False in an expected-demand market (``demand="expected"``), which has
            no chargers: nothing is busy, and the frame says so instead of ``0/4 busy``.
        protocol: (N,) what a coordination protocol adds to each station's price label (its
            last message, the price it announced, the price the mediator recommends), or None.
        target_price_per_kwh: (N,) the price announced or recommended for the coming period,
            drawn as a mark on each price bar, or None.
    """

    env_id: str
    period: int
    n_periods: int
    time_s: int
    currency: str
    station_ids: tuple[str, ...]
    price_per_kwh: np.ndarray
    price_min_per_kwh: np.ndarray
    price_max_per_kwh: np.ndarray
    chargers_busy: np.ndarray
    chargers: np.ndarray
    queue: np.ndarray | None = None
    waiting_spaces: np.ndarray | None = None
    profit: np.ndarray | None = None
    cost: float | None = None
    bus_vm_pu: np.ndarray | None = None
    station_buses: tuple[int, ...] | None = None
    vm_min_pu: float | None = None
    vm_band_pu: tuple[float, float] | None = None
    has_chargers: bool = True
    protocol: tuple[str, ...] | None = None
    target_price_per_kwh: np.ndarray | None = None

    @property
    def n_stations(self) -> int:
        return len(self.station_ids)

    @property
    def has_grid(self) -> bool:
        return self.bus_vm_pu is not None

    @property
    def has_queue(self) -> bool:
        return self.queue is not None

    def layout_key(self) -> tuple:
        """What fixes a frame's layout; frames with the same key share one figure."""
        band = None if self.vm_band_pu is None else tuple(self.vm_band_pu)
        return (
            self.env_id,
            self.station_ids,
            self.currency,
            tuple(np.round(self.price_min_per_kwh, 12)),
            tuple(np.round(self.price_max_per_kwh, 12)),
            tuple(int(c) for c in self.chargers),
            None if self.waiting_spaces is None else tuple(int(w) for w in self.waiting_spaces),
            self.station_buses,
            band,
            self.target_price_per_kwh is not None,
        )


def clock(time_s: int | float) -> tuple[int, str]:
    """``(day, "HH:MM")`` of ``time_s`` seconds since day 0, 00:00 (day counted from 1)."""
    t = int(round(float(time_s)))
    day, rest = divmod(t, 86_400)
    return day + 1, f"{rest // 3600:02d}:{rest % 3600 // 60:02d}"


def frame_labels(frame: MarketFrame) -> dict[str, Any]:
    """The texts a frame shows: ``title``, ``footer``, and per station (lists of N) ``station``
    (id and price bounds), ``price``, ``occupancy`` and, with a grid, ``voltage``; with a
    grid also ``feeder`` (the feeder's lowest voltage)."""
    cur = frame.currency
    day, hhmm = clock(frame.time_s)
    title = f"{frame.env_id}   day {day} {hhmm}   period {frame.period}/{frame.n_periods}"
    station = [
        f"{sid}  [{lo:.3g}, {hi:.3g}]"
        for sid, lo, hi in zip(frame.station_ids, frame.price_min_per_kwh, frame.price_max_per_kwh)
    ]
    price = [f"{p:.3f} {cur}/kWh" for p in frame.price_per_kwh]
    if frame.protocol is not None:
        price = [f"{text}  {extra}" for text, extra in zip(price, frame.protocol)]
    occupancy = []
    for i in range(frame.n_stations):
        if not frame.has_chargers:
            occupancy.append("expected demand: no chargers")
            continue
        text = f"{int(frame.chargers_busy[i])}/{int(frame.chargers[i])} busy"
        if frame.has_queue:
            text += f", queue {int(frame.queue[i])}/{int(frame.waiting_spaces[i])}"
        occupancy.append(text)
    if frame.profit is None:
        footer = "start of the episode"
    else:
        footer = f"last period: market profit {float(np.sum(frame.profit)):,.2f} {cur}"
        if frame.cost is not None:
            footer += f", constraint cost {frame.cost:.4g}"
    out: dict[str, Any] = {
        "title": title,
        "footer": footer,
        "station": station,
        "price": price,
        "occupancy": occupancy,
    }
    if frame.has_grid:
        buses = frame.station_buses or (None,) * frame.n_stations
        out["voltage"] = [
            (f"bus {b}: " if b is not None else "") + (f"{v:.4f} p.u." if np.isfinite(v) else "no converged flow")
            for b, v in zip(buses, frame.bus_vm_pu)
        ]
        low = "-" if frame.vm_min_pu is None or not np.isfinite(frame.vm_min_pu) else f"{frame.vm_min_pu:.4f}"
        out["feeder"] = f"feeder min {low} p.u."
    return out


def _even(x: float) -> int:
    return 2 * max(1, int(round(x / 2)))


class FrameRenderer:
    """Draws :class:`MarketFrame` snapshots; one figure per layout, reused.

    ``renderer(frame) -> (H, W, 3) uint8``; H and W are even (video encoders need that)
    and fixed for a layout: ``W = 720``, ``H = 80 (1.7 + 0.55 N)`` rounded to even.
    """

    def __init__(self) -> None:
        self._key: tuple | None = None
        self.figure: Any = None  # the matplotlib Figure of the current layout
        self._canvas: Any = None
        self._artists: dict[str, Any] = {}
        self._animated: list[Any] = []  # the artists drawn every frame, over the background
        self._background: Any = None

    def __call__(self, frame: MarketFrame) -> np.ndarray:
        key = frame.layout_key()
        if key != self._key:
            self._build(frame)
            self._key = key
        self._update(frame)
        self._canvas.restore_region(self._background)
        for artist in self._animated:
            self.figure.draw_artist(artist)
        return np.asarray(self._canvas.buffer_rgba())[..., :3].copy()

    def close(self) -> None:
        """Drop the figure (the next frame builds a new one)."""
        self.figure, self._canvas, self._key, self._artists = None, None, None, {}
        self._animated, self._background = [], None

    # -- layout --------------------------------------------------------------------------
    def _build(self, frame: MarketFrame) -> None:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        n = frame.n_stations
        width_px, height_px = _even(WIDTH_IN * DPI), _even((1.7 + 0.55 * n) * DPI)
        fig = Figure(figsize=(width_px / DPI, height_px / DPI), dpi=DPI)
        canvas = FigureCanvasAgg(fig)
        ratios = [1.2, 0.9, 1.15] if frame.has_grid else [1.25, 1.0]
        top = 1.0 - 0.42 / (height_px / DPI)
        bottom = 0.62 / (height_px / DPI)
        axes = fig.subplots(
            1,
            len(ratios),
            sharey=True,
            gridspec_kw={"width_ratios": ratios, "left": 0.16, "right": 0.99, "top": top, "bottom": bottom},
        )
        y = np.arange(n)
        labels = frame_labels(frame)
        a: dict[str, Any] = {}
        small = {"fontsize": 8}

        ax = axes[0]
        lo, hi = frame.price_min_per_kwh, frame.price_max_per_kwh
        span = float(np.max(hi) - np.min(lo)) or 1.0
        ax.barh(y, hi - lo, left=lo, height=0.6, color=_BACK_COLOR)
        a["price"] = ax.barh(y, np.zeros(n), left=lo, height=0.6, color=_PRICE_COLOR)
        a["price_mark"] = ax.plot(lo, y, "|", ms=16, mew=2.5, color=_PRICE_COLOR)[0]  # visible at price_min too
        if frame.target_price_per_kwh is not None:  # the announced or recommended price
            a["target"] = ax.plot(lo, y - 0.3, "v", ms=6, color=_TARGET_COLOR)[0]
        ax.set_xlim(float(np.min(lo)), float(np.max(hi)) + 0.02 * span)
        ax.set_yticks(y, labels["station"], fontsize=8)
        ax.invert_yaxis()
        ax.set_xlabel(f"price ({frame.currency}/kWh)", fontsize=8)
        box = {"boxstyle": "square,pad=0.15", "facecolor": "white", "alpha": 0.7, "linewidth": 0}
        x0 = lo + 0.01 * span
        a["price_text"] = [ax.text(x0[i], i, "", va="center", ha="left", bbox=box, **small) for i in y]

        ax = axes[1]
        qmax = 0.0
        if frame.has_queue:
            qmax = float(np.max(np.asarray(frame.waiting_spaces) / np.asarray(frame.chargers)))
        ax.barh(y, np.ones(n), height=0.6, color=_BACK_COLOR)
        a["busy"] = ax.barh(y, np.zeros(n), height=0.6, color=_BUSY_COLOR)
        a["queue"] = ax.barh(y, np.zeros(n), left=np.ones(n), height=0.6, color=_QUEUE_COLOR)
        if qmax > 0:
            ax.axvline(1.0, color="black", lw=0.8)
        ax.set_xlim(0.0, 1.0 + qmax + 0.02)
        ax.set_xlabel("chargers busy (fraction)" + (" + queue" if frame.has_queue else ""), fontsize=8)
        a["occ_text"] = [ax.text(0.02, i, "", va="center", ha="left", bbox=box, **small) for i in y]

        if frame.has_grid:
            ax = axes[2]
            band_lo, band_hi = frame.vm_band_pu
            a["vlim"] = (band_lo - 0.06, max(band_hi, 1.0) + 0.01)
            ax.axvspan(band_lo, band_hi, color=_BAND_COLOR)
            ax.axvline(band_lo, color=_OK_COLOR, lw=0.8)
            a["vm_min"] = ax.axvline(band_lo, color=_BAD_COLOR, lw=1.0, ls="--")
            a["vm"] = ax.scatter(np.full(n, band_hi), y, s=40, zorder=3)
            ax.set_xlim(*a["vlim"])
            a["vm_text"] = [ax.text(0, i - 0.38, "", va="center", ha="left", **small) for i in y]
            ax.set_xlabel(f"bus voltage (p.u.), band [{band_lo:g}, {band_hi:g}]", fontsize=8)
            a["feeder_text"] = ax.set_title("", fontsize=8)
        for ax in axes:
            ax.tick_params(labelsize=7)
            ax.set_ylim(n - 0.5, -0.5)
        a["title"] = fig.suptitle("", fontsize=10, y=1.0 - 0.06 / (height_px / DPI), va="top")
        a["footer"] = fig.text(0.01, 0.02, "", fontsize=8, va="bottom")
        animated = [
            *a["price"],
            a["price_mark"],
            *a["price_text"],
            *a["busy"],
            *a["queue"],
            *a["occ_text"],
            a["title"],
            a["footer"],
        ]
        if frame.has_grid:
            animated += [a["vm_min"], a["vm"], *a["vm_text"], a["feeder_text"]]
        if "target" in a:
            animated.append(a["target"])
        for artist in animated:
            artist.set_animated(True)  # left out of canvas.draw(): the background is the rest
        canvas.draw()
        self.figure, self._canvas, self._artists = fig, canvas, a
        self._animated, self._background = animated, canvas.copy_from_bbox(fig.bbox)

    # -- per frame -----------------------------------------------------------------------
    def _update(self, frame: MarketFrame) -> None:
        a = self._artists
        labels = frame_labels(frame)
        lo, hi = frame.price_min_per_kwh, frame.price_max_per_kwh
        price = np.clip(frame.price_per_kwh, lo, hi)
        for i, (bar, text) in enumerate(zip(a["price"], a["price_text"])):
            bar.set_width(float(price[i] - lo[i]))
            text.set_text(labels["price"][i])
        a["price_mark"].set_xdata(price)
        if frame.target_price_per_kwh is not None:
            a["target"].set_xdata(np.clip(frame.target_price_per_kwh, lo, hi))
        busy = np.asarray(frame.chargers_busy) / np.asarray(frame.chargers)
        queue = np.zeros(frame.n_stations)
        if frame.has_queue:
            queue = np.asarray(frame.queue) / np.asarray(frame.chargers)
        for i, text in enumerate(a["occ_text"]):
            a["busy"][i].set_width(float(busy[i]))
            a["queue"][i].set_width(float(queue[i]))
            text.set_text(labels["occupancy"][i])
        if frame.has_grid:
            band_lo, band_hi = frame.vm_band_pu
            x_lo, x_hi = a["vlim"]
            vm = np.nan_to_num(np.asarray(frame.bus_vm_pu, dtype=np.float64), nan=x_lo)
            shown = np.clip(vm, x_lo, x_hi)
            a["vm"].set_offsets(np.column_stack([shown, np.arange(frame.n_stations)]))
            inside = (vm >= band_lo) & (vm <= band_hi)
            a["vm"].set_color([_OK_COLOR if ok else _BAD_COLOR for ok in inside])
            for i, text in enumerate(a["vm_text"]):
                text.set_x(x_lo + 0.005)
                text.set_text(labels["voltage"][i])
            low = frame.vm_min_pu
            visible = low is not None and bool(np.isfinite(low))
            a["vm_min"].set_visible(visible)
            if visible:
                a["vm_min"].set_xdata([float(np.clip(low, x_lo, x_hi))] * 2)
            a["feeder_text"].set_text(labels["feeder"])
        a["title"].set_text(labels["title"])
        a["footer"].set_text(labels["footer"])


def draw_frame(frame: MarketFrame) -> np.ndarray:
    """One frame, (H, W, 3) uint8, on a new figure (a :class:`FrameRenderer` reuses its figure: faster)."""
    return FrameRenderer()(frame)
