"""What every image source provides, and the resolution shared by manifest-serving sources."""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod

from pydantic import BaseModel, ConfigDict, Field

from ..errors import BlobNotFound, DigestMismatch, ManifestInvalid, UnsupportedMediaType
from ..oci import (
    IMAGE_CONFIG_TYPES,
    INDEX_TYPES,
    MANIFEST_TYPES,
    Descriptor,
    ImageConfig,
    Index,
    Manifest,
    Platform,
    parse_json,
    parse_model,
    sha256_digest,
)
from ..scan.streams import Readable

MAX_MANIFEST_BYTES = 4 << 20  # the OCI distribution spec's recommended manifest limit


class ResolvedImage(BaseModel):
    """An image as a source resolves it; the pipeline stores it as it is (JSON, by alias)."""

    model_config = ConfigDict(frozen=True)

    digest: str | None  # of what the reference names (index or manifest); None if it has none
    manifest_digest: str | None
    manifest: Manifest
    config: ImageConfig
    platforms_offered: list[Platform] = Field(default_factory=list)


class ImageSource(ABC):
    """A place an image is read from. Blobs open as byte streams; nothing is written anywhere."""

    reference: str

    @abstractmethod
    def resolve(self, platform: Platform) -> ResolvedImage: ...

    @abstractmethod
    def open_blob(self, descriptor: Descriptor) -> Readable:
        """The blob's bytes as stored. The caller verifies the digest while reading."""

    def read_blob(self, descriptor: Descriptor, limit: int = MAX_MANIFEST_BYTES) -> bytes:
        """A small blob (config, manifest) read whole and verified."""
        if descriptor.size > limit:
            raise ManifestInvalid(f"blob {descriptor.digest} is {descriptor.size} bytes, over {limit}")
        stream = self.open_blob(descriptor)
        try:
            data = stream.read(limit + 1)
        finally:
            close = getattr(stream, "close", None)
            if close:
                close()
        verify_bytes(data, descriptor.digest, f"blob {descriptor.digest}")
        return data

    def close(self) -> None:
        return None

    def __enter__(self) -> ImageSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def verify_bytes(data: bytes, digest: str, what: str) -> None:
    algorithm = digest.partition(":")[0]
    actual = f"{algorithm}:{hashlib.new(algorithm, data).hexdigest()}"
    if actual != digest:
        raise DigestMismatch(f"{what}: content hashes to {actual}, not {digest}")


def load_config(source: ImageSource, manifest: Manifest) -> ImageConfig:
    if manifest.config.media_type not in IMAGE_CONFIG_TYPES:
        raise UnsupportedMediaType(
            f"config media type {manifest.config.media_type} is not an image config "
            "(an artifact, not a container image?)"
        )
    data = source.read_blob(manifest.config)
    return parse_model(ImageConfig, parse_json(data, "image config"), "image config")


class ManifestSource(ImageSource):
    """A source that serves manifests by tag or digest: OCI layouts, registries, ECR."""

    @abstractmethod
    def top_manifest(self) -> tuple[bytes, str | None]:
        """The manifest the reference names (checked against its digest, if the reference has
        one): its bytes and its media type, if the source says."""

    @abstractmethod
    def manifest_by_digest(self, descriptor: Descriptor) -> bytes: ...

    def resolve(self, platform: Platform) -> ResolvedImage:
        data, media_type = self.top_manifest()
        digest = sha256_digest(data)
        doc = parse_json(data, "manifest")
        media_type = doc.get("mediaType") or media_type
        if doc.get("schemaVersion") == 1:
            raise UnsupportedMediaType("Docker schema 1 manifests are not supported; push again")
        offered: list[Platform] = []
        manifest_digest = digest
        if media_type in INDEX_TYPES or ("manifests" in doc and "layers" not in doc):
            index = parse_model(Index, doc, "image index")
            chosen, offered = choose_platform(index, platform)
            data = self.manifest_by_digest(chosen)
            verify_bytes(data, chosen.digest, f"manifest {chosen.digest}")
            manifest_digest = chosen.digest
            doc = parse_json(data, "manifest")
        elif media_type and media_type not in MANIFEST_TYPES:
            raise UnsupportedMediaType(f"{media_type} is not an image manifest or index")
        manifest = parse_model(Manifest, doc, "manifest")
        return ResolvedImage(
            digest=digest,
            manifest_digest=manifest_digest,
            manifest=manifest,
            config=load_config(self, manifest),
            platforms_offered=offered,
        )


def choose_platform(index: Index, platform: Platform) -> tuple[Descriptor, list[Platform]]:
    """The requested platform's manifest; else the first image, so a wrong-platform image is
    still inspected and the platform rule can say what it offers. Unknown entries are skipped."""
    images = [d for d in index.manifests if d.media_type in MANIFEST_TYPES]
    # BuildKit's attestation manifests claim the platform unknown/unknown.
    images = [d for d in images if not d.platform or d.platform.os != "unknown"] or images
    if not images:
        raise BlobNotFound("the image index lists no image manifest")
    offered = [d.platform for d in images if d.platform]
    for descriptor in images:
        if descriptor.platform and descriptor.platform.matches(platform):
            return descriptor, offered
    return images[0], offered
