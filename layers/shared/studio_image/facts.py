"""What the image implies, read from its inventory: the user it runs as and its kernel specs."""

from __future__ import annotations

import json

from pydantic import BaseModel

from .inventory import Inventory


class UserInfo(BaseModel):
    name: str | None  # None where the config names a number that /etc/passwd does not know
    uid: int | None  # None where the config names a user /etc/passwd does not know
    gid: int | None
    group: str | None = None
    spec: str = ""  # the config's User as written ("" runs as root)


class KernelSpec(BaseModel):
    name: str  # the kernelspec directory name: what SageMaker looks the kernel up by
    display_name: str
    language: str
    argv: list[str]
    path: str  # of its kernel.json


class KernelSpecError(BaseModel):
    path: str
    problem: str


def _table(text: str | None, min_fields: int) -> list[list[str]]:
    rows = [line.split(":") for line in (text or "").splitlines() if line and line[0] != "#"]
    return [row for row in rows if len(row) >= min_fields]


def _int(text: str) -> int | None:
    return int(text) if text.isdigit() else None


def resolve_user(inventory: Inventory) -> UserInfo:
    """Resolve the config's `User` ("name", "uid", "name:group", "uid:gid") as a runtime would."""
    spec = (inventory.config.config.user or "").strip()
    passwd = _table(inventory.contents.get("/etc/passwd"), 4)
    groups = _table(inventory.contents.get("/etc/group"), 3)
    user_part, _, group_part = spec.partition(":")
    user_part = user_part or "root"

    by_name = {row[0]: row for row in passwd}
    by_uid = {_int(row[2]): row for row in passwd}
    row = by_uid.get(_int(user_part)) if user_part.isdigit() else by_name.get(user_part)
    if user_part.isdigit():
        uid: int | None = int(user_part)
        name = row[0] if row else None
    else:
        uid = _int(row[2]) if row else (0 if user_part == "root" else None)
        name = user_part
    gid = _int(row[3]) if row else (0 if uid == 0 else None)
    if user_part.isdigit() and row is None:
        gid = 0  # a numeric user with no passwd entry runs with group 0, as Docker does

    group_name = None
    if group_part:
        group_row = next(
            (g for g in groups if (g[2] == group_part if group_part.isdigit() else g[0] == group_part)),
            None,
        )
        gid = int(group_part) if group_part.isdigit() else (_int(group_row[2]) if group_row else None)
        group_name = group_row[0] if group_row else (None if group_part.isdigit() else group_part)
    elif gid is not None:
        group_name = next((g[0] for g in groups if _int(g[2]) == gid), None)
    return UserInfo(name=name, uid=uid, gid=gid, group=group_name, spec=spec)


def kernel_specs(inventory: Inventory) -> tuple[list[KernelSpec], list[KernelSpecError]]:
    """Every kernel.json in the final filesystem, parsed; and those that do not parse."""
    specs: list[KernelSpec] = []
    errors: list[KernelSpecError] = []
    for path, text in sorted(inventory.contents.items()):
        if not path.endswith("/kernel.json"):
            continue
        try:
            doc = json.loads(text)
            if not isinstance(doc, dict):
                raise ValueError("not a JSON object")
        except ValueError as err:
            errors.append(KernelSpecError(path=path, problem=f"not valid JSON: {err}"))
            continue
        argv = doc.get("argv")
        if not isinstance(argv, list) or not argv or not all(isinstance(a, str) for a in argv):
            errors.append(KernelSpecError(path=path, problem="argv is missing or empty"))
            continue
        name = path.rsplit("/", 2)[-2]
        specs.append(
            KernelSpec(
                name=name,
                display_name=str(doc.get("display_name") or name),
                language=str(doc.get("language") or ""),
                argv=argv,
                path=path,
            )
        )
    return specs, errors
