"""Registry references (`HOST[:PORT]/REPO[:TAG|@DIGEST]`), checked against the OCI distribution
spec's grammar for names, tags and digests."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import ReferenceInvalid

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
