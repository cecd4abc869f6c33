"""ECR adapter: the calls we make, with `ClientError` codes turned into our exceptions."""

from __future__ import annotations

import base64
from typing import Any

import boto3

from ..errors import (
    BlobNotFound,
    ImageNotFound,
    ImageReadError,
    ReferenceInvalid,
    RegistryAuthFailed,
    RegistryUnavailable,
    RepositoryNotFound,
)
from .common import ErrorMap, call

_ERRORS: ErrorMap = {
    "RepositoryNotFoundException": RepositoryNotFound,
    "ImageNotFoundException": ImageNotFound,
    "LayersNotFoundException": BlobNotFound,
    "LayerInaccessibleException": BlobNotFound,
    "AccessDeniedException": RegistryAuthFailed,
    "UnrecognizedClientException": RegistryAuthFailed,
    "ThrottlingException": RegistryUnavailable,
    "ServerException": RegistryUnavailable,
    "ServiceUnavailableException": RegistryUnavailable,
    "InvalidParameterException": ImageReadError,
}

# BatchGetImage reports an image it cannot return as a failure in its answer, not as an error:
# each of botocore's ImageFailureCode values (ECR API reference, ImageFailure).
_FAILURES: ErrorMap = {
    "ImageNotFound": ImageNotFound,
    "InvalidImageDigest": ReferenceInvalid,
    "InvalidImageTag": ReferenceInvalid,
    "ImageTagDoesNotMatchDigest": ReferenceInvalid,
    "MissingDigestAndTag": ReferenceInvalid,
    "ImageReferencedByManifestList": ImageReadError,
    "KmsError": ImageReadError,  # the KMS key the repository encrypts with refused or failed
    "ImageInaccessible": ImageReadError,
    "UpstreamAccessDenied": RegistryAuthFailed,  # a pull through cache's upstream registry
    "UpstreamTooManyRequests": RegistryUnavailable,  # transient: retried
    "UpstreamUnavailable": RegistryUnavailable,
}


def raise_failure(what: str, failure: dict[str, Any]) -> None:
    """Our error for one of BatchGetImage's failures (an unknown code reads as ImageReadError)."""
    code = failure.get("failureCode", "")
    raise _FAILURES.get(code, ImageReadError)(f"{what}: {code}: {failure.get('failureReason', '')}")


class Ecr:
    def __init__(self, client: Any = None, region: str | None = None) -> None:
        self._client = client or boto3.client("ecr", region_name=region)

    @property
    def client(self) -> Any:
        return self._client

    def _call(self, what: str, operation: str, **kwargs: Any) -> dict[str, Any]:
        return call(self._client, operation, what, _ERRORS, unavailable=RegistryUnavailable, **kwargs)

    def get_manifest(
        self, repository: str, registry_id: str | None, image_id: dict[str, str], accepted: list[str]
    ) -> tuple[bytes, str | None]:
        what = f"ECR {repository} {image_id}"
        kwargs: dict[str, Any] = {
            "repositoryName": repository,
            "imageIds": [image_id],
            "acceptedMediaTypes": accepted,
        }
        if registry_id:
            kwargs["registryId"] = registry_id
        found = self._call(what, "batch_get_image", **kwargs)
        for failure in found.get("failures", []):
            raise_failure(what, failure)
        images = found.get("images") or []
        if not images:
            raise ImageNotFound(f"{what}: no such image")
        image = images[0]
        return image["imageManifest"].encode(), image.get("imageManifestMediaType")

    def has_image(self, repository: str, registry_id: str | None, digest: str) -> bool:
        kwargs: dict[str, Any] = {"repositoryName": repository, "imageIds": [{"imageDigest": digest}]}
        if registry_id:
            kwargs["registryId"] = registry_id
        what = f"ECR {repository}@{digest}"
        try:
            found = self._call(what, "batch_get_image", **kwargs)
        except RepositoryNotFound:
            return False
        for failure in found.get("failures", []):
            if failure.get("failureCode") != "ImageNotFound":  # not an answer: the image may be there
                raise_failure(what, failure)
        return bool(found.get("images"))

    def layer_url(self, repository: str, registry_id: str | None, digest: str) -> str:
        kwargs: dict[str, Any] = {"repositoryName": repository, "layerDigest": digest}
        if registry_id:
            kwargs["registryId"] = registry_id
        found = self._call(f"ECR {repository} blob {digest}", "get_download_url_for_layer", **kwargs)
        return str(found["downloadUrl"])

    def credentials(self, registry_id: str | None) -> tuple[str, str]:
        """Basic credentials for the registry API, from GetAuthorizationToken."""
        kwargs = {"registryIds": [registry_id]} if registry_id else {}
        found = self._call("ECR authorization", "get_authorization_token", **kwargs)
        token = base64.b64decode(found["authorizationData"][0]["authorizationToken"]).decode()
        user, _, password = token.partition(":")
        return user, password
