"""PNG figures of experiment results (matplotlib, Agg backend, imported when a figure is drawn).

Each function draws one figure into ``path`` and returns it. Inputs are plain arrays and
labels, so the experiments decide what is plotted and the tests can check the files.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def bars_with_ci(
    path: str | Path,
    labels: Sequence[str],
    means: Sequence[float],
    intervals: Sequence[Sequence[float] | None],
    *,
    title: str,
    ylabel: str,
    references: Mapping[str, float] | None = None,
) -> Path:
    """Bars of ``means`` (K,) with 95% intervals ``[low, high]`` (or None), and horizontal
    reference lines ``{label: value}`` (e.g. Nash = 0 and joint = 1 for Delta)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 3.6), dpi=100)
    x = np.arange(len(labels))
    means_a = np.asarray(means, dtype=np.float64)
    low = [m - ci[0] if ci is not None else 0.0 for m, ci in zip(means_a, intervals)]
    high = [ci[1] - m if ci is not None else 0.0 for m, ci in zip(means_a, intervals)]
    ax.bar(x, means_a, yerr=[low, high], capsize=4, color="#4878a8")
    for name, value in (references or {}).items():
        ax.axhline(value, linestyle="--", linewidth=1, color="#b04040" if "Nash" in name else "#40a040")
        ax.text(len(labels) - 0.5, value, f" {name}", va="bottom", ha="right", fontsize=8)
    ax.set_xticks(x, labels, rotation=15 if max(len(s) for s in labels) > 12 else 0, fontsize=8)
    return _finish(fig, ax, path, title, None, ylabel)


def lines(
    path: str | Path,
    x: Sequence[float] | np.ndarray,
    series: Mapping[str, Sequence[float] | np.ndarray],
    *,
    title: str,
    xlabel: str,
    ylabel: str,
    bands: Mapping[str, tuple[float, float]] | None = None,
    references: Mapping[str, Sequence[float] | np.ndarray] | None = None,
) -> Path:
    """One line per ``series`` entry over ``x``; shaded horizontal ``bands`` ``{label: (low,
    high)}`` (e.g. a voltage band) and dashed ``references`` lines over the same ``x``."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 3.6), dpi=100)
    for label, y in series.items():
        ax.plot(x, y, marker="o", markersize=3, label=label)
    for label, y in (references or {}).items():
        ax.plot(x, y, linestyle="--", linewidth=1, label=label)
    for label, (lo, hi) in (bands or {}).items():
        ax.axhspan(lo, hi, alpha=0.12, color="#40a040", label=label)
    ax.legend(fontsize=7)
    return _finish(fig, ax, path, title, xlabel, ylabel)


def bands(
    path: str | Path,
    x: Sequence[float] | np.ndarray,
    series: Mapping[str, tuple[np.ndarray, np.ndarray, np.ndarray]],
    *,
    title: str,
    xlabel: str,
    ylabel: str,
    marks: Mapping[str, float] | None = None,
) -> Path:
    """One line per ``series`` entry ``{label: (mean, low, high)}`` (each over ``x``) with its
    band from ``low`` to ``high`` shaded (e.g. a 95% interval over seeds), and vertical
    ``marks`` ``{label: x}`` (e.g. where a curve reached its plateau)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 3.6), dpi=100)
    for label, (mean, low, high) in series.items():
        (line,) = ax.plot(x, mean, linewidth=1.5, label=label)
        ax.fill_between(x, low, high, alpha=0.2, color=line.get_color(), linewidth=0)
    for label, value in (marks or {}).items():
        ax.axvline(value, linestyle=":", linewidth=1, color="#606060")
        ax.text(value, ax.get_ylim()[0], f" {label}", va="bottom", fontsize=7, rotation=90)
    ax.legend(fontsize=7)
    return _finish(fig, ax, path, title, xlabel, ylabel)


def histogram(
    path: str | Path,
    values: Sequence[float] | np.ndarray,
    *,
    title: str,
    xlabel: str,
    bins: int = 20,
    references: Mapping[str, float] | None = None,
) -> Path:
    """Histogram of ``values`` (K,) with vertical reference lines ``{label: value}``."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 3.6), dpi=100)
    ax.hist(np.asarray(values, dtype=np.float64), bins=bins, color="#4878a8", edgecolor="white")
    for name, value in (references or {}).items():
        ax.axvline(value, linestyle="--", linewidth=1, color="#b04040")
        ax.text(value, ax.get_ylim()[1], f" {name}", va="top", fontsize=8)
    return _finish(fig, ax, path, title, xlabel, "sessions")


def scatter(
    path: str | Path,
    x: Sequence[float] | np.ndarray,
    y: Sequence[float] | np.ndarray,
    *,
    title: str,
    xlabel: str,
    ylabel: str,
    marks: Mapping[str, tuple[float, float]] | None = None,
    groups: Sequence[str] | None = None,
) -> Path:
    """Points ``(x, y)`` (K,) and labelled reference points ``{label: (x, y)}``; with
    ``groups`` (K,) labels, one colour and legend entry per group."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(4.8, 4.2), dpi=100)
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if groups is None:
        ax.scatter(x, y, s=14, alpha=0.6, color="#4878a8")
    else:
        g = np.asarray(groups)
        for label in dict.fromkeys(g.tolist()):
            ax.scatter(x[g == label], y[g == label], s=24, alpha=0.8, label=label)
        ax.legend(fontsize=7)
    for name, (mx, my) in (marks or {}).items():
        ax.scatter([mx], [my], marker="x", s=60, color="#b04040")
        ax.annotate(name, (mx, my), textcoords="offset points", xytext=(5, 5), fontsize=8)
    return _finish(fig, ax, path, title, xlabel, ylabel)


def frontier(
    path: str | Path,
    series: Mapping[str, tuple[Sequence[float], Sequence[float]]],
    points: Mapping[str, tuple[float, float]],
    *,
    limits: Sequence[float],
    title: str,
    xlabel: str,
    ylabel: str,
) -> Path:
    """A cost-reward frontier: one line per ``series`` entry ``{label: (costs (L,), rewards
    (L,))}`` (a method trained at each limit), one marker per ``points`` entry ``{label:
    (cost, reward)}`` (a method without a limit), and a dashed vertical line at each of
    ``limits``."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.2), dpi=100)
    for label, (x, y) in series.items():
        ax.plot(x, y, marker="o", markersize=4, label=label)
    markers = "sD^vP*X"
    for i, (label, (x, y)) in enumerate(points.items()):
        ax.scatter([x], [y], marker=markers[i % len(markers)], s=40, label=label)
    for limit in limits:
        ax.axvline(limit, linestyle="--", linewidth=0.8, color="#909090")
    ax.legend(fontsize=7)
    return _finish(fig, ax, path, title, xlabel, ylabel)


def _finish(fig: Any, ax: Any, path: str | Path, title: str, xlabel: str | None, ylabel: str) -> Path:
    if xlabel is not None:
        ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return _save(fig, path)


def _save(fig: Any, path: str | Path) -> Path:
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(p)
    import matplotlib.pyplot as plt

    plt.close(fig)
    return p
