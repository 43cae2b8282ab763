"""The checks every typed config is built from, and its error.

A bad value fails at once with a :class:`ConfigError` whose message names the field, the
value and what is allowed, e.g.::

    ConfigError: dt_s=7 is invalid: expected an integer in [1, 3600] that divides 3600

Every checker returns the *normalised* value (``int``, ``float`` or a ``tuple``) so that the
frozen config holds plain, hashable Python values whatever the caller passed (numpy
scalars, lists, YAML numbers).

The layers above: :mod:`evprice.core.declared` declares what each field accepts and checks it
with these; :mod:`evprice.core.overrides` reads a user's keys (``key=value``, YAML files,
sections) into the flat mapping a config is made from.
"""

from __future__ import annotations

import difflib
import math
import numbers
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from evprice.core.timing import HOURS_PER_DAY


class ConfigError(ValueError):
    """A configuration value or key is not allowed. The message says what is.

    ``key`` names the field (``"charger_power_kw[3]"`` for one station's entry) when the error
    is about one, so that a file reader can point at the line that set it; None otherwise."""

    def __init__(self, message: str, key: str | None = None) -> None:
        super().__init__(message)
        self.key = key


def invalid(name: str, value: Any, allowed: str) -> ConfigError:
    """Build the standard error for field ``name`` holding ``value``."""
    return ConfigError(f"{name}={value!r} is invalid: expected {allowed}", key=name)


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def range_text(low: float | None, high: float | None, low_open: bool, high_open: bool) -> str:
    if low is None and high is None:
        return "(any finite value)"
    if high is None:
        return f"{'>' if low_open else '>='} {low:g}"
    if low is None:
        return f"{'<' if high_open else '<='} {high:g}"
    return f"in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"


LARGEST_MAGNITUDE = 1e9
"""No number of a configuration (money, energy, power, time, utility) is larger in magnitude:
beyond it, observations (float32) and the products the dynamics form overflow. A bound a
field sets itself takes precedence."""
SMALLEST_MAGNITUDE = 1e-12
"""A number smaller in magnitude is read as 0 (before the field's bounds are checked): the
dynamics divide by powers, sensitivities and scales, and a subnormal one (5e-324)
overflows the quotient, while no quantity of the model means anything at that size."""


def check_float(
    name: str,
    value: Any,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """Return ``value`` as a finite float within the given bounds, or raise.

    An unbounded side is bounded by :data:`LARGEST_MAGNITUDE`; a magnitude below
    :data:`SMALLEST_MAGNITUDE` is read as 0."""
    if low is None:
        low = -LARGEST_MAGNITUDE
    if high is None:
        high = LARGEST_MAGNITUDE
    allowed = "a finite number " + range_text(low, high, low_open, high_open)
    if not _is_number(value) or not math.isfinite(float(value)):
        raise invalid(name, value, allowed)
    x = float(value)
    x = 0.0 if abs(x) < SMALLEST_MAGNITUDE else x  # also -0.0, which numpy refuses as a negative scale
    if low is not None and (x < low or (low_open and x == low)):
        raise invalid(name, value, allowed)
    if high is not None and (x > high or (high_open and x == high)):
        raise invalid(name, value, allowed)
    return x


def check_int(name: str, value: Any, *, low: int | None = None, high: int | None = None) -> int:
    """Return ``value`` as an int within ``[low, high]``, or raise.

    Floats with an integral value (``4.0``, as YAML may give) are accepted.
    """
    allowed = "an integer " + range_text(low, high, False, False)
    if not _is_number(value) or not math.isfinite(float(value)) or float(value) != int(value):
        raise invalid(name, value, allowed)
    x = int(value)
    if (low is not None and x < low) or (high is not None and x > high):
        raise invalid(name, value, allowed)
    return x


def check_choice(name: str, value: Any, choices: Sequence[str]) -> str:
    """Return ``value`` if it is one of ``choices``, or raise."""
    if not isinstance(value, str) or value not in choices:
        raise invalid(name, value, "one of " + ", ".join(repr(c) for c in choices))
    return value


def check_scalar_or_list(
    name: str,
    value: Any,
    n: int,
    check: Callable[[str, Any], Any],
    what: str,
) -> tuple[Any, ...]:
    """Accept one value (broadcast to ``n``) or a list of exactly ``n`` values.

    ``check(name, item)`` validates one item; ``what`` describes one item for the
    message. Returns a tuple of length ``n``.
    """
    if isinstance(value, (str, bytes, Mapping)):
        raise invalid(name, value, f"{what}, or a list of {n} such values")
    if isinstance(value, Iterable):
        items = list(value)
        if len(items) != n:
            raise invalid(name, value, f"{what}, or a list of exactly {n} such values (got {len(items)})")
        return tuple(check(f"{name}[{i}]", item) for i, item in enumerate(items))
    one = check(name, value)
    return (one,) * n


def check_hourly(
    name: str, value: Any, *, low: float | None = None, high: float | None = None, broadcast: bool = True
) -> tuple[float, ...]:
    """Return 24 hourly numbers within ``[low, high]``: a list of 24, or (if ``broadcast``)
    one number repeated; raise naming the field otherwise."""
    what = "a number " + range_text(low, high, False, False) if (low, high) != (None, None) else "a number"
    if not broadcast and not isinstance(value, (list, tuple)) and not hasattr(value, "__array__"):
        raise invalid(name, value, f"a list of {HOURS_PER_DAY} hourly numbers, each {what.removeprefix('a ')}")
    check = lambda k, v: check_float(k, v, low=low, high=high)  # noqa: E731
    return check_scalar_or_list(name, value, HOURS_PER_DAY, check, what)


def check_keys(given: Iterable[str], allowed: Iterable[str], where: str) -> None:
    """Raise naming the first unknown key, with close matches and the allowed set."""
    allowed_list = sorted(allowed)
    for key in given:
        if key not in allowed_list:
            close = difflib.get_close_matches(str(key), allowed_list, n=3)
            hint = f" (did you mean {', '.join(close)}?)" if close else ""
            raise ConfigError(
                f"unknown key {key!r} for {where}{hint}; allowed keys: {', '.join(allowed_list)}", key=str(key)
            )
