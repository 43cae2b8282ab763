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
from dataclasses import dataclass
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


Bound = float | Callable[[Any], float] | None
"""A bound of a declared field: a number, a function of the config (a bound that depends on
another field, checked after it), or None (unbounded, i.e. :data:`LARGEST_MAGNITUDE`)."""

SHAPES = (None, "station", "hourly", "hourly_list", "hourly_or_one", "list")
"""How many values a declared field holds: one; ``"station"``: one, or one per station (a
tuple of ``n_stations``); ``"hourly"``: one, or 24 hourly values (a tuple of 24);
``"hourly_list"``: exactly 24; ``"hourly_or_one"``: one number, or 24 (kept as given);
``"list"``: a non-empty list of any length."""


@dataclass(frozen=True)
class Accepts:
    """What a config field accepts, declared beside its default (:func:`config_field`).

    Attributes:
        kind: ``"float"``, ``"int"`` or ``"choice"``.
        low, high: bounds of each value (:data:`Bound`); open ends with ``low_open`` /
            ``high_open``. An unbounded float is bounded by :data:`LARGEST_MAGNITUDE`.
        choices: the allowed strings of a ``"choice"``; a string names a class attribute that
            holds them (a scenario widens ``ALLOWED_OBJECTIVES``).
        shape: one of :data:`SHAPES`.
        optional: whether None is allowed (it then means what the field's doc says).
        reason: why the bounds are where they are (physical or numerical), for the reference.
        used_when: ``(key, values)``: the field has an effect only when field ``key`` holds one
            of ``values``; set away from its default otherwise, it is refused.
        unused_why: the refusal's explanation (default: which setting uses it).
    """

    kind: str
    low: Bound = None
    high: Bound = None
    low_open: bool = False
    high_open: bool = False
    choices: tuple[str, ...] | str = ()
    shape: str | None = None
    optional: bool = False
    reason: str = ""
    used_when: tuple[str, tuple[Any, ...]] | None = None
    unused_why: str = ""

    def __post_init__(self) -> None:
        if self.kind not in ("float", "int", "choice") or self.shape not in SHAPES:
            raise ValueError(f"Accepts(kind={self.kind!r}, shape={self.shape!r}): unknown kind or shape")

    def bounds(self, config: Any) -> tuple[float | None, float | None]:
        return tuple(b(config) if callable(b) else b for b in (self.low, self.high))  # type: ignore[return-value]

    def check_one(self, name: str, value: Any, config: Any) -> Any:
        """One value, normalised (``int``, ``float`` or ``str``), or a :class:`ConfigError`."""
        low, high = self.bounds(config)
        if self.kind == "int":
            return check_int(name, value, low=low, high=high)  # type: ignore[arg-type]
        if self.kind == "float":
            return check_float(name, value, low=low, high=high, low_open=self.low_open, high_open=self.high_open)
        choices = getattr(config, self.choices) if isinstance(self.choices, str) else self.choices
        return check_choice(name, value, choices)

    def describe(self, config: Any = None) -> str:
        """What one value may be, as an error message says it; ``config`` an instance or its class
        (bounds that depend on the config are marked ``(depends on the config)`` without one)."""
        if self.kind == "choice":
            choices = self.choices
            if isinstance(choices, str):  # the class attribute it names; without a config, the name
                choices = (choices,) if config is None else getattr(config, choices)  # a class has it too
            return "one of " + ", ".join(repr(c) for c in choices)
        if (config is None or isinstance(config, type)) and (callable(self.low) or callable(self.high)):
            low, high = (None if callable(b) else b for b in (self.low, self.high))
            extra = " (depends on the config)"
        else:
            (low, high), extra = self.bounds(config), ""
        if self.kind == "float":
            low = -LARGEST_MAGNITUDE if low is None else low
            high = LARGEST_MAGNITUDE if high is None else high
        what = "an integer " if self.kind == "int" else "a finite number "
        return what + _range_text(low, high, self.low_open, self.high_open) + extra

    def check(self, name: str, value: Any, config: Any) -> Any:
        """The field's value, normalised to its shape, or a :class:`ConfigError` naming it."""
        if value is None:
            if self.optional:
                return None
            raise invalid(name, value, self.describe(config))
        one = lambda k, v: self.check_one(k, v, config)  # noqa: E731
        if self.shape is None:
            return one(name, value)
        if self.shape == "station":
            return check_scalar_or_list(name, value, config.n_stations, one, self.describe(config))
        if self.shape in ("hourly", "hourly_list") or (self.shape == "hourly_or_one" and _is_sequence(value)):
            if self.shape != "hourly" and not _is_sequence(value):
                raise invalid(name, value, f"a list of {HOURS_PER_DAY} hourly numbers, each {self.describe(config)}")
            return check_scalar_or_list(name, value, HOURS_PER_DAY, one, self.describe(config))
        if self.shape == "hourly_or_one":
            return one(name, value)
        if not _is_sequence(value) or len(list(value)) == 0:
            raise invalid(name, value, f"a non-empty list, each item {self.describe(config)}")
        return tuple(one(f"{name}[{i}]", v) for i, v in enumerate(value))


def _holds(value: Any, allowed: tuple[Any, ...]) -> bool:
    """Whether ``value`` is one of ``allowed`` (None by identity; an array or a list is never a choice)."""
    return any(value is a if a is None else isinstance(value, str) and value == a for a in allowed)


def _is_sequence(value: Any) -> bool:
    return isinstance(value, Iterable) and not isinstance(value, (str, bytes, Mapping))


def number(
    low: Bound = None,
    high: Bound = None,
    *,
    low_open: bool = False,
    high_open: bool = False,
    shape: str | None = None,
    optional: bool = False,
    reason: str = "",
    used_when: tuple[str, tuple[Any, ...]] | None = None,
    unused_why: str = "",
) -> Accepts:
    """A float field's :class:`Accepts`."""
    return Accepts("float", low, high, low_open, high_open, (), shape, optional, reason, used_when, unused_why)


def integer(
    low: Bound = None,
    high: Bound = None,
    *,
    shape: str | None = None,
    optional: bool = False,
    reason: str = "",
    used_when: tuple[str, tuple[Any, ...]] | None = None,
    unused_why: str = "",
) -> Accepts:
    """An int field's :class:`Accepts`."""
    return Accepts("int", low, high, False, False, (), shape, optional, reason, used_when, unused_why)


def choice(
    choices: Sequence[str] | str,
    *,
    optional: bool = False,
    used_when: tuple[str, tuple[Any, ...]] | None = None,
    unused_why: str = "",
) -> Accepts:
    """A string field's :class:`Accepts`: one of ``choices`` (or the class attribute they name)."""
    chosen = choices if isinstance(choices, str) else tuple(choices)
    return Accepts("choice", choices=chosen, optional=optional, used_when=used_when, unused_why=unused_why)


def config_field(default: Any, unit: str, doc: str, accepts: Accepts | None = None) -> Any:
    """A dataclass field that documents its unit and meaning (read by :func:`describe_fields`)
    and declares what it accepts (checked by :meth:`ConfigMixin.check_declared`)."""
    metadata = {"unit": unit, "doc": doc}
    if accepts is not None:
        metadata["accepts"] = accepts
    return dataclasses.field(default=default, metadata=metadata)


def declared(config_cls: type) -> dict[str, Accepts]:
    """Each declared field's :class:`Accepts`, in declared order."""
    return {f.name: f.metadata["accepts"] for f in dataclasses.fields(config_cls) if "accepts" in f.metadata}


class ConfigMixin:
    """Construction and export shared by the frozen config dataclasses.

    ``CONFIG_NAME`` names the config in error messages (default: the class name).
    """

    CONFIG_NAME: str | None = None

    def check_declared(self) -> None:
        """Check and normalise every declared field in declared order (a bound that depends on
        another field sees that field checked), then refuse any field set away from its default
        where its ``used_when`` rule says it has no effect."""
        rules = declared(type(self))
        for name, accepts in rules.items():
            object.__setattr__(self, name, accepts.check(name, getattr(self, name), self))
        values = {name: getattr(self, name) for name in self.field_names()}
        for name in self.unused_fields(values):
            if not self._is_default(name):
                key, allowed = rules[name].used_when  # type: ignore[misc]
                used = allowed[0] if len(allowed) == 1 else f"one of {list(allowed)}"
                why = rules[name].unused_why or f"only {key}={used!r} uses it"
                raise ConfigError(
                    f"{name}={getattr(self, name)!r} is invalid with {key}={values[key]!r}: it has no effect there "
                    f"({why}); remove it, or set {key}={used!r}"
                )

    @classmethod
    def unused_fields(cls, values: Mapping[str, Any]) -> tuple[str, ...]:
        """The declared fields a configuration of these ``values`` (missing keys: defaults) would
        not use, by their ``used_when`` rules.

        A scenario's registry drops its own defaults for them when an override switches what
        uses them (``CoupledNetwork-v0`` with ``driver_cost="utility"``), so that only what the
        user set can be refused."""
        defaults = {f.name: f.default for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        out = []
        for name, accepts in declared(cls).items():
            if accepts.used_when is not None:
                key, allowed = accepts.used_when
                if not _holds(values.get(key, defaults[key]), allowed):
                    out.append(name)
        return tuple(out)

    def unused_here(self) -> dict[str, str]:
        """The declared fields this configuration does not use (:meth:`unused_fields`), each with
        the setting that makes it unused (``"driver_cost='utility'"``)."""
        rules = declared(type(self))
        names = self.unused_fields({name: getattr(self, name) for name in self.field_names()})
        return {n: f"{rules[n].used_when[0]}={getattr(self, rules[n].used_when[0])!r}" for n in names}  # type: ignore[index]

    def _is_default(self, name: str) -> bool:
        """Whether field ``name`` holds its default (a per-station or hourly default broadcast
        to a tuple counts)."""
        default = {f.name: f.default for f in dataclasses.fields(self)}[name]  # type: ignore[arg-type]
        value = getattr(self, name)
        if isinstance(value, tuple) and not isinstance(default, tuple):
            return all(v == default for v in value)
        return value == default

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
    """``name``, ``default``, ``unit``, ``doc``, ``allowed`` and ``reason`` of every field of a config
    dataclass, in declared order.

    Fields document themselves through :func:`config_field` (``allowed`` and ``reason`` are
    empty for a field that declares no :class:`Accepts`).
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
        accepts = f.metadata.get("accepts")
        allowed = "" if accepts is None else accepts.describe(config_cls) + (" or None" if accepts.optional else "")
        rows.append(
            {
                "name": f.name,
                "default": text,
                "unit": f.metadata.get("unit", ""),
                "doc": f.metadata.get("doc", ""),
                "allowed": allowed,
                "reason": "" if accepts is None else accepts.reason,
            }
        )
    return rows
