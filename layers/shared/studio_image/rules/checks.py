"""The built-in rules."""

from __future__ import annotations

from collections.abc import Iterator

from ..findings import Finding, Profile, Severity
from ..scan.models import DIR
from . import DEFAULT_MAX_IMAGE_BYTES, Context, rule

RESERVED_PATHS = ("/opt/ml", "/opt/.sagemakerinternal")
STUDIO_LOG_PATH = "/var/log/studio"  # reserved by the JupyterLab and Code Editor apps
MAX_LISTED = 5  # offenders named one by one before the rest are counted


def human_bytes(size: int) -> str:
    value = float(size)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    raise AssertionError("unreachable")


@rule("platform", "the image must be built for linux/amd64")
def platform(ctx: Context) -> Iterator[Finding]:
    inventory = ctx.inventory
    if inventory.platform.os == "linux" and inventory.platform.architecture == "amd64":
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
        for node in content[:MAX_LISTED]:
            entry = node.entry
            yield Finding(
                rule="reserved-path",
                severity=Severity.ERROR,
                message=f"{entry.kind} {entry.path} is under the reserved {root}; "
                "it will not be visible at runtime",
                remediation=f"move it out of {root} and delete it in the same layer that writes it",
                path=entry.path,
                layer=node.layer,
            )
        if len(content) > MAX_LISTED:
            yield Finding(
                rule="reserved-path",
                severity=Severity.ERROR,
                message=f"and {len(content) - MAX_LISTED} more entries under {root}",
                remediation=f"move everything out of {root}",
                path=root,
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
        if layer.foreign:
            yield Finding(
                rule="layer-anomaly",
                severity=Severity.WARNING,
                message=f"layer {layer.index + 1} is non-distributable ({layer.media_type}): "
                "it was not checked",
                remediation="use a base image whose layers are all distributable",
                layer=layer.index,
            )
