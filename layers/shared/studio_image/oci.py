"""OCI and Docker image format models: descriptors, manifests, indexes and the image config."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .errors import ManifestInvalid

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"

INDEX_TYPES = (OCI_INDEX, DOCKER_LIST)
MANIFEST_TYPES = (OCI_MANIFEST, DOCKER_MANIFEST)
IMAGE_CONFIG_TYPES = (OCI_CONFIG, DOCKER_CONFIG)
ACCEPTED_MANIFEST_TYPES = INDEX_TYPES + MANIFEST_TYPES

# Layer media types, by the compression of their bytes. BuildKit writes the Docker zstd type.
LAYER_COMPRESSION = {
    "application/vnd.oci.image.layer.v1.tar": "none",
    "application/vnd.oci.image.layer.v1.tar+gzip": "gzip",
    "application/vnd.oci.image.layer.v1.tar+zstd": "zstd",
    "application/vnd.docker.image.rootfs.diff.tar": "none",
    "application/vnd.docker.image.rootfs.diff.tar.gzip": "gzip",
    "application/vnd.docker.image.rootfs.diff.tar.zstd": "zstd",
}
FOREIGN_LAYER_TYPES = frozenset(
    {
        "application/vnd.oci.image.layer.nondistributable.v1.tar",
        "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
        "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
        "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
    }
)

DIGEST_PATTERN = re.compile(r"^(sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$")


def sha256_digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def check_digest(digest: str) -> str:
    if not DIGEST_PATTERN.match(digest):
        raise ManifestInvalid(f"not a supported digest: {digest!r}")
    return digest


class _Model(BaseModel):
    # Registries and tools add fields of their own; we keep what we use and ignore the rest.
    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True)


class Platform(_Model):
    os: str = "linux"
    architecture: str = "amd64"
    variant: str | None = None

    @classmethod
    def parse(cls, text: str) -> Platform:
        parts = text.split("/")
        if len(parts) not in (2, 3) or not all(parts):
            raise ValueError(f"platform must be OS/ARCH[/VARIANT], got {text!r}")
        return cls(os=parts[0], architecture=parts[1], variant=parts[2] if len(parts) == 3 else None)

    def __str__(self) -> str:
        return "/".join(p for p in (self.os, self.architecture, self.variant) if p)

    def matches(self, other: Platform) -> bool:
        return (
            self.os == other.os
            and self.architecture == other.architecture
            and (other.variant is None or self.variant == other.variant)
        )


class Descriptor(_Model):
    media_type: str = Field(alias="mediaType")
    digest: str
    size: int = Field(ge=0)
    platform: Platform | None = None
    annotations: dict[str, str] = Field(default_factory=dict)

    @field_validator("digest")
    @classmethod
    def _digest_form(cls, value: str) -> str:
        return check_digest(value)


class Index(_Model):
    schema_version: int = Field(alias="schemaVersion")
    media_type: str | None = Field(default=None, alias="mediaType")
    manifests: list[Descriptor]


class Manifest(_Model):
    schema_version: int = Field(alias="schemaVersion")
    media_type: str | None = Field(default=None, alias="mediaType")
    config: Descriptor
    layers: list[Descriptor]  # at most ScanLimits.max_layers, checked where sources resolve


class ContainerConfig(_Model):
    user: str | None = Field(default=None, alias="User")
    env: list[str] | None = Field(default=None, alias="Env")
    entrypoint: list[str] | None = Field(default=None, alias="Entrypoint")
    cmd: list[str] | None = Field(default=None, alias="Cmd")
    working_dir: str | None = Field(default=None, alias="WorkingDir")
    labels: dict[str, str] | None = Field(default=None, alias="Labels")
    exposed_ports: dict[str, Any] | None = Field(default=None, alias="ExposedPorts")

    def env_map(self) -> dict[str, str]:
        pairs = (item.partition("=") for item in self.env or [])
        return {key: value for key, _, value in pairs}


class RootFS(_Model):
    type: str = "layers"
    diff_ids: list[str] = Field(default_factory=list)


class ImageConfig(_Model):
    architecture: str = ""
    os: str = ""
    variant: str | None = None
    config: ContainerConfig = Field(default_factory=ContainerConfig)
    rootfs: RootFS = Field(default_factory=RootFS)

    @property
    def platform(self) -> Platform:
        return Platform(os=self.os, architecture=self.architecture, variant=self.variant)


def parse_json(data: bytes, what: str) -> dict[str, Any]:
    try:
        doc = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ManifestInvalid(f"{what} is not JSON: {err}") from err
    if not isinstance(doc, dict):
        raise ManifestInvalid(f"{what} is not a JSON object")
    return doc


M = TypeVar("M", bound=BaseModel)


def parse_model(model: type[M], doc: dict[str, Any], what: str) -> M:
    try:
        return model.model_validate(doc)
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(root)"
        raise ManifestInvalid(f"{what} is invalid at {where}: {first['msg']}") from err
