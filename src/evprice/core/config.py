"""Validation helpers shared by every typed config, and override parsing.

A bad value fails at once with a :class:`ConfigError` whose message names the field, the
value and what is allowed, e.g.::

    ConfigError: dt_s=7 is invalid: expected an integer in [1, 3600] that divides 3600

Every checker returns the *normalised* value (``int``, ``float`` or a ``tuple``) so that the
frozen config holds plain, hashable Python values whatever the caller passed (numpy
scalars, lists, YAML numbers).
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import numbers
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from evprice.core.timing import HOURS_PER_DAY


class ConfigError(ValueError):
    """A configuration value or key is not allowed. The message says what is."""


def invalid(name: str, value: Any, allowed: str) -> ConfigError:
    """Build the standard error for field ``name`` holding ``value``."""
    return ConfigError(f"{name}={value!r} is invalid: expected {allowed}")


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _range_text(low: float | None, high: float | None, low_open: bool, high_open: bool) -> str:
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
    allowed = "a finite number " + _range_text(low, high, low_open, high_open)
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
    allowed = "an integer " + _range_text(low, high, False, False)
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
    what = "a number " + _range_text(low, high, False, False) if (low, high) != (None, None) else "a number"
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
            raise ConfigError(f"unknown key {key!r} for {where}{hint}; allowed keys: {', '.join(allowed_list)}")


def parse_assignment(text: str) -> tuple[str, Any]:
    """Parse a ``key=value`` override; the value is read as YAML (``4``, ``[1, 2]``, ``null``)."""
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise ConfigError(f"override {text!r} is invalid: expected key=value, e.g. n_stations=3")
    try:
        value = yaml.safe_load(raw) if raw.strip() else None
    except yaml.YAMLError as err:
        raise ConfigError(f"override {text!r}: the value is not valid YAML ({err})") from err
    return key, value


class _UniqueKeyLoader(yaml.SafeLoader):
    """YAML's safe loader, refusing a mapping that repeats a key (plain YAML keeps the last one silently)."""


def _mapping_without_duplicates(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise ConfigError(
                f"key {key!r} is given twice (lines {seen[key] + 1} and {key_node.start_mark.line + 1}): "
                "give each key once"
            )
        seen[key] = key_node.start_mark.line
    return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_without_duplicates)


def load_overrides_file(path: str | Path) -> dict[str, Any]:
    """Read a YAML file (UTF-8) holding one mapping of override keys to values, each key once.

    ``env``, if given, must be an environment id (a string)."""
    p = Path(path)
    where = f"config file {str(p)!r}"
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as err:
        raise ConfigError(f"{where} cannot be read: {err.strerror}") from err
    except UnicodeDecodeError as err:
        raise ConfigError(f"{where} is not UTF-8 text (byte {err.start}): save it as UTF-8") from None
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506  (a SafeLoader subclass)
    except ConfigError as err:
        raise ConfigError(f"{where}: {err}") from None
    except yaml.YAMLError as err:
        raise ConfigError(f"{where} is not valid YAML: {err}") from err
    if data is None:
        return {}
    if not isinstance(data, dict) or not all(isinstance(k, str) for k in data):
        raise ConfigError(f"{where} must hold a mapping of key: value pairs")
    if "env" in data and not isinstance(data["env"], str):
        env = data["env"]
        raise ConfigError(f"{where}: env={env!r} is invalid: expected an environment id such as 'PublicCharging-v0'")
    return data


def config_field(default: Any, unit: str, doc: str) -> Any:
    """A dataclass field that documents its unit and meaning (read by :func:`describe_fields`)."""
    return dataclasses.field(default=default, metadata={"unit": unit, "doc": doc})


class ConfigMixin:
    """Construction and export shared by the frozen config dataclasses.

    ``CONFIG_NAME`` names the config in error messages (default: the class name).
    """

    CONFIG_NAME: str | None = None

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in dataclasses.fields(cls))  # type: ignore[arg-type]

    @classmethod
    def from_overrides(cls, overrides: Mapping[str, Any] | None = None, **kwargs: Any) -> Any:
        """Defaults updated by ``overrides`` and ``kwargs``; unknown keys are named in the error."""
        merged = {**(overrides or {}), **kwargs}
        check_keys(merged, cls.field_names(), cls.CONFIG_NAME or cls.__name__)
        return cls(**merged)

    def replace(self, **changes: Any) -> Any:
        """A copy with ``changes`` applied and validated."""
        check_keys(changes, self.field_names(), self.CONFIG_NAME or type(self).__name__)
        return dataclasses.replace(self, **changes)  # type: ignore[type-var]

    def to_dict(self) -> dict[str, Any]:
        """Plain values (tuples as lists) that :meth:`from_overrides` and YAML read back."""
        return {n: (list(v) if isinstance(v, tuple) else v) for n in self.field_names() for v in [getattr(self, n)]}


def describe_fields(config_cls: type) -> list[dict[str, str]]:
    """``name``, ``default``, ``unit`` and ``doc`` of every field of a config dataclass, in declared order.

    Fields document themselves through ``metadata={"unit": ..., "doc": ...}``.
    """
    rows = []
    for f in dataclasses.fields(config_cls):
        default = f.default
        if default is dataclasses.MISSING and f.default_factory is not dataclasses.MISSING:
            default = f.default_factory()
        if default is None:
            text = "None"
        elif isinstance(default, float) and math.isfinite(default):
            text = f"{default:g}"
        else:
            text = str(default)
        rows.append(
            {"name": f.name, "default": text, "unit": f.metadata.get("unit", ""), "doc": f.metadata.get("doc", "")}
        )
    return rows
