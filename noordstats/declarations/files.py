"""Reading a declaration file: YAML, a strict pydantic model, one-line errors naming file,
entry and key.
"""

from __future__ import annotations

from pathlib import Path
from types import UnionType
from typing import TypeVar, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from noordstats.errors import UserError


class ConfigError(UserError):
    """A declaration file (indicators, specialisations, claims) or a user choice that is wrong."""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


_Model = TypeVar("_Model", bound=BaseModel)


def format_validation_error(
    path: Path, entry: str, error: ValidationError, model: type[BaseModel] | None = None
) -> str:
    """One line: file, entry, key and what is wrong; an unknown key also gets the valid keys
    of ``model`` (the model that was validated) at that place."""
    first = error.errors()[0]
    key = ".".join(str(p) for p in first["loc"])
    message = f"{path}: entry {entry!r}, key {key!r}: {first['msg']}"
    if first["type"] == "extra_forbidden" and model is not None:
        valid = _keys_at(model, first["loc"][:-1])
        if valid:
            message += f"; valid keys: {', '.join(valid)}"
    return message


def _keys_at(annotation: object, loc: tuple) -> list[str] | None:
    """The field names of the model found by following ``loc`` from ``annotation`` through
    model fields, lists, dicts and optionals; None if the path leads elsewhere."""
    for part in loc:
        annotation = _step(annotation, part)
        if annotation is None:
            return None
    model = _step(annotation, None)
    if not isinstance(model, type):
        return None
    return [field.alias or name for name, field in model.model_fields.items()]


def _step(annotation: object, part: object) -> object:
    """One step of :func:`_keys_at`; ``part=None`` only unwraps optionals."""
    args = [a for a in get_args(annotation) if a is not type(None)]
    origin = get_origin(annotation)
    if origin in (Union, UnionType):
        found = [s for s in (_step(a, part) for a in args) if s is not None]
        return found[0] if found else None
    if part is None:
        return (
            annotation
            if isinstance(annotation, type) and issubclass(annotation, BaseModel)
            else None
        )
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        field = annotation.model_fields.get(str(part))
        return None if field is None else field.annotation
    if origin in (list, tuple, set) and args:
        return args[0]
    if origin is dict and len(args) == 2:
        return args[1]
    return None


#: libyaml's safe loader where PyYAML was built with it (ten times faster: every report's
#: kernel reads the declarations), else PyYAML's own; both accept the same documents
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_yaml(path: Path, top_key: str) -> dict:
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER)
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {str(exc).splitlines()[0]}") from None
    if not isinstance(raw, dict) or not isinstance(raw.get(top_key), list):
        raise ConfigError(f"{path}: expected a top-level '{top_key}:' list")
    return raw


def read_file_model(path: Path, top_key: str, model: type[_Model]) -> _Model:
    """Read a declaration file and validate its top level against ``model``."""
    raw = read_yaml(path, top_key)
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(path, "(file)", exc, model)) from None


def validate_entries(
    path: Path, items: list, model: type[_Model], id_key: str = "id"
) -> dict[str, _Model]:
    entries: dict[str, _Model] = {}
    for i, item in enumerate(items):
        entry = item.get(id_key, f"#{i}") if isinstance(item, dict) else f"#{i}"
        if not isinstance(item, dict):
            raise ConfigError(f"{path}: entry {entry!r}: expected a mapping of keys")
        try:
            obj = model.model_validate(item)
        except ValidationError as exc:
            raise ConfigError(format_validation_error(path, str(entry), exc, model)) from None
        key = getattr(obj, id_key)
        if key in entries:
            raise ConfigError(f"{path}: entry {key!r}, key {id_key!r}: duplicate {id_key}")
        entries[key] = obj
    return entries


def fail(path: Path, entry: str, key: str, message: str) -> None:
    raise ConfigError(f"{path}: entry {entry!r}, key {key!r}: {message}")
