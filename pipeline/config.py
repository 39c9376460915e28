"""Configuration: configs/default.yaml is both the defaults and the schema.

A user file or `--set` override may only name keys that exist in the defaults, with a value of the same
type (ints are accepted where floats are expected). Stage-specific checks live in each stage's options
dataclass (`__post_init__`), so every error names the key and the cause.
"""

from __future__ import annotations

import copy
import dataclasses
from pathlib import Path
from typing import Any, TypeVar

import yaml

DEFAULT_CONFIG_PATH = Path(__file__).resolve().parent.parent / "configs" / "default.yaml"

T = TypeVar("T")


class ConfigError(ValueError):
    """A configuration file or override is malformed; the message names the key and the cause."""


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config ({exc.strerror or exc})") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({exc})") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: top level must be a mapping of sections, got {type(data).__name__}")
    return data


def _type_name(value: Any) -> str:
    return {bool: "boolean", int: "integer", float: "number", str: "string", list: "list", dict: "mapping"}.get(
        type(value), type(value).__name__
    )


def _check_value(key: str, default: Any, value: Any, source: str) -> Any:
    if isinstance(default, dict):
        if not isinstance(value, dict):
            raise ConfigError(f"{source}: '{key}' must be a mapping, got {_type_name(value)}")
        return _merge(default, value, source, prefix=f"{key}.")
    if isinstance(default, bool) or isinstance(value, bool):
        if not (isinstance(default, bool) and isinstance(value, bool)):
            raise ConfigError(f"{source}: '{key}' must be {_type_name(default)}, got {value!r}")
        return value
    if isinstance(default, float) and isinstance(value, int):
        return float(value)
    if default is None or isinstance(value, type(default)):
        return value
    raise ConfigError(f"{source}: '{key}' must be {_type_name(default)}, got {_type_name(value)} {value!r}")


def _merge(base: dict[str, Any], override: dict[str, Any], source: str, prefix: str = "") -> dict[str, Any]:
    merged = copy.deepcopy(base)
    for key, value in override.items():
        full = f"{prefix}{key}"
        if key not in base:
            known = ", ".join(sorted(base)) or "none"
            raise ConfigError(f"{source}: unknown key '{full}' (known here: {known})")
        merged[key] = _check_value(full, base[key], value, source)
    return merged


def parse_override(item: str) -> tuple[list[str], Any]:
    """`section.key=value` -> (["section", "key"], value parsed as YAML, so 3, 0.5, true, [a, b] work)."""
    if "=" not in item:
        raise ConfigError(f"--set {item!r}: expected section.key=value")
    key, raw = item.split("=", 1)
    path = [part for part in key.strip().split(".") if part]
    if not path:
        raise ConfigError(f"--set {item!r}: empty key")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError as exc:
        raise ConfigError(f"--set {item!r}: cannot parse value ({exc})") from exc
    return path, value


def load_config(path: str | Path | None = None, overrides: list[str] | tuple[str, ...] = ()) -> dict[str, Any]:
    """Defaults, then the user's file, then `--set` overrides; each validated against the defaults."""
    config = _read_yaml(DEFAULT_CONFIG_PATH)
    if path is not None:
        config = _merge(config, _read_yaml(Path(path)), str(path))
    for item in overrides:
        keys, value = parse_override(item)
        nested: Any = value
        for key in reversed(keys):
            nested = {key: nested}
        config = _merge(config, nested, f"--set {item}")
    return config


def section(config: dict[str, Any], name: str, cls: type[T]) -> T:
    """Build a stage's typed options from its config section; the dataclass validates values."""
    if name not in config:
        raise ConfigError(f"config has no section '{name}'")
    fields = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    values = {k: (tuple(v) if isinstance(v, list) else v) for k, v in config[name].items() if k in fields}
    try:
        return cls(**values)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"config section '{name}': {exc}") from exc
