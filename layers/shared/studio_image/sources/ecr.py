"""`ecr://[REGISTRY/]REPO[:TAG|@DIGEST]`: ECR through its API, as the pipeline's Lambdas read it.

Manifests come from `BatchGetImage`; blobs from the URL `GetDownloadUrlForLayer` returns.
"""

from __future__ import annotations

from typing import Any

from ..aws.ecr import Ecr
from ..oci import ACCEPTED_MANIFEST_TYPES, Descriptor
from ..scan.streams import Readable
from .base import ManifestSource, verify_bytes
from .http import RangedStream, pool
from .reference import ECR_HOST, split_name


class EcrSource(ManifestSource):
    def __init__(
        self,
        repository: str,
        *,
        tag: str | None = None,
        digest: str | None = None,
        registry_id: str | None = None,
        region: str | None = None,
        client: Any = None,
        connections: int = 4,
    ) -> None:
        self.repository = repository
        self.tag = tag
        self.digest = digest
        self.registry_id = registry_id
        self.ecr = Ecr(client, region)
        self.connections = connections
        self._http = pool()
        suffix = f"@{digest}" if digest else f":{tag or 'latest'}"
        self.reference = f"ecr://{repository}{suffix}"

    @classmethod
    def from_reference(cls, text: str) -> EcrSource:
        first, _, rest = text.partition("/")
        host = ECR_HOST.match(first)
        registry_id = region = None
        if host and rest:
            registry_id, region, text = host[1], host[2], rest
        name, tag, digest = split_name(text, f"ecr://{text}")
        return cls(name, tag=tag, digest=digest, registry_id=registry_id, region=region)

    def _get(self, image_id: dict[str, str]) -> tuple[bytes, str | None]:
        return self.ecr.get_manifest(
            self.repository, self.registry_id, image_id, list(ACCEPTED_MANIFEST_TYPES)
        )

    def top_manifest(self) -> tuple[bytes, str | None]:
        if self.digest:
            data, media_type = self._get({"imageDigest": self.digest})
            verify_bytes(data, self.digest, f"{self.reference} manifest")
            return data, media_type
        return self._get({"imageTag": self.tag or "latest"})

    def manifest_by_digest(self, descriptor: Descriptor) -> bytes:
        return self._get({"imageDigest": descriptor.digest})[0]

    def open_blob(self, descriptor: Descriptor) -> Readable:
        url = self.ecr.layer_url(self.repository, self.registry_id, descriptor.digest)
        what = f"{self.reference} blob {descriptor.digest}"
        return RangedStream(self._http, url, descriptor.size, what, connections=self.connections)

    def close(self) -> None:
        self._http.clear()
