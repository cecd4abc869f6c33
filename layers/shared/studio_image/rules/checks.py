"""Rules on the image as a whole: platform, size, paths, ownership, drivers and start-up."""

from __future__ import annotations

import re
from collections.abc import Iterator

from ..appconfig import MAX_ID
from ..findings import STUDIO_PROFILES, Finding, Profile, Severity
from ..inventory import Node
from ..scan.models import DIR
from ..units import human_bytes, plural
from . import DEFAULT_MAX_IMAGE_BYTES, MAX_LISTED, Context, listed, rule

RESERVED_PATHS = ("/opt/ml", "/opt/.sagemakerinternal")
# "reserved for the log directories of the application ... We recommend that you not use these folders"
# (Studio's custom image specifications for JupyterLab and Code Editor): a recommendation, so a warning.
STUDIO_LOG_PATH = "/var/log/studio"
# Driver files the NVIDIA container runtime mounts from the host; the CUDA toolkit's link stubs and
# its forward-compatibility libraries (`compat/`) are meant to be in images.
# Every name it matches holds "libcuda" or "nvidia" (the rule asks the tree for those names).
NVIDIA_DRIVER = re.compile(r"libcuda\.so\.\d.*|libnvidia-.+\.so.*|nvidia-smi")
NVIDIA_ALLOWED_DIRS = {"stubs", "compat"}
SHELLS = {"sh", "bash", "zsh", "dash", "ash"}


@rule("platform", "the image must be built for linux/amd64")
def platform(ctx: Context) -> Iterator[Finding]:
    inventory = ctx.inventory
    if inventory.platform.os == "linux" and inventory.platform.architecture == "amd64":
        requested = inventory.requested_platform
        if not inventory.platforms_offered and not inventory.platform.matches(requested):
            yield Finding(
                rule="platform",
                severity=Severity.ERROR,
                message=f"the platform asked for, {requested}, is not in the image: it is a single "
                f"{inventory.platform} image, and what was checked is that",
                remediation=f"check it as {inventory.platform}, or push an index that offers {requested}",
            )
        return
    offered = ", ".join(str(p) for p in inventory.platforms_offered) or str(inventory.platform)
    yield Finding(
        rule="platform",
        severity=Severity.ERROR,
        message=f"image is built for {inventory.platform}, not linux/amd64 (offered: {offered}); "
        "Studio would fail with 'exec format error'",
        remediation="build for amd64: docker buildx build --platform linux/amd64 ...",
    )


@rule("image-size", "the uncompressed image must fit the profile's size limit")
def image_size(ctx: Context) -> Iterator[Finding]:
    limit = ctx.policy.max_image_bytes.get(ctx.profile, DEFAULT_MAX_IMAGE_BYTES[ctx.profile])
    size = ctx.inventory.sizes.uncompressed
    if size > limit:
        yield Finding(
            rule="image-size",
            severity=Severity.ERROR,
            message=f"image is {human_bytes(size)} uncompressed, over the {ctx.profile} limit "
            f"of {human_bytes(limit)}",
            remediation="remove build caches and unused packages, or split the image; "
            "see the layers table for the largest layers",
        )


def reserved_roots(ctx: Context) -> list[str]:
    roots = list(RESERVED_PATHS)
    if ctx.profile in (Profile.JUPYTERLAB, Profile.CODE_EDITOR):
        roots.append(STUDIO_LOG_PATH)
    return roots + ctx.policy.reserved_paths


@rule("reserved-path", "nothing may be stored under paths SageMaker reserves")
def reserved_path(ctx: Context) -> Iterator[Finding]:
    for root in reserved_roots(ctx):
        nodes = sorted(ctx.inventory.files.under(root), key=lambda n: n.entry.path)
        content = [n for n in nodes if n.entry.kind != DIR]
        if not content:
            if nodes:
                yield Finding(
                    rule="reserved-path",
                    severity=Severity.WARNING,
                    message=f"{root} exists as an empty directory; SageMaker mounts over it",
                    remediation=f"remove it: RUN rm -rf {root}",
                    path=root,
                    layer=nodes[0].layer,
                )
            continue
        yield from _reserved_content(root, content)


def _reserved_content(root: str, content: list[Node]) -> Iterator[Finding]:
    severity = Severity.WARNING if root == STUDIO_LOG_PATH else Severity.ERROR
    yield from listed(
        content,
        lambda node: Finding(
            rule="reserved-path",
            severity=severity,
            message=f"{node.entry.kind} {node.entry.path} is under the reserved {root}; "
            "it will not be visible at runtime",
            remediation=f"do not write under {root}: install it elsewhere (e.g. /opt/app); if a base image "
            f"put it there, remove it in a later layer (RUN rm -rf {root}), knowing its bytes still ship in "
            "the base image's layer",
            path=node.entry.path,
            layer=node.layer,
        ),
        lambda more: Finding(
            rule="reserved-path",
            severity=severity,
            message=f"and {more} more entries under {root}",
            remediation=f"move everything out of {root}",
            path=root,
        ),
    )


@rule("layer-anomaly", "layers must be well-formed and readable")
def layer_anomaly(ctx: Context) -> Iterator[Finding]:
    for anomaly in ctx.inventory.anomalies:
        escapes = anomaly.kind == "path-escapes-root"
        yield Finding(
            rule="layer-anomaly",
            severity=Severity.ERROR if escapes else Severity.WARNING,
            message=f"layer {anomaly.layer + 1}: {anomaly.kind}: "
            + " ".join(part for part in (anomaly.path, anomaly.detail) if part),
            remediation="rebuild the layer with a standard tool (docker, buildah, umoci)"
            if escapes
            else "check the tool that wrote this layer",
            path=anomaly.path or None,
            layer=anomaly.layer,
        )
    for layer in ctx.inventory.layers:
        if layer.problem:
            yield Finding(
                rule="layer-anomaly",
                severity=Severity.ERROR,
                message=f"layer {layer.index + 1} ({layer.digest[:19]}) could not be read: {layer.problem}",
                remediation="rebuild and push the image; split a very large layer into smaller ones",
                layer=layer.index,
            )
        elif layer.foreign:
            yield Finding(
                rule="layer-anomaly",
                severity=Severity.WARNING,
                message=f"layer {layer.index + 1} is non-distributable ({layer.media_type}): "
                "it was not checked",
                remediation="use a base image whose layers are all distributable",
                layer=layer.index,
            )


@rule("mount-path-shadowed", "nothing should be baked into the home mount path", STUDIO_PROFILES)
def mount_path_shadowed(ctx: Context) -> Iterator[Finding]:
    mount = ctx.facts.mount_path
    hidden = ctx.facts.files_under(mount)
    if hidden:
        named = ", ".join(hidden[:MAX_LISTED])
        if len(hidden) > MAX_LISTED:
            named += f" and {len(hidden) - MAX_LISTED} more"
        yield Finding(
            rule="mount-path-shadowed",
            severity=Severity.WARNING,
            message=f"{plural(len(hidden), 'file')} under {mount} will be hidden by the user's home volume: "
            f"{named}",
            remediation=f"install them outside {mount} (e.g. /opt or /usr/local), or copy them into the "
            "home directory from a lifecycle configuration",
            path=mount,
            layer=ctx.inventory.files.nodes[hidden[0]].layer,
        )


@rule("owner-id-range", f"no entry in any layer may be owned by a UID or GID above {MAX_ID}")
def owner_id_range(ctx: Context) -> Iterator[Finding]:
    offenders = [
        (scan.entries[row], index)
        for index, scan in enumerate(ctx.inventory.layer_scans)
        if scan is not None
        for row in scan.entries.owned_above(MAX_ID)
    ]
    yield from listed(
        offenders,
        lambda item: Finding(
            rule="owner-id-range",
            severity=Severity.ERROR,
            message=f"{item[0].path} in layer {item[1] + 1} is owned by {item[0].uid}:{item[0].gid}; "
            f"Studio cannot map IDs above {MAX_ID}",
            remediation=f"chown it to an ID up to {MAX_ID} in the layer that writes it "
            "(files from archives keep their owner: use --no-same-owner or COPY --chown)",
            path=item[0].path,
            layer=item[1],
        ),
        lambda more: Finding(
            rule="owner-id-range",
            severity=Severity.ERROR,
            message=f"and {more} more entries owned by IDs above {MAX_ID}",
            remediation=f"find them with: find / -xdev \\( -uid +{MAX_ID} -o -gid +{MAX_ID} \\)",
        ),
    )


def _is_driver_file(path: str) -> bool:
    *dirs, name = path.split("/")
    return bool(NVIDIA_DRIVER.fullmatch(name)) and not NVIDIA_ALLOWED_DIRS.intersection(dirs)


@rule("nvidia-driver", "NVIDIA driver files must not be in the image; only the CUDA toolkit belongs there")
def nvidia_driver(ctx: Context) -> Iterator[Finding]:
    files = ctx.inventory.files
    drivers = sorted(
        (path, files.nodes[path].layer)
        for path, kind in files.nodes.kinds("libcuda", "nvidia")
        if kind != DIR and _is_driver_file(path)
    )
    yield from listed(
        drivers,
        lambda item: Finding(
            rule="nvidia-driver",
            severity=Severity.ERROR,
            message=f"{item[0]} is part of the NVIDIA driver, which the host provides on GPU instances",
            remediation="install only the CUDA toolkit (e.g. FROM nvidia/cuda:*-runtime), not the driver",
            path=item[0],
            layer=item[1],
        ),
        lambda more: Finding(
            rule="nvidia-driver",
            severity=Severity.ERROR,
            message=f"and {more} more NVIDIA driver files",
            remediation="remove the driver packages (nvidia-driver-*, libnvidia-*)",
        ),
    )


@rule(
    "entrypoint-ignored",
    "ENTRYPOINT and CMD are overridden by Studio",
    frozenset({Profile.KERNEL_GATEWAY, Profile.RSTUDIO}),
)
def entrypoint_ignored(ctx: Context) -> Iterator[Finding]:
    config = ctx.inventory.config.config
    app = "KernelGateway" if ctx.profile == Profile.KERNEL_GATEWAY else "RSession"
    if config.entrypoint:
        what, value = "ENTRYPOINT", config.entrypoint
    elif config.cmd and not (len(config.cmd) == 1 and config.cmd[0].rpartition("/")[2] in SHELLS):
        what, value = "CMD", config.cmd  # a bare shell, as base images set, does nothing to lose
    else:
        return
    yield Finding(
        rule="entrypoint-ignored",
        severity=Severity.WARNING,
        message=f"{what} {value} will not run: Studio starts the image as a {app} app",
        remediation="do that setup in a RUN step at build time, or in a Studio lifecycle configuration",
    )


@rule("required-path", "every path the policy requires must exist in the image")
def required_path(ctx: Context) -> Iterator[Finding]:
    for path in ctx.policy.required_paths:
        if not ctx.facts.exists(path):
            yield Finding(
                rule="required-path",
                severity=Severity.ERROR,
                message=f"{path} is required by the policy but is not in the image",
                remediation=f"add {path} to the image",
                path=path,
            )
