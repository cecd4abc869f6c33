"""Push an OCI layout's image to ECR through ECR's own API (as `docker push` does over the registry
protocol): each blob through InitiateLayerUpload / UploadLayerPart / CompleteLayerUpload, then the
manifest bytes through PutImage. Works against AWS and against the moto_studio sandbox."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

PART_SIZE = 10 * 1024 * 1024


def _blob(layout: Path, digest: str) -> bytes:
    algorithm, _, hex_digest = digest.partition(":")
    return (layout / "blobs" / algorithm / hex_digest).read_bytes()


def _upload(ecr: Any, repository: str, data: bytes, digest: str) -> None:
    available = ecr.batch_check_layer_availability(repositoryName=repository, layerDigests=[digest])
    if any(layer["layerAvailability"] == "AVAILABLE" for layer in available.get("layers", [])):
        return
    upload_id = ecr.initiate_layer_upload(repositoryName=repository)["uploadId"]
    for first in range(0, max(len(data), 1), PART_SIZE):
        part = data[first : first + PART_SIZE]
        ecr.upload_layer_part(
            repositoryName=repository,
            uploadId=upload_id,
            partFirstByte=first,
            partLastByte=first + len(part) - 1,
            layerPartBlob=part,
        )
    ecr.complete_layer_upload(repositoryName=repository, uploadId=upload_id, layerDigests=[digest])


def push_layout(ecr: Any, layout: Path, tag: str, repository: str, push_tag: str | None = None) -> str:
    """Push the image tagged `tag` in the OCI layout at `layout`; return the pushed image's digest."""
    index = json.loads((layout / "index.json").read_text())
    descriptor = next(
        d
        for d in index["manifests"]
        if d.get("annotations", {}).get("org.opencontainers.image.ref.name") == tag
    )
    manifest_bytes = _blob(layout, descriptor["digest"])
    manifest = json.loads(manifest_bytes)
    for blob in [manifest["config"], *manifest["layers"]]:
        _upload(ecr, repository, _blob(layout, blob["digest"]), blob["digest"])
    image = ecr.put_image(
        repositoryName=repository,
        imageManifest=manifest_bytes.decode(),
        imageManifestMediaType=descriptor["mediaType"],
        imageTag=push_tag or tag,
    )["image"]
    return str(image["imageId"]["imageDigest"])
