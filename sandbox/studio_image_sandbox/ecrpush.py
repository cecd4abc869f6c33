"""Push an image to ECR through ECR's own API, as `docker push` does over the registry protocol:
each blob through InitiateLayerUpload / UploadLayerPart / CompleteLayerUpload, then a manifest
through PutImage. Any image `studio-image check` reads can be pushed; blobs stream in parts, so
memory stays at one part. Works against AWS and against the sandbox (whose registry API takes
`docker push` itself)."""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from studio_image.errors import DigestMismatch
from studio_image.oci import (
    DOCKER_CONFIG,
    DOCKER_MANIFEST,
    INDEX_TYPES,
    OCI_MANIFEST,
    Descriptor,
    Index,
    Manifest,
    Platform,
    parse_json,
    parse_model,
    sha256_digest,
)
from studio_image.sources import open_source
from studio_image.sources.base import ImageSource, ManifestSource

PART_SIZE = 10 * 1024 * 1024  # ECR's layer parts are at least 5 MiB, except the last
# ECR's constraints, as botocore's model states them (botocore/data/ecr/2015-09-21/service-2.json,
# shapes RepositoryName and ImageTag); a pattern there must match the whole value.
REPOSITORY_NAME = re.compile(r"[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*")
REPOSITORY_NAME_LENGTH = range(2, 256 + 1)
IMAGE_TAG_LENGTH = range(1, 300 + 1)


def check_destination(repository: str, tag: str | None) -> None:
    """Raise ValueError, before any call, for a repository name or tag that ECR would refuse."""
    if len(repository) not in REPOSITORY_NAME_LENGTH or not REPOSITORY_NAME.fullmatch(repository):
        raise ValueError(
            f"{repository!r} is not an ECR repository name: 2 to 256 lower-case letters, digits and "
            "separators (. _ __ -), in components joined by /"
        )
    if tag is not None and len(tag) not in IMAGE_TAG_LENGTH:
        raise ValueError(f"an ECR image tag has 1 to 300 characters, not {len(tag)}")


@dataclass(frozen=True)
class PushedImage:
    repository: str
    tag: str | None
    digest: str  # of the manifest (or index) pushed, as ECR computed it
    media_type: str
    layers: int  # of the image (of its largest platform, for an index)
    size: int  # compressed bytes of configs and layers
    uploaded: int  # bytes actually sent: blobs the repository already had are skipped


def _read_part(stream: Any) -> bytes:
    """PART_SIZE bytes, fewer only at the end: streams may return short reads, ECR wants full parts."""
    chunks, wanted = [], PART_SIZE
    while wanted and (chunk := stream.read(wanted)):
        chunks.append(chunk)
        wanted -= len(chunk)
    return b"".join(chunks)


def _upload(ecr: Any, repository: str, source: ImageSource, blob: Descriptor) -> int:
    available = ecr.batch_check_layer_availability(repositoryName=repository, layerDigests=[blob.digest])
    if any(layer["layerAvailability"] == "AVAILABLE" for layer in available.get("layers", [])):
        return 0
    upload_id = ecr.initiate_layer_upload(repositoryName=repository)["uploadId"]
    stream = source.open_blob(blob)
    sent = 0
    digest = hashlib.sha256()
    try:
        part = _read_part(stream)
        while True:  # an empty blob is still one (empty) part
            digest.update(part)
            ecr.upload_layer_part(
                repositoryName=repository,
                uploadId=upload_id,
                partFirstByte=sent,
                partLastByte=sent + len(part) - 1,
                layerPartBlob=part,
            )
            sent += len(part)
            part = _read_part(stream)
            if not part:
                break
    finally:
        close = getattr(stream, "close", None)
        if close:
            close()
    # ECR checks the digest too; checking here names the source as the culprit.
    if f"sha256:{digest.hexdigest()}" != blob.digest:
        raise DigestMismatch(f"{source.reference}: blob {blob.digest} does not hash to its digest")
    ecr.complete_layer_upload(repositoryName=repository, uploadId=upload_id, layerDigests=[blob.digest])
    return sent


def _descriptor(blob: Descriptor) -> dict[str, Any]:
    return {"mediaType": blob.media_type, "digest": blob.digest, "size": blob.size}


@dataclass
class _Push:
    ecr: Any
    repository: str
    source: ImageSource
    layers: int = 0
    size: int = 0
    uploaded: int = 0

    def blobs(self, blobs: list[Descriptor]) -> None:
        self.uploaded += sum(_upload(self.ecr, self.repository, self.source, blob) for blob in blobs)
        self.size += sum(blob.size for blob in blobs)

    def manifest(self, data: bytes, media_type: str, tag: str | None) -> str:
        """PutImage with `data` as it is, after what it references; its digest."""
        doc = parse_json(data, "manifest")
        media_type = doc.get("mediaType") or media_type
        if media_type in INDEX_TYPES or ("manifests" in doc and "layers" not in doc):
            for child in parse_model(Index, doc, "image index").manifests:  # every platform
                self.manifest(self.source.manifest_by_digest(child), child.media_type, None)  # type: ignore[attr-defined]
        else:
            manifest = parse_model(Manifest, doc, "manifest")
            self.blobs([manifest.config, *manifest.layers])
            self.layers = max(self.layers, len(manifest.layers))
        put = {"imageTag": tag} if tag else {}
        pushed = self.ecr.put_image(
            repositoryName=self.repository,
            imageManifest=data.decode(),
            imageManifestMediaType=media_type,
            imageDigest=sha256_digest(data),
            **put,
        )["image"]
        return str(pushed["imageId"]["imageDigest"])


def push_image(ecr: Any, reference: str, repository: str, tag: str | None) -> PushedImage:
    """Push the image `reference` names to `repository`, tagged `tag` (None: by digest only),
    creating the repository if needed.

    Manifests are copied byte for byte (an index with every platform's manifest), so digests stay
    the image's own. A docker-archive has no manifest to copy: one is written from its config and
    layers, as `docker push` does."""
    with contextlib.suppress(ecr.exceptions.RepositoryAlreadyExistsException):
        ecr.create_repository(repositoryName=repository)
    with open_source(reference) as source:
        push = _Push(ecr, repository, source)
        if isinstance(source, ManifestSource):
            data, media_type = source.top_manifest()
            media_type = parse_json(data, "manifest").get("mediaType") or media_type or OCI_MANIFEST
        else:
            image = source.resolve(Platform(os="linux", architecture="amd64"))
            media_type = (
                DOCKER_MANIFEST if image.manifest.config.media_type == DOCKER_CONFIG else OCI_MANIFEST
            )
            manifest = {
                "schemaVersion": 2,
                "mediaType": media_type,
                "config": _descriptor(image.manifest.config),
                "layers": [_descriptor(layer) for layer in image.manifest.layers],
            }
            data = json.dumps(manifest, indent=2).encode()
        digest = push.manifest(data, media_type, tag)
    return PushedImage(
        repository=repository,
        tag=tag,
        digest=digest,
        media_type=media_type,
        layers=push.layers,
        size=push.size,
        uploaded=push.uploaded,
    )
