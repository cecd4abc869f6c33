"""Image references, in skopeo's transport names, and the source each one opens. (A registry
reference's own syntax is `reference`.)"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

from ..errors import ReferenceInvalid
from .base import ImageSource, ResolvedImage
from .reference import parse_registry_reference

__all__ = ["ImageSource", "ResolvedImage", "SourceOptions", "open_source"]


@dataclass(frozen=True)
class SourceOptions:
    allow_http: bool = False  # plain HTTP to registries other than loopback ones
    username: str | None = None
    password: str | None = None


def _path_and_tag(value: str) -> tuple[str, str | None]:
    """skopeo's `PATH[:TAG]`: a path that exists as written wins over a split at the last colon."""
    if os.path.exists(value) or ":" not in value:
        return value, None
    path, _, tag = value.rpartition(":")
    return path, tag or None


def open_source(reference: str, options: SourceOptions | None = None) -> ImageSource:
    options = options or SourceOptions()
    transport, sep, value = reference.partition(":")
    if not sep or not value:
        raise ReferenceInvalid(
            f"{reference!r}: expected TRANSPORT:REF, one of docker-archive:PATH, oci:DIR[:TAG], "
            "oci-archive:PATH[:TAG], docker://HOST/REPO[:TAG], ecr://REPO[:TAG]"
        )
    if transport in ("docker-archive", "oci", "oci-archive"):
        from .archive import DockerArchiveSource, OciArchiveSource, OciLayoutSource

        path, tag = _path_and_tag(value)
        kinds: dict[str, Callable[[str, str | None], ImageSource]] = {
            "docker-archive": DockerArchiveSource,
            "oci": OciLayoutSource,
            "oci-archive": OciArchiveSource,
        }
        return kinds[transport](path, tag)
    if transport == "docker" and value.startswith("//"):
        from .registry import RegistrySource

        return RegistrySource(parse_registry_reference(value[2:]), options)
    if transport == "ecr" and value.startswith("//"):
        from .ecr import EcrSource

        return EcrSource.from_reference(value[2:])
    raise ReferenceInvalid(f"{reference!r}: unknown transport {transport!r}")
