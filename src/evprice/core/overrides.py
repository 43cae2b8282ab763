"""A user's configuration keys: ``key=value`` assignments, YAML files, and sections.

A config's fields may be grouped in sections (``market``, ``grid``, ``roads``, ...,
declared with ``config_field(..., section=...)``). A user gives a key flat
(``cost_weight_line``), dotted (``grid.cost_weight_line``) or nested in its section's
mapping (``grid: {cost_weight_line: 2}``); :func:`flatten_sections` reads all three into
the flat mapping a config is made from, so the flat key of every field, the **alias** of its
``section.key`` path, is always accepted (:func:`alias_map`). A key given twice, under a
section it is not in, or under a section that does not exist is refused by name.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from evprice.core.config import ConfigError, check_keys


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


class UniqueKeyLoader(yaml.SafeLoader):
    """YAML's safe loader, refusing a mapping that repeats a key (plain YAML keeps the last one silently)."""


def _mapping_without_duplicates(loader: UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
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


UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_without_duplicates)


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
        data = yaml.load(text, Loader=UniqueKeyLoader)  # noqa: S506  (a SafeLoader subclass)
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


def alias_map(sections: Mapping[str, str]) -> dict[str, str]:
    """Each sectioned field's flat key and its ``section.key`` path (``sections``: field -> section)."""
    return {name: f"{section}.{name}" for name, section in sections.items()}


def flatten_sections(overrides: Mapping[str, Any], sections: Mapping[str, str], where: str) -> dict[str, Any]:
    """The flat mapping of field values that ``overrides`` gives (see the module docstring).

    Args:
        overrides: keys flat, dotted (``"grid.vm_min_pu"``) or section mappings (``{"grid": {...}}``).
        sections: each sectioned field's section; a field not in it has only its flat key.
        where: the config's name for the messages.

    Raises:
        ConfigError: a field given twice (as two of its forms), a section that does not exist,
            a section holding something other than a mapping, or a key under a section it is
            not in. An unknown flat key passes through (the config's own key check names it).
    """
    names = {s for s in sections.values()}
    out: dict[str, Any] = {}
    given_as: dict[str, str] = {}

    def put(name: str, value: Any, as_given: str) -> None:
        if name in out:
            raise ConfigError(
                f"{name!r} is given twice for {where}, as {given_as[name]!r} and as {as_given!r}: give it once"
            )
        out[name], given_as[name] = value, as_given

    def field_of(section: str, key: str) -> str:
        if section in sections:
            raise ConfigError(
                f"{section}.{key} is not a key of {where}: {section!r} is a key, not a section; give it one value"
            )
        if section not in names:
            close = difflib.get_close_matches(section, sorted(names), n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            raise ConfigError(f"unknown section {section!r} for {where}{hint}; sections: {', '.join(sorted(names))}")
        if sections.get(key) != section:
            own = [n for n, s in sections.items() if s == section]
            if key in sections:
                raise ConfigError(
                    f"{section}.{key} is not a key of {where}: {key!r} is in section {sections[key]!r}; "
                    f"write {sections[key]}.{key} or {key}"
                )
            check_keys([key], own, f"section {section!r} of {where}")
        return key

    for key, value in overrides.items():
        if key in names and key not in sections:
            if not isinstance(value, Mapping):
                raise ConfigError(
                    f"{key}={value!r} is invalid: {key!r} is a section of {where}, expected a mapping of its keys"
                )
            for sub, sub_value in value.items():
                put(field_of(key, str(sub)), sub_value, f"{key}.{sub}")
        elif isinstance(key, str) and "." in key:
            section, _, sub = key.partition(".")
            put(field_of(section, sub), value, key)
        else:
            put(key, value, key)
    return out


def nest_sections(values: Mapping[str, Any], sections: Mapping[str, str]) -> dict[str, Any]:
    """``values`` (flat) grouped by section, in the order of ``values``; a field without a
    section stays flat, before the sections."""
    flat = {k: v for k, v in values.items() if k not in sections}
    nested: dict[str, dict[str, Any]] = {}
    for key, value in values.items():
        if key in sections:
            nested.setdefault(sections[key], {})[key] = value
    return {**flat, **nested}


def merge_overrides(*layers: Mapping[str, Any]) -> dict[str, Any]:
    """Override layers merged in order (a config file, then each ``--set``): a later layer's key
    replaces an earlier layer's key for the same field in whichever form either was given
    (``x``, ``section.x`` or ``section: {x: ...}``); section mappings become dotted keys.
    Within one layer every key is kept, so :func:`flatten_sections` refuses a field given twice there."""
    merged: dict[str, Any] = {}
    for layer in layers:
        dotted: dict[str, Any] = {}
        for key, value in layer.items():
            if isinstance(value, Mapping):  # no field's value is a mapping: this is a section
                dotted.update({f"{key}.{sub}": v for sub, v in value.items()})
            else:
                dotted[str(key)] = value
        leaves = {key.rpartition(".")[2] for key in dotted}
        merged = {k: v for k, v in merged.items() if k.rpartition(".")[2] not in leaves}
        merged.update(dotted)
    return merged
