"""ECR's layer APIs as the pipeline uses them: layers pushed through InitiateLayerUpload /
UploadLayerPart / CompleteLayerUpload are kept, PutImage checks them and records the manifest's
real digest, and GetDownloadUrlForLayer returns a URL that an HTTP GET streams (Range included).

Each manifest written (PutImage, or a push to the registry in moto_studio.registry) and each image
deleted (BatchDeleteImage, or a registry DELETE) emits ECR's "ECR Image Action" event to the
listeners registered with `on_image_action`, as ECR sends it to EventBridge.

ECR hands out pre-signed S3 URLs; here a small HTTP server in moto's process plays S3's part, so
the URL works under `mock_aws` (where only botocore is intercepted) and in server mode alike.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, cast

from moto.core.exceptions import ServiceException
from moto.core.responses import ActionResult
from moto.ecr.exceptions import UploadNotFoundException
from moto.ecr.models import ECRBackend, Repository

RANGE = re.compile(r"bytes=(\d*)-(\d*)")

ImageActionListener = Callable[[dict[str, Any]], None]
_listeners: list[ImageActionListener] = []


def on_image_action(listener: ImageActionListener) -> Callable[[], None]:
    """Send every ECR image action event to `listener` (EventBridge's part); returns the undo."""
    _listeners.append(listener)
    return lambda: _listeners.remove(listener)


def image_action_event(
    account: str,
    region: str,
    action: str,
    repository: str,
    digest: str,
    tag: str | None,
    media_type: str | None = None,
    artifact_type: str | None = None,
) -> dict[str, Any]:
    """ECR's event, with the fields of AWS's "Amazon ECR events and EventBridge" examples: a push
    names the tag ("" for a push by digest), the manifest's media type and its artifact's (the
    config's, or the index's artifactType); a delete names the digest and the tag it had."""
    detail: dict[str, Any] = {
        "result": "SUCCESS",
        "repository-name": repository,
        "image-digest": digest,
        "action-type": action,
        "image-tag": tag or "",
    }
    if media_type:
        detail["manifest-media-type"] = media_type
    if artifact_type:
        detail["artifact-media-type"] = artifact_type
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "ECR Image Action",
        "source": "aws.ecr",
        "account": account,
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [],
        "detail": detail,
    }


def _emit(event: dict[str, Any]) -> None:
    for listener in list(_listeners):
        listener(event)


class InvalidLayerException(ServiceException):
    code = "InvalidLayerException"


class ImageDigestDoesNotMatchException(ServiceException):
    code = "ImageDigestDoesNotMatchException"


class LayersNotFoundException(ServiceException):
    code = "LayersNotFoundException"


class UnsupportedImageTypeException(ServiceException):  # here: moto finds an error's service by module
    code = "UnsupportedImageTypeException"


def layer_blobs(repository: Repository) -> dict[str, bytes]:
    return repository.__dict__.setdefault("_layer_blobs", {})  # type: ignore[no-any-return]


class StudioEcrBackend:
    """Grafted onto moto's ECRBackend; `complete_layer_upload` and `put_image` replace moto's."""

    region_name: str
    _moto_put_image: Any  # moto's own put_image, kept by install()

    def complete_layer_upload(
        self, repository_name: str, upload_id: str, layer_digests: list[str], registry_id: str | None = None
    ) -> dict[str, Any]:
        repository = self._get_repository(repository_name, registry_id)  # type: ignore[attr-defined]
        upload = repository.uploads.get(upload_id)
        if upload is None:
            raise UploadNotFoundException(upload_id, repository_name, repository.registry_id)
        data = bytes(upload.layer_parts)
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        if layer_digests and layer_digests != [digest]:
            raise InvalidLayerException(
                "The layer digest calculation performed by Amazon ECR upon receipt of the image layer "
                f"does not match the digest specified: {', '.join(layer_digests)} (received {digest})"
            )
        repository.layers[digest] = len(data)
        layer_blobs(repository)[digest] = data
        del repository.uploads[upload_id]
        return {
            "registryId": repository.registry_id,
            "repositoryName": repository_name,
            "uploadId": upload_id,
            "layerDigest": digest,
        }

    def put_image(
        self,
        repository_name: str,
        image_manifest: str,
        image_tag: str,
        image_manifest_mediatype: str | None = None,
        digest: str | None = None,
    ) -> Any:
        actual = "sha256:" + hashlib.sha256(image_manifest.encode()).hexdigest()
        if digest and digest != actual:
            raise ImageDigestDoesNotMatchException(
                f"Invalid parameter at 'imageDigest': {digest} does not match the manifest's digest {actual}"
            )
        repository = self._get_repository(repository_name, None)  # type: ignore[attr-defined]
        try:
            manifest = json.loads(image_manifest)
        except json.JSONDecodeError:
            manifest = {}
        blobs = [manifest.get("config", {}), *manifest.get("layers", [])]
        missing = [b["digest"] for b in blobs if b.get("digest") and b["digest"] not in repository.layers]
        if "layers" in manifest and missing:
            raise LayersNotFoundException(
                f"Layers {missing} not found in repository {repository_name}: upload them before PutImage"
            )
        if not image_tag:
            # A manifest pushed again by digest changes nothing (moto would untag it); no event.
            existing = next((i for i in repository.images if i.get_image_digest() == actual), None)
            if existing is not None:
                return existing
        image = self._moto_put_image(
            repository_name, image_manifest, image_tag, image_manifest_mediatype, actual
        )
        artifact = manifest.get("artifactType") or manifest.get("config", {}).get("mediaType")
        media_type = image_manifest_mediatype or manifest.get("mediaType")
        _emit(
            image_action_event(
                repository.registry_id,
                self.region_name,
                "PUSH",
                repository_name,
                actual,
                image_tag,
                media_type,
                artifact,
            )
        )
        return image

    def delete_images(
        self, repository_name: str, image_ids: list[dict[str, str]], registry_id: str | None = None
    ) -> dict[str, Any]:
        """BatchDeleteImage, emitting a DELETE event for each image removed (moto's
        batch_delete_image is also how its PutImage moves a tag, which ECR reports as a push only)."""
        response: dict[str, Any] = self.batch_delete_image(  # type: ignore[attr-defined]
            repository_name, registry_id, image_ids
        )
        repository = self._get_repository(repository_name, registry_id)  # type: ignore[attr-defined]
        for deleted in response["imageIds"]:
            _emit(
                image_action_event(
                    repository.registry_id,
                    self.region_name,
                    "DELETE",
                    repository_name,
                    deleted.image_digest,
                    deleted.image_tag,
                )
            )
        return response

    def get_download_url_for_layer(
        self, repository_name: str, layer_digest: str, registry_id: str | None = None
    ) -> dict[str, str]:
        repository = self._get_repository(repository_name, registry_id)  # type: ignore[attr-defined]
        if layer_digest not in layer_blobs(repository):
            raise LayersNotFoundException(
                "The specified layers could not be found, "
                "or the specified layer is not valid for this repository."
            )
        return {"downloadUrl": blob_server().url_for(repository, layer_digest), "layerDigest": layer_digest}


class StudioEcrResponse:
    """Grafted onto moto's ECRResponse: GetDownloadUrlForLayer replaces its NotImplementedError,
    BatchDeleteImage emits the DELETE events."""

    ecr_backend: ECRBackend

    def batch_delete_image(self) -> ActionResult:
        result = self.ecr_backend.delete_images(  # type: ignore[attr-defined]
            self._get_param("repositoryName"),  # type: ignore[attr-defined]
            self._get_param("imageIds"),  # type: ignore[attr-defined]
            registry_id=self._get_param("registryId"),  # type: ignore[attr-defined]
        )
        return ActionResult(result)

    def get_download_url_for_layer(self) -> ActionResult:
        result = self.ecr_backend.get_download_url_for_layer(  # type: ignore[attr-defined]
            self._get_param("repositoryName"),  # type: ignore[attr-defined]
            self._get_param("layerDigest"),  # type: ignore[attr-defined]
            registry_id=self._get_param("registryId"),  # type: ignore[attr-defined]
        )
        return ActionResult(result)


class BlobServer:
    """Serves layer blobs by unguessable URL, like a pre-signed URL, with Range support."""

    def __init__(self) -> None:
        self._grants: dict[str, tuple[Repository, str]] = {}
        server = self
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(server))
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, name="moto-studio-blobs", daemon=True).start()

    def url_for(self, repository: Repository, digest: str) -> str:
        token = secrets.token_urlsafe(16)
        self._grants[token] = (repository, digest)
        host, port = cast(tuple[str, int], self.httpd.server_address[:2])
        return f"http://{host}:{port}/{repository.name}/{digest}?X-Amz-Signature={token}"

    def blob(self, path: str) -> bytes | None:
        token = path.partition("X-Amz-Signature=")[2]
        grant = self._grants.get(token)
        if grant is None:
            return None
        repository, digest = grant
        return layer_blobs(repository).get(digest)


def _handler(server: BlobServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            data = server.blob(self.path)
            if data is None:
                self.send_error(403, "AccessDenied")
                return
            start, end = 0, len(data) - 1
            match = RANGE.fullmatch(self.headers.get("Range", ""))
            if match and (match[1] or match[2]):
                if match[1]:
                    start, end = int(match[1]), min(int(match[2] or end), end)
                else:
                    start = max(len(data) - int(match[2]), 0)
                if start > end:
                    self.send_response(416)
                    self.send_header("Content-Range", f"bytes */{len(data)}")
                    self.end_headers()
                    return
                self.send_response(206)
                self.send_header("Content-Range", f"bytes {start}-{end}/{len(data)}")
            else:
                self.send_response(200)
            self.send_header("Content-Length", str(end - start + 1))
            self.send_header("Accept-Ranges", "bytes")
            self.end_headers()
            self.wfile.write(data[start : end + 1])

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


_server: BlobServer | None = None
_server_lock = threading.Lock()


def blob_server() -> BlobServer:
    global _server
    with _server_lock:
        if _server is None:
            _server = BlobServer()
        return _server
