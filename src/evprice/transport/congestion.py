"""Congestion laws: arc travel times from how loaded the roads are.

Two laws, one per kind of network (``RoadNetwork.congestion_law``):

``"doc2_speed"`` (document 2's road network). Every arc belongs to a road class; all
arcs of a class share one saturation level ``u >= 0`` (dimensionless) and drive at

    v = v0 / (1 + u ** beta)                              km/h

    urban:    v0 = 70 km/h, beta = 1.726 + 3.15 u^3
    main:     v0 = 50 km/h, beta = 1.726 + 3.15 u^3
    suburban: v0 = 40 km/h, beta = 2.076 + 2.87 u^3

so ``v = v0`` at ``u = 0`` and ``v = v0 / 2`` at ``u = 1``. Arc time = ``length_km / v``
hours. For very large ``u`` (about ``u > 5``) ``u ** beta`` overflows: the speed is then
0 and the arc time ``inf`` (the arc is impassable).

``"bpr"`` (TNTP networks such as Sioux Falls): the Bureau of Public Roads function

    t = t0 * (1 + b * x ** power)                         hours

with ``t0`` the free-flow time, ``x`` the volume/capacity ratio (>= 0, dimensionless) and
``b``, ``power`` per arc (Sioux Falls: 0.15 and 4).
"""

from __future__ import annotations

import csv
import functools
from collections.abc import Mapping
from importlib import resources
from typing import TYPE_CHECKING, Any

import numpy as np

from evprice.core.config import ConfigError, invalid

if TYPE_CHECKING:  # pragma: no cover
    from evprice.transport.network import RoadNetwork

ROAD_CLASSES: tuple[str, ...] = ("urban", "main", "suburban")
"""Document 2's road classes, in the column order of :func:`doc2_congestion_table`."""

DOC2_FREE_FLOW_SPEED_KMH: dict[str, float] = {"urban": 70.0, "main": 50.0, "suburban": 40.0}
"""``v0`` of each road class, km/h."""

DOC2_BETA: dict[str, tuple[float, float]] = {"urban": (1.726, 3.15), "main": (1.726, 3.15), "suburban": (2.076, 2.87)}
"""``(a, c)`` of each road class: ``beta = a + c * u**3``."""

CONGESTION_LAWS: tuple[str, ...] = ("doc2_speed", "bpr")

DOC2_N_STEPS = 12
"""Pricing steps per episode in document 2's congestion table."""


def _as_float_array(name: str, value: Any) -> np.ndarray:
    """``value`` as a float array; raise naming ``name`` if it is not numeric."""
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise invalid(name, value, "numbers") from None
    return arr


def _check_nonnegative(name: str, arr: np.ndarray, value: Any) -> None:
    """Raise naming ``name`` unless every entry of ``arr`` is finite and >= 0."""
    bad = ~np.isfinite(arr) | (arr < 0) if arr.size else np.zeros(0, dtype=bool)
    if np.any(bad):
        first = np.flatnonzero(np.ravel(bad))[0]
        where = f" (entry {first}: {float(np.ravel(arr)[first])!r})" if arr.ndim else ""
        raise invalid(name, value, f"finite numbers >= 0{where}")


def _road_class_array(road_class: Any) -> np.ndarray:
    """``road_class`` (a name or an array of names) as a str array; raise on an unknown name."""
    arr = np.asarray(road_class, dtype=object)
    known = np.isin(arr, ROAD_CLASSES)
    if not np.all(known):
        unknown = np.ravel(arr)[~np.ravel(known)][0]
        raise invalid("road_class", unknown, "one of " + ", ".join(repr(c) for c in ROAD_CLASSES))
    return arr


def doc2_speed_kmh(road_class: Any, saturation: Any) -> np.ndarray:
    """Document 2's speed on a road of class ``road_class`` at saturation ``saturation``, km/h.

    Both arguments broadcast against each other (a class name or an array of names; a
    number or an array of numbers, each finite and >= 0). Returns an array of the
    broadcast shape (0-d for two scalars). See the module docstring for the law.
    """
    classes = _road_class_array(road_class)
    u = _as_float_array("saturation", saturation)
    _check_nonnegative("saturation", u, saturation)
    classes, u = np.broadcast_arrays(classes, u)
    v0 = np.zeros(u.shape)
    a = np.zeros(u.shape)
    c = np.zeros(u.shape)
    for name in ROAD_CLASSES:
        mask = classes == name
        v0[mask] = DOC2_FREE_FLOW_SPEED_KMH[name]
        a[mask], c[mask] = DOC2_BETA[name]
    beta = a + c * u**3
    with np.errstate(over="ignore"):  # huge u: u**beta -> inf, speed -> 0 (documented)
        return v0 / (1.0 + u**beta)


def bpr_time_h(free_flow_time_h: Any, volume_capacity_ratio: Any, b: Any, power: Any) -> np.ndarray:
    """The BPR travel time ``t0 * (1 + b * x**power)``, hours.

    All four arguments broadcast; each must be finite and >= 0. Returns an array of the
    broadcast shape.
    """
    args = {
        "free_flow_time_h": free_flow_time_h,
        "volume_capacity_ratio": volume_capacity_ratio,
        "b": b,
        "power": power,
    }
    arrays = {}
    for name, value in args.items():
        arrays[name] = _as_float_array(name, value)
        _check_nonnegative(name, arrays[name], value)
    x = arrays["volume_capacity_ratio"]
    with np.errstate(over="ignore"):
        return arrays["free_flow_time_h"] * (1.0 + arrays["b"] * x ** arrays["power"])


@functools.lru_cache(maxsize=1)
def doc2_congestion_table() -> np.ndarray:
    """Document 2's saturation ``u`` per pricing step and road class, read-only ``(12, 3)``.

    Row ``k`` is pricing step ``k + 1`` of an episode; columns follow :data:`ROAD_CLASSES`
    (urban, main, suburban). Read from the package's ``data/doc2_congestion.csv``.
    """
    text = (
        resources.files("evprice.transport")
        .joinpath("data")
        .joinpath("doc2_congestion.csv")
        .read_text(encoding="utf-8")
    )
    rows = [r for r in csv.reader(text.splitlines()) if r]
    expected = ["step", *ROAD_CLASSES]
    if [h.strip() for h in rows[0]] != expected:
        raise ConfigError(f"doc2_congestion.csv: header {rows[0]} is invalid: expected {expected}")
    table = np.array([[float(x) for x in r[1:]] for r in rows[1:]])
    steps = [int(r[0]) for r in rows[1:]]
    if steps != list(range(1, DOC2_N_STEPS + 1)) or table.shape != (DOC2_N_STEPS, len(ROAD_CLASSES)):
        raise ConfigError(f"doc2_congestion.csv: expected steps 1..{DOC2_N_STEPS} with one value per road class")
    _check_nonnegative("doc2_congestion.csv", table, "the table")
    table.flags.writeable = False
    return table


DOC2_FIRST_HOUR = 8
"""Clock hour of document 2's first pricing step: its 12 steps are the hours 08:00-20:00."""


@functools.lru_cache(maxsize=1)
def doc2_saturation_by_hour() -> np.ndarray:
    """Document 2's saturation by hour of day, read-only ``(24, 3)`` in :data:`ROAD_CLASSES` order.

    Row ``h`` is the hour ``h:00-h+1:00``. The hours 08:00-20:00 are document 2's 12 steps
    (:func:`doc2_congestion_table`, one pricing step taken as one hour). Document 2 gives
    no other hours; there each road class is at its least saturated daytime level (our
    choice: light traffic, never lighter than the document's lightest hour).
    """
    table = doc2_congestion_table()
    by_hour = np.broadcast_to(table.min(axis=0), (24, len(ROAD_CLASSES))).copy()
    by_hour[DOC2_FIRST_HOUR : DOC2_FIRST_HOUR + DOC2_N_STEPS] = table
    by_hour.flags.writeable = False
    return by_hour


def saturation_by_class(congestion: Any) -> np.ndarray:
    """Normalise a ``doc2_speed`` congestion to a ``(3,)`` float array in :data:`ROAD_CLASSES` order.

    ``congestion`` is a mapping ``{class: u}`` naming every road class exactly once, or a
    length-3 sequence / array ``(u_urban, u_main, u_suburban)``; each ``u`` finite and >= 0.
    """
    if isinstance(congestion, Mapping):
        unknown = [k for k in congestion if k not in ROAD_CLASSES]
        missing = [c for c in ROAD_CLASSES if c not in congestion]
        if unknown or missing:
            raise invalid("congestion", dict(congestion), f"a saturation for each road class {', '.join(ROAD_CLASSES)}")
        values = [congestion[c] for c in ROAD_CLASSES]
    elif isinstance(congestion, (str, bytes)):
        raise invalid("congestion", congestion, f"a mapping road class -> saturation, or {len(ROAD_CLASSES)} numbers")
    else:
        values = congestion
    u = _as_float_array("congestion", values)
    if u.shape != (len(ROAD_CLASSES),):
        raise invalid(
            "congestion",
            congestion,
            f"{len(ROAD_CLASSES)} saturations in the order {', '.join(ROAD_CLASSES)} (got shape {u.shape}), "
            "or a mapping road class -> saturation",
        )
    bad = np.flatnonzero(~np.isfinite(u) | (u < 0))
    if bad.size:
        k = bad[0]
        raise invalid(f"congestion[{ROAD_CLASSES[k]!r}]", float(u[k]), "a finite saturation >= 0")
    return u


def volume_capacity_ratio_per_arc(n_arcs: int, congestion: Any) -> np.ndarray:
    """Normalise a ``bpr`` congestion (a number, or ``(n_arcs,)`` numbers) to an ``(n_arcs,)`` float array."""
    x = _as_float_array("congestion", congestion)
    if x.shape not in ((), (n_arcs,)):
        raise invalid(
            "congestion",
            congestion,
            f"a volume/capacity ratio: one number or one per arc ({n_arcs}), got shape {x.shape}",
        )
    _check_nonnegative("congestion", x, congestion)
    return np.broadcast_to(x, (n_arcs,)).astype(float)


def congestion_key(network: RoadNetwork, congestion: Any) -> np.ndarray:
    """``congestion`` validated and normalised for ``network``: ``(3,)`` saturations or ``(E,)`` ratios.

    Two congestions with equal keys give equal arc times; :class:`~evprice.transport.paths.TravelTimes`
    caches on this key.
    """
    if network.congestion_law == "doc2_speed":
        return saturation_by_class(congestion)
    return volume_capacity_ratio_per_arc(network.n_arcs, congestion)


def arc_times_from_key(network: RoadNetwork, key: np.ndarray) -> np.ndarray:
    """Arc travel times ``(E,)`` hours from a normalised congestion (see :func:`congestion_key`)."""
    if network.congestion_law == "doc2_speed":
        u_per_arc = key[[ROAD_CLASSES.index(c) for c in network.road_class]]
        speed_kmh = doc2_speed_kmh(np.asarray(network.road_class, dtype=object), u_per_arc)
        with np.errstate(divide="ignore"):  # speed 0 (overflowed u**beta): impassable, inf
            return np.asarray(network.length_km) / speed_kmh
    return bpr_time_h(network.free_flow_time_h, key, network.bpr_b, network.bpr_power)


def arc_times_h(network: RoadNetwork, congestion: Any) -> np.ndarray:
    """Travel time of every arc of ``network`` under ``congestion``, ``(E,)`` hours.

    ``congestion`` depends on ``network.congestion_law``:

    * ``"doc2_speed"``: the saturation ``u`` of each road class, a mapping
      ``{"urban": u, "main": u, "suburban": u}`` or a length-3 sequence in
      :data:`ROAD_CLASSES` order (a row of :func:`doc2_congestion_table`). Arc time =
      ``length_km / doc2_speed_kmh(class, u)``.
    * ``"bpr"``: the volume/capacity ratio, one number for every arc or ``(E,)``.
      Arc time = ``bpr_time_h(free_flow_time_h, x, bpr_b, bpr_power)``.

    Zero congestion gives ``network.free_flow_time_h``. Values must be finite and >= 0.
    """
    return arc_times_from_key(network, congestion_key(network, congestion))
