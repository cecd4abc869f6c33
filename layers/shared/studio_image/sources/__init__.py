"""Image references, in skopeo's transport names, and the source each one opens."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass

from ..errors import ReferenceInvalid
from .base import ImageSource, ResolvedImage

__all__ = ["ImageSource", "RegistryReference", "ResolvedImage", "SourceOptions", "open_source"]

DOCKER_HUB = "registry-1.docker.io"
ECR_HOST = re.compile(r"^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$")
REPOSITORY = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$")
TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
DIGEST = re.compile(r"^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$")
# The distribution reference grammar's domain: dot-separated components or a bracketed IPv6
# address, then an optional port; and its limit on a whole name, domain included.
DOMAIN_COMPONENT = r"[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?"
DOMAIN = re.compile(rf"^(?:{DOMAIN_COMPONENT}(?:\.{DOMAIN_COMPONENT})*|\[[0-9a-fA-F:.]+\])(?::[0-9]+)?$")
NAME_MAX = 255


@dataclass(frozen=True)
class SourceOptions:
    allow_http: bool = False  # plain HTTP to registries other than loopback ones
    username: str | None = None
    password: str | None = None


@dataclass(frozen=True)
class RegistryReference:
    host: str  # with the port, if any
    repository: str
    tag: str | None = None
    digest: str | None = None

    @property
    def reference(self) -> str:
        """What to ask the manifests endpoint for: the digest if given, else the tag."""
        return self.digest or self.tag or "latest"

    def __str__(self) -> str:
        suffix = f"@{self.digest}" if self.digest else f":{self.tag or 'latest'}"
        return f"{self.host}/{self.repository}{suffix}"


def split_name(text: str, what: str) -> tuple[str, str | None, str | None]:
    """`NAME[:TAG|@DIGEST]` -> (name, tag, digest), checked against the distribution spec."""
    name, _, digest = text.partition("@")
    tag = None
    slash = name.rfind("/")
    colon = name.rfind(":")
    if colon > slash:
        name, tag = name[:colon], name[colon + 1 :]
    if not REPOSITORY.match(name):
        raise ReferenceInvalid(f"{what}: {name!r} is not a valid repository name")
    if tag is not None and not TAG.match(tag):
        raise ReferenceInvalid(f"{what}: {tag!r} is not a valid tag")
    if digest and not DIGEST.match(digest):
        raise ReferenceInvalid(f"{what}: {digest!r} is not a valid digest")
    return name, tag, digest or None


def parse_registry_reference(text: str, what: str | None = None) -> RegistryReference:
    """`HOST[:PORT]/REPO[:TAG][@DIGEST]`; with no registry host, Docker Hub as docker does."""
    what = what or f"docker://{text}"
    first, slash, rest = text.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost" or first.startswith("[")):
        host, remainder, written_host = first, rest, f"{first}/"
        if not DOMAIN.match(host):
            raise ReferenceInvalid(f"{what}: {host!r} is not a valid registry host")
    else:
        host, remainder, written_host = DOCKER_HUB, text if slash else f"library/{text}", ""
    name, tag, digest = split_name(remainder, what)
    if len(written_host + name) > NAME_MAX:
        raise ReferenceInvalid(f"{what}: a name is at most {NAME_MAX} characters, registry included")
    return RegistryReference(host, name, tag, digest)


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
