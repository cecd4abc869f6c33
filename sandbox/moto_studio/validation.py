"""Requests and responses checked against botocore's service model, by one walk of its shapes.

Requests: botocore checks types, required members and minimum lengths before a request leaves the
client; AWS also enforces maximum lengths, patterns, enums and numeric ranges, and answers with a
ValidationException such as:

    1 validation error detected: Value 'my_image' at 'imageName' failed to satisfy constraint:
    Member must satisfy regular expression pattern: [a-zA-Z0-9]([-.]?[a-zA-Z0-9]){0,62}

Responses: what moto_studio hands moto's serializer must be what AWS could send: every required
member, no member the model lacks, no null where AWS omits a member, the model's types, and the
same constraints. With `settings.check_responses` on (MOTO_STUDIO_CHECK_RESPONSES=1), every
operation moto_studio serves is checked before it is sent; one that does not match is answered
with a 500 InternalFailure naming the problems, and recorded in `mismatches`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

import botocore.session
from botocore import xform_name
from botocore.model import ListShape, MapShape, Shape, StructureShape
from moto.core.responses import ActionResult, BaseResponse, boto3_service_name
from moto.core.serialize import AttributePickerContext, XFormedAttributePicker

from .faults import Answer, error_response
from .settings import settings


@cache
def _service_model(service: str) -> Any:
    return botocore.session.get_session().get_service_model(service)


@cache
def _compiled(pattern: str) -> re.Pattern[str] | None:
    try:
        return re.compile(pattern)
    except re.error:  # Java-only syntax such as \p{L}: AWS checks it, we cannot
        return None


class MapKey(str):
    """A map's key, as a step of a problem's path (a plain str step is a structure's member)."""


Path = tuple[str | int, ...]  # member names, list indexes (from 0) and MapKeys
# Reads a structure member from a value that is not a dict (moto's serializer reads moto's objects).
Pick = Callable[[Any, str, Shape], Any]

# The kinds of problem; AWS's ValidationException reports the constraints, botocore the rest.
CONSTRAINTS = frozenset({"length", "pattern", "enum", "range"})

# The Python values moto's serializer writes for each botocore type (a timestamp may also be epoch
# seconds, the JSON protocol's own form).
TYPES: dict[str, tuple[type, ...]] = {
    "structure": (Mapping,),
    "list": (list, tuple),
    "map": (Mapping,),
    "string": (str,),
    "integer": (int,),
    "long": (int,),
    "float": (int, float),
    "double": (int, float),
    "boolean": (bool,),
    "timestamp": (datetime, int, float),
    "blob": (bytes, bytearray),
}


@dataclass(frozen=True)
class Problem:
    path: Path
    kind: str  # "missing", "null", "unknown", "type", or one of CONSTRAINTS
    constraint: str  # AWS's words for a constraint
    value: Any = None

    def __str__(self) -> str:
        shown = "" if self.kind in ("missing", "null") else f" (value {self.value!r:.80})"
        return (
            f"{''.join(map(_shown_step, self.path)).lstrip('.') or 'the response'}: {self.constraint}{shown}"
        )


def _shown_step(step: str | int) -> str:
    """A path step as Python reads it: `ImageVersions[0].FailureReason`, `Variables['MODE']`."""
    if isinstance(step, int):
        return f"[{step}]"
    return f"[{step!r}]" if isinstance(step, MapKey) else f".{step}"


def shape_problems(
    shape: Shape, value: Any, path: Path = (), pick: Pick | None = None, in_object: bool = False
) -> list[Problem]:
    """Everything about `value` that botocore's `shape` does not allow, each with its path. `pick`
    reads the members of a structure given as an object; within one (`in_object`), None is an
    attribute left unset, which moto's serializer omits, as AWS does."""

    def bad(kind: str, constraint: str) -> list[Problem]:
        return [Problem(path, kind, constraint, value)]

    if isinstance(shape, StructureShape) and shape.is_document_type:
        return []
    if isinstance(shape, StructureShape) and pick is not None and not isinstance(value, Mapping):
        members = {name: pick(value, name, member) for name, member in shape.members.items()}
        return _structure(shape, members, path, pick, in_object=True)
    if not _of_type(value, shape.type_name):
        return bad("type", f"Member must be a {shape.type_name} (botocore shape {shape.name})")
    if isinstance(shape, StructureShape):
        return _structure(shape, value, path, pick, in_object)
    found = _constraints(shape, value, bad)
    if isinstance(shape, ListShape):
        for index, item in enumerate(value):
            found += shape_problems(shape.member, item, (*path, index), pick, in_object)
    elif isinstance(shape, MapShape):
        for key, item in value.items():
            found += shape_problems(shape.key, key, (*path, MapKey(key)), pick, in_object)
            found += shape_problems(shape.value, item, (*path, MapKey(key)), pick, in_object)
    return found


def _of_type(value: Any, type_name: str) -> bool:
    types = TYPES.get(type_name, (object,))
    return isinstance(value, types) and not (isinstance(value, bool) and bool not in types)


def _structure(
    shape: StructureShape, value: Mapping[str, Any], path: Path, pick: Pick | None, in_object: bool
) -> list[Problem]:
    found: list[Problem] = []
    for name in value:
        if name not in shape.members:
            found.append(Problem((*path, name), "unknown", f"{shape.name} has no member {name}", value[name]))
    for name, member in shape.members.items():
        if value.get(name) is not None:
            found += shape_problems(member, value[name], (*path, name), pick, in_object)
        elif name in shape.required_members:
            found.append(Problem((*path, name), "missing", "Member must not be null"))
        elif name in value and not in_object:
            found.append(Problem((*path, name), "null", "null where AWS omits the member"))
    return found


def _constraints(shape: Shape, value: Any, bad: Callable[[str, str], list[Problem]]) -> list[Problem]:
    meta = shape.metadata
    found: list[Problem] = []
    measure = len(value) if isinstance(shape, ListShape | MapShape) or shape.type_name == "string" else None
    if measure is not None and "max" in meta and measure > meta["max"]:
        found += bad("length", f"Member must have length less than or equal to {meta['max']}")
    if measure is not None and "min" in meta and measure < meta["min"]:
        found += bad("length", f"Member must have length greater than or equal to {meta['min']}")
    if shape.type_name == "string":
        pattern = _compiled(meta["pattern"]) if "pattern" in meta else None
        if pattern is not None and not pattern.fullmatch(value):
            found += bad("pattern", f"Member must satisfy regular expression pattern: {meta['pattern']}")
        enum: list[str] = getattr(shape, "enum", [])  # botocore's StringShape
        if enum and value not in enum:
            found += bad("enum", f"Member must satisfy enum value set: [{', '.join(enum)}]")
    if shape.type_name in ("integer", "long") and "max" in meta and value > meta["max"]:
        found += bad("range", f"Member must have value less than or equal to {meta['max']}")
    if shape.type_name in ("integer", "long") and "min" in meta and value < meta["min"]:
        found += bad("range", f"Member must have value greater than or equal to {meta['min']}")
    return found


# Requests ---------------------------------------------------------------------------------------


def _aws_step(step: str | int) -> str:
    """A path step as AWS's ValidationException words it: `kernelGatewayImageConfig.kernelSpecs.1.member`."""
    if isinstance(step, int):
        return f"{step + 1}.member"
    return step if isinstance(step, MapKey) else step[:1].lower() + step[1:]


def validation_message(service: str, operation: str, params: dict[str, Any]) -> str | None:
    """AWS's ValidationException message for `params`, or None when they satisfy the model."""
    shape = _service_model(service).operation_model(operation).input_shape
    problems = [p for p in shape_problems(shape, params) if p.kind in CONSTRAINTS]
    if not problems:
        return None
    count = f"{len(problems)} validation error{'s' if len(problems) > 1 else ''} detected"
    worded = [
        f"Value '{p.value if isinstance(p.value, str | int | float) else 'null'}' "
        f"at '{'.'.join(map(_aws_step, p.path))}' failed to satisfy constraint: {p.constraint}"
        for p in problems
    ]
    return f"{count}: {'; '.join(worded)}"


# Responses --------------------------------------------------------------------------------------


def omit_nulls(value: Any) -> Any:
    """`value` without the members it holds None for: AWS omits a member that has no value (no
    member of botocore's output shapes is nullable), where models and moto's results hold None."""
    if isinstance(value, dict):
        return {key: omit_nulls(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [omit_nulls(item) for item in value]
    return value


def response_problems(service: str, operation: str, result: Any, pick: Pick | None = None) -> list[Problem]:
    """What is wrong with `result` as the output of `operation` (None: an empty response)."""
    shape = _service_model(service).operation_model(operation).output_shape
    if shape is None:
        return [] if not result else [Problem((), "unknown", f"{operation} has no output", result)]
    return shape_problems(shape, {} if result is None else result, (), pick)


@dataclass(frozen=True)
class Mismatch:
    service: str
    operation: str
    problems: tuple[Problem, ...]

    def __str__(self) -> str:
        listed = "; ".join(map(str, self.problems))
        return (
            f"moto_studio's {self.service} {self.operation} response is not botocore's output shape: {listed}"
        )


mismatches: list[Mismatch] = []  # every response the check refused, for the tests to read
checked: set[tuple[str, str]] = set()  # (service, operation) of every response checked
studio_operations: set[tuple[str, str]] = set()  # (service, operation) checked when on
_moto_serialized = BaseResponse.serialized


def check_responses(target: type, source: type) -> None:
    """Check, while `settings.check_responses` is on, the response of every operation of moto's
    `target` class (a backend or a response class) that `source`, grafted onto it, implements (by
    method name), where moto hands the response to its serializer."""
    service = boto3_service_name.get(target.__module__.split(".")[1], target.__module__.split(".")[1])
    if service in botocore.session.get_session().get_available_services():
        names = vars(source)
        operations = _service_model(service).operation_names
        studio_operations.update((service, op) for op in operations if xform_name(op) in names)
    BaseResponse.serialized = _serialized_if_shaped  # type: ignore[method-assign]


def _serialized_if_shaped(self: BaseResponse, action_result: ActionResult) -> Any:
    """moto's BaseResponse.serialized, or a 500 InternalFailure naming what is wrong with the result."""
    result = action_result.result
    if not settings.check_responses or isinstance(result, Exception):
        return _moto_serialized(self, action_result)
    service, operation = self.boto3_service_name, self._get_action()
    if (service, operation) not in studio_operations:
        return _moto_serialized(self, action_result)
    checked.add((service, operation))
    # moto's serializer reads moto's objects (ECR's Image) through this picker: so does the check.
    picker = XFormedAttributePicker(response_transformers=self.RESPONSE_KEY_PATH_TO_TRANSFORMER)
    model = _service_model(service).operation_model(operation)

    def pick(obj: Any, key: str, shape: Shape) -> Any:
        # botocore's shape where moto's subclass is declared: its pickers read only botocore's attributes
        return picker(AttributePickerContext(obj, key, shape, model, model.service_model))  # type: ignore[arg-type]

    problems = response_problems(service, operation, result, pick)
    if not problems:
        return _moto_serialized(self, action_result)
    mismatch = Mismatch(service, operation, tuple(problems))
    mismatches.append(mismatch)
    answer = error_response(service, Answer("InternalFailure", 500, str(mismatch)))
    headers = {**answer.headers, "status": answer.status_code}  # moto's call_action reads "status"
    return answer.status_code, headers, answer.get_data(as_text=True)
