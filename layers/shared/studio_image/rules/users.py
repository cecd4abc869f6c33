"""Rules on the user the image runs as."""

from __future__ import annotations

from collections.abc import Iterator

from ..facts import group_entries, passwd_entries
from ..findings import STUDIO_PROFILES, Finding, Profile, Severity
from . import Context, rule

# The UID/GID pairs Studio maps for each app (CreateAppImageConfig's DefaultUid/DefaultGid).
SUPPORTED_IDS = {
    Profile.KERNEL_GATEWAY: {(1000, 100), (0, 0)},
    Profile.RSTUDIO: {(1000, 100), (0, 0)},
    Profile.JUPYTERLAB: {(1000, 100)},
    Profile.CODE_EDITOR: {(1000, 100)},
}
JOVYAN = ("jovyan", 1000, "users", 100)  # the docker-stacks user Gateway Provisioners images run as


@rule("user-unknown", "the config's User must name a user and group the image defines")
def user_unknown(ctx: Context) -> Iterator[Finding]:
    user = ctx.facts.user
    user_part, _, group_part = user.spec.partition(":")
    if user.uid is None:
        yield Finding(
            rule="user-unknown",
            severity=Severity.ERROR,
            message=f"User {user_part!r} is not in the image's /etc/passwd; the container cannot start",
            remediation=f"create it (useradd {user_part}) or set USER to a numeric UID",
            path="/etc/passwd",
        )
    if group_part and user.gid is None:
        yield Finding(
            rule="user-unknown",
            severity=Severity.ERROR,
            message=f"group {group_part!r} of User {user.spec!r} is not in the image's /etc/group",
            remediation=f"create it (groupadd {group_part}) or use a numeric GID",
            path="/etc/group",
        )


@rule("user-ids", "the image's user must have a UID/GID pair Studio supports", STUDIO_PROFILES)
def user_ids(ctx: Context) -> Iterator[Finding]:
    user = ctx.facts.user
    if user.uid is None or user.gid is None:
        return  # user-unknown reports it
    supported = SUPPORTED_IDS[ctx.profile]
    if (user.uid, user.gid) in supported:
        return
    pairs = " or ".join(f"{uid}/{gid}" for uid, gid in sorted(supported, reverse=True))
    yield Finding(
        rule="user-ids",
        severity=Severity.ERROR,
        message=f"the image runs as {user.name or user.uid} with UID/GID {user.uid}/{user.gid}; "
        f"{ctx.profile} apps support {pairs}",
        remediation="run as a user with UID 1000 and GID 100, e.g. useradd -u 1000 -g 100 sagemaker-user; "
        "USER sagemaker-user",
        path="/etc/passwd",
    )


@rule(
    "jovyan-user",
    "Gateway Provisioners kernel images run as jovyan (1000) in group users (100), not as root",
    frozenset({Profile.GATEWAY_PROVISIONERS}),
)
def jovyan_user(ctx: Context) -> Iterator[Finding]:
    name, uid, group, gid = JOVYAN
    passwd = {row[0]: row for row in passwd_entries(ctx.inventory)}
    groups = {row[0]: row for row in group_entries(ctx.inventory)}
    row, group_row = passwd.get(name), groups.get(group)
    if row is None or row[2:4] != [str(uid), str(gid)] or group_row is None or group_row[2] != str(gid):
        found = ":".join(row[:4]) if row else "no such user"
        yield Finding(
            rule="jovyan-user",
            severity=Severity.ERROR,
            message=f"no user {name} with UID {uid} in group {group} (GID {gid}): {found}",
            remediation="build FROM jupyter/docker-stacks-foundation, or: groupadd -g 100 users; "
            "useradd -m -u 1000 -g 100 jovyan",
            path="/etc/passwd",
        )
    if ctx.facts.user.uid == 0:
        yield Finding(
            rule="jovyan-user",
            severity=Severity.ERROR,
            message="the image runs as root; Gateway Provisioners kernel images run as jovyan",
            remediation="end the Dockerfile with USER $NB_UID (or USER jovyan)",
        )
