"""Push an image to ECR through ECR's own API, as `docker push` does over the registry protocol:
each blob through InitiateLayerUpload / UploadLayerPart / CompleteLayerUpload, then a manifest
through PutImage. Any image `studio-image check` reads can be pushed; blobs stream in parts, so
memory stays at one part. Works against AWS and against the sandbox."""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from studio_image.errors import DigestMismatch
from studio_image.oci import DOCKER_CONFIG, DOCKER_MANIFEST, OCI_MANIFEST, Descriptor, Platform
from studio_image.sources import open_source
from studio_image.sources.base import ImageSource

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
    digest: str  # of the manifest, as ECR computed it
    media_type: str
    layers: int
    size: int  # compressed bytes of config and layers
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


def push_image(
    ecr: Any,
    reference: str,
    repository: str,
    tag: str | None,
    platform: Platform | None = None,
) -> PushedImage:
    """Push the image `reference` names (for `platform`, from an index) to `repository`, tagged
    `tag` (None: by digest only), creating the repository if needed.

    The manifest is written afresh from the source's config and layers (a docker-archive has none
    to copy), so its digest can differ from the source's; the image content is the same."""
    with contextlib.suppress(ecr.exceptions.RepositoryAlreadyExistsException):
        ecr.create_repository(repositoryName=repository)
    with open_source(reference) as source:
        image = source.resolve(platform or Platform(os="linux", architecture="amd64"))
        blobs = [image.manifest.config, *image.manifest.layers]
        uploaded = sum(_upload(ecr, repository, source, blob) for blob in blobs)
    media_type = DOCKER_MANIFEST if image.manifest.config.media_type == DOCKER_CONFIG else OCI_MANIFEST
    manifest = {
        "schemaVersion": 2,
        "mediaType": media_type,
        "config": _descriptor(image.manifest.config),
        "layers": [_descriptor(layer) for layer in image.manifest.layers],
    }
    put = {"imageTag": tag} if tag else {}
    pushed = ecr.put_image(
        repositoryName=repository,
        imageManifest=json.dumps(manifest, indent=2),
        imageManifestMediaType=media_type,
        **put,
    )["image"]
    return PushedImage(
        repository=repository,
        tag=tag,
        digest=str(pushed["imageId"]["imageDigest"]),
        media_type=media_type,
        layers=len(image.manifest.layers),
        size=sum(blob.size for blob in blobs),
        uploaded=uploaded,
    )
