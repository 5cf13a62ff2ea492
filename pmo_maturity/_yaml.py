"""Safe YAML loading with file-and-key error messages, shared by the questionnaire and the catalogue."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from .errors import Problem, QuestionnaireError

_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's parser when available

M = TypeVar("M", bound=BaseModel)


class _UniqueKeyLoader(_SAFE_LOADER):  # type: ignore[misc, valid-type]
    """Safe loader (no Python objects) that refuses duplicate mapping keys instead of keeping the last."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen: dict[object, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                "while constructing a mapping",
                node.start_mark,
                f"duplicate key {key!r} (first on line {seen[key] + 1})",
                key_node.start_mark,
            )
        seen[key] = key_node.start_mark.line
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def read_yaml_mapping(path: Path, *, error: type[QuestionnaireError] = QuestionnaireError) -> dict[str, Any]:
    """Read a YAML file that must hold a mapping, with safe loading and clear errors (``error``: the
    exception class to raise, naming the file)."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError as err:
        raise error(path, "file not found") from err
    except (OSError, UnicodeDecodeError) as err:
        raise error(path, f"cannot be read: {err}") from err
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - SafeLoader subclass
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "file"
        problem = getattr(err, "problem", None) or str(err)
        raise error(path, [Problem(where, f"YAML syntax error: {problem}")]) from err
    if not isinstance(data, dict):
        raise error(path, [Problem("file", "expected a mapping of keys at the top level", type(data).__name__)])
    return data


def _location(loc: tuple, data: Any) -> str:
    """Turn a pydantic error location into ``dimensions[2] (id 'action').items[0].reverse``."""
    parts: list[str] = []
    node = data
    for key in loc:
        if isinstance(key, int):
            label = f"[{key}]"
            if isinstance(node, list) and key < len(node):
                node = node[key]
                if isinstance(node, dict) and "id" in node:
                    label += f" (id {node['id']!r})"
            else:
                node = None
            parts.append(label)
        else:
            parts.append(("." if parts else "") + str(key))
            node = node.get(key) if isinstance(node, dict) else None
    return "".join(parts) or "file"


def validate_model(model: type[M], data: dict[str, Any], path: Path) -> M:
    """Validate ``data`` against ``model``; raise QuestionnaireError naming file, key and value."""
    try:
        return model.model_validate(data)
    except ValidationError as err:
        problems = []
        for e in err.errors():
            message = e["msg"].removeprefix("Value error, ")
            value = e.get("input") if e["type"] != "missing" else None
            if isinstance(value, (dict, list)):
                value = None  # the location already points at the structure
            problems.append(Problem(_location(e["loc"], data), message, value))
        raise QuestionnaireError(path, problems) from err
