"""Server-side request validation from botocore's service model, worded as AWS words it.

botocore checks types, required members and minimum lengths before a request leaves the client;
AWS also enforces maximum lengths, patterns and numeric ranges, and answers with a
ValidationException such as:

    1 validation error detected: Value 'my_image' at 'imageName' failed to satisfy constraint:
    Member must satisfy regular expression pattern: [a-zA-Z0-9]([-.]?[a-zA-Z0-9]){0,62}
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

import botocore.session
from botocore.model import ListShape, MapShape, Shape, StructureShape


@cache
def _service_model(service: str) -> Any:
    return botocore.session.get_session().get_service_model(service)


@cache
def _compiled(pattern: str) -> re.Pattern[str] | None:
    try:
        return re.compile(pattern)
    except re.error:  # Java-only syntax such as \p{L}: AWS checks it, we cannot
        return None


def _camel(name: str) -> str:
    return name[:1].lower() + name[1:]


def _problems(shape: Shape, value: Any, where: str) -> list[str]:
    meta = shape.metadata
    found: list[str] = []

    def bad(constraint: str) -> None:
        shown = value if isinstance(value, str | int | float) else "null"
        found.append(f"Value '{shown}' at '{where}' failed to satisfy constraint: {constraint}")

    if isinstance(shape, StructureShape) and isinstance(value, dict):
        for name, member in shape.members.items():
            if name in value and value[name] is not None:
                found += _problems(member, value[name], f"{where}.{_camel(name)}" if where else _camel(name))
    elif isinstance(shape, ListShape) and isinstance(value, list):
        if "max" in meta and len(value) > meta["max"]:
            bad(f"Member must have length less than or equal to {meta['max']}")
        if "min" in meta and len(value) < meta["min"]:
            bad(f"Member must have length greater than or equal to {meta['min']}")
        for index, item in enumerate(value):
            found += _problems(shape.member, item, f"{where}.{index + 1}.member")
    elif isinstance(shape, MapShape) and isinstance(value, dict):
        if "max" in meta and len(value) > meta["max"]:
            bad(f"Member must have length less than or equal to {meta['max']}")
    elif shape.type_name == "string" and isinstance(value, str):
        if "max" in meta and len(value) > meta["max"]:
            bad(f"Member must have length less than or equal to {meta['max']}")
        pattern = _compiled(meta["pattern"]) if "pattern" in meta else None
        if pattern is not None and not pattern.fullmatch(value):
            bad(f"Member must satisfy regular expression pattern: {meta['pattern']}")
        enum: list[str] = getattr(shape, "enum", [])  # botocore's StringShape
        if enum and value not in enum:
            bad(f"Member must satisfy enum value set: [{', '.join(enum)}]")
    elif shape.type_name in ("integer", "long") and isinstance(value, int):
        if "max" in meta and value > meta["max"]:
            bad(f"Member must have value less than or equal to {meta['max']}")
        if "min" in meta and value < meta["min"]:
            bad(f"Member must have value greater than or equal to {meta['min']}")
    return found


def validation_message(service: str, operation: str, params: dict[str, Any]) -> str | None:
    """AWS's ValidationException message for `params`, or None when they satisfy the model."""
    shape = _service_model(service).operation_model(operation).input_shape
    problems = _problems(shape, params, "")
    if not problems:
        return None
    count = f"{len(problems)} validation error{'s' if len(problems) > 1 else ''} detected"
    return f"{count}: {'; '.join(problems)}"
