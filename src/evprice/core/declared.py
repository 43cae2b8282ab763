"""Declared configs: what each field accepts, beside its default, and one validator.

A config dataclass declares each field with :func:`config_field` (its default, unit, one-line
meaning, an optional section and an :class:`Accepts` made by :func:`number`, :func:`integer`
or :func:`choice`: bounds with their physical reason, choices, a per-station or hourly shape,
and a "used only when" rule). :class:`ConfigMixin` checks every declared field in one pass
and builds configs from a user's overrides (flat, dotted or in sections, see
:mod:`evprice.core.overrides`); :func:`describe_fields` is the reference that
``evprice config`` prints.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from evprice.core.config import (
    LARGEST_MAGNITUDE,
    ConfigError,
    check_choice,
    check_float,
    check_int,
    check_keys,
    check_scalar_or_list,
    invalid,
    range_text,
)
from evprice.core.overrides import alias_map as _alias_map
from evprice.core.overrides import flatten_sections, nest_sections
from evprice.core.timing import HOURS_PER_DAY

Bound = float | Callable[[Any], float] | None
"""A bound of a declared field: a number, a function of the config (a bound that depends on
another field, checked after it), or None (unbounded, i.e. :data:`LARGEST_MAGNITUDE`)."""

SHAPES = (None, "station", "hourly", "hourly_list", "hourly_or_one", "list", "one_or_list", "list_or_hourly_lists")
"""How many values a declared field holds: one; ``"station"``: one, or one per station (a
tuple of ``n_stations``); ``"hourly"``: one, or 24 hourly values (a tuple of 24);
``"hourly_list"``: exactly 24; ``"hourly_or_one"``: one number, or 24 (kept as given);
``"list"``: a non-empty list of any length; ``"one_or_list"``: one value (kept as it is) or
such a list; ``"list_or_hourly_lists"``: such a list, or 24
of them (one per hour of the day), all of the same length (a tuple of 24 tuples)."""


@dataclass(frozen=True)
class Accepts:
    """What a config field accepts, declared beside its default (:func:`config_field`).

    Attributes:
        kind: ``"float"``, ``"int"``, ``"choice"`` or ``"bool"`` (true or false, never 0 or 1).
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
        if self.kind not in ("float", "int", "choice", "bool") or self.shape not in SHAPES:
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
        if self.kind == "bool":
            if not isinstance(value, bool):
                raise invalid(name, value, "true or false")
            return value
        choices = getattr(config, self.choices) if isinstance(self.choices, str) else self.choices
        return check_choice(name, value, choices)

    def describe(self, config: Any = None) -> str:
        """What one value may be, as an error message says it; ``config`` an instance or its class
        (bounds that depend on the config are marked ``(depends on the config)`` without one)."""
        if self.kind == "bool":
            return "true or false"
        if self.kind == "choice":
            choices = self.choices
            if isinstance(choices, str):  # the class attribute it names; without a config, the name
                choices = (choices,) if config is None else getattr(config, choices)  # a class has it too
            return "one of " + ", ".join(repr(c) for c in choices)
        depends = (config is None or isinstance(config, type)) and (callable(self.low) or callable(self.high))
        if depends:  # the side that depends on the config is left open in the text
            low, high = (None if callable(b) else b for b in (self.low, self.high))
            extra = f" (the {'upper' if callable(self.high) else 'lower'} bound depends on the config)"
        else:
            (low, high), extra = self.bounds(config), ""
        if self.kind == "float":
            low = -LARGEST_MAGNITUDE if low is None and not (depends and callable(self.low)) else low
            high = LARGEST_MAGNITUDE if high is None and not (depends and callable(self.high)) else high
        what = "an integer " if self.kind == "int" else "a finite number "
        return what + range_text(low, high, self.low_open, self.high_open) + extra

    def describe_shape(self, config: Any) -> str:
        """What the whole field may hold: :meth:`describe` of one value, in its shape."""
        one = self.describe(config)
        if self.shape == "station":
            n = getattr(config, "n_stations", None) if not isinstance(config, type) else None
            return f"{one}, or a list of {n if n is not None else 'n_stations'} such values (one per station)"
        if self.shape == "hourly":
            return f"{one}, or a list of {HOURS_PER_DAY} hourly such values"
        if self.shape == "hourly_list":
            return f"a list of {HOURS_PER_DAY} hourly numbers, each {one}"
        if self.shape == "hourly_or_one":
            return f"{one}, or a list of {HOURS_PER_DAY} hourly such values"
        if self.shape == "list":
            return f"a non-empty list, each item {one}"
        if self.shape == "one_or_list":
            return f"{one}, or a non-empty list of such values"
        if self.shape == "list_or_hourly_lists":
            return f"a non-empty list, each item {one}, or {HOURS_PER_DAY} such lists of one length (one per hour)"
        return one

    def check(self, name: str, value: Any, config: Any) -> Any:
        """The field's value, normalised to its shape, or a :class:`ConfigError` naming it."""
        if value is None:
            if self.optional:
                return None
            raise invalid(name, value, self.describe_shape(config))
        one = lambda k, v: self.check_one(k, v, config)  # noqa: E731
        if self.shape is None:
            return one(name, value)
        if self.shape == "station":
            return check_scalar_or_list(name, value, config.n_stations, one, self.describe(config))
        if self.shape in ("hourly", "hourly_list") or (self.shape == "hourly_or_one" and _is_sequence(value)):
            if self.shape != "hourly" and not _is_sequence(value):
                raise invalid(name, value, f"a list of {HOURS_PER_DAY} hourly numbers, each {self.describe(config)}")
            return check_scalar_or_list(name, value, HOURS_PER_DAY, one, self.describe(config))
        if self.shape in ("hourly_or_one", "one_or_list") and not _is_sequence(value):
            return one(name, value)
        if not _is_sequence(value) or len(list(value)) == 0:
            raise invalid(name, value, self.describe_shape(config))
        items = list(value)
        if self.shape == "list_or_hourly_lists" and _is_sequence(items[0]):
            rows = [list(row) if _is_sequence(row) else None for row in items]
            width = len(rows[0])
            if len(rows) != HOURS_PER_DAY or any(row is None or len(row) != width or not row for row in rows):
                raise invalid(name, value, self.describe_shape(config))
            return tuple(tuple(one(f"{name}[{h}][{i}]", v) for i, v in enumerate(row)) for h, row in enumerate(rows))
        return tuple(one(f"{name}[{i}]", v) for i, v in enumerate(items))


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
    shape: str | None = None,
    used_when: tuple[str, tuple[Any, ...]] | None = None,
    unused_why: str = "",
) -> Accepts:
    """A string field's :class:`Accepts`: one of ``choices`` (or the class attribute they name),
    in ``shape`` (a list of them with ``"list"``)."""
    chosen = choices if isinstance(choices, str) else tuple(choices)
    return Accepts("choice", choices=chosen, shape=shape, optional=optional, used_when=used_when, unused_why=unused_why)


def flag(*, used_when: tuple[str, tuple[Any, ...]] | None = None, unused_why: str = "") -> Accepts:
    """A boolean field's :class:`Accepts`: true or false (an integer 0 or 1 is refused, it is
    more often a typo for another key's value than a switch)."""
    return Accepts("bool", used_when=used_when, unused_why=unused_why)


def config_field(
    default: Any, unit: str, doc: str, accepts: Accepts | None = None, *, section: str | None = None
) -> Any:
    """A dataclass field that documents its unit and meaning (read by :func:`describe_fields`),
    declares what it accepts (checked by :meth:`ConfigMixin.check_declared`) and, optionally,
    the section a user may also give it in (``section.key``, see :mod:`evprice.core.overrides`)."""
    metadata: dict[str, Any] = {"unit": unit, "doc": doc}
    if accepts is not None:
        metadata["accepts"] = accepts
    if section is not None:
        metadata["section"] = section
    return dataclasses.field(default=default, metadata=metadata)


def sections_of(config_cls: type) -> dict[str, str]:
    """Each sectioned field's section, in declared order (a field without one is flat only)."""
    return {f.name: f.metadata["section"] for f in dataclasses.fields(config_cls) if "section" in f.metadata}


def declared(config_cls: type) -> dict[str, Accepts]:
    """Each declared field's :class:`Accepts`, in declared order."""
    return {f.name: f.metadata["accepts"] for f in dataclasses.fields(config_cls) if "accepts" in f.metadata}


class ConfigMixin:
    """Construction and export shared by the frozen config dataclasses.

    ``CONFIG_NAME`` names the config in error messages (default: the class name).
    """

    CONFIG_NAME: str | None = None

    def check_declared(self) -> None:
        """Check and normalise every declared field in declared order, those whose bounds depend
        on the config last (so the fields a bound reads are checked before it), then refuse any
        field set away from its default where its ``used_when`` rule says it has no effect."""
        rules = declared(type(self))
        depends = lambda a: callable(a.low) or callable(a.high)  # noqa: E731
        for name, accepts in sorted(rules.items(), key=lambda item: depends(item[1])):  # stable: declared order
            object.__setattr__(self, name, accepts.check(name, getattr(self, name), self))
        values = {name: getattr(self, name) for name in self.field_names()}
        for name in self.unused_fields(values):
            if not self._is_default(name):
                key, allowed = rules[name].used_when  # type: ignore[misc]
                used = f"{key}={allowed[0]!r}" if len(allowed) == 1 else f"{key} one of {list(allowed)}"
                why = rules[name].unused_why or f"only {used} uses it"
                raise ConfigError(
                    f"{name}={getattr(self, name)!r} is invalid with {key}={values[key]!r}: it has no effect there "
                    f"({why}); remove it, or set {used}"
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
    def flat_overrides(cls, overrides: Mapping[str, Any] | None) -> dict[str, Any]:
        """``overrides`` with every key flat: dotted keys and section mappings read by
        :func:`~evprice.core.overrides.flatten_sections` (an unknown flat key passes through)."""
        return flatten_sections(overrides or {}, sections_of(cls), cls.CONFIG_NAME or cls.__name__)

    @classmethod
    def alias_map(cls) -> dict[str, str]:
        """Each sectioned field's flat key and the ``section.key`` path it stands for."""
        return _alias_map(sections_of(cls))

    @classmethod
    def from_overrides(cls, overrides: Mapping[str, Any] | None = None, **kwargs: Any) -> Any:
        """Defaults updated by ``overrides`` (flat, dotted or in sections) and then ``kwargs``;
        unknown keys are named in the error."""
        merged = {**cls.flat_overrides(overrides), **cls.flat_overrides(kwargs)}
        check_keys(merged, cls.field_names(), cls.CONFIG_NAME or cls.__name__)
        return cls(**merged)

    def replace(self, **changes: Any) -> Any:
        """A copy with ``changes`` applied and validated."""
        check_keys(changes, self.field_names(), self.CONFIG_NAME or type(self).__name__)
        return dataclasses.replace(self, **changes)  # type: ignore[type-var]

    def to_dict(self) -> dict[str, Any]:
        """Plain values (tuples as lists) that :meth:`from_overrides` and YAML read back."""
        return {n: (list(v) if isinstance(v, tuple) else v) for n in self.field_names() for v in [getattr(self, n)]}

    def to_nested_dict(self) -> dict[str, Any]:
        """:meth:`to_dict` grouped by section (fields without one first, flat), which
        :meth:`from_overrides` reads back."""
        return nest_sections(self.to_dict(), sections_of(type(self)))


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
