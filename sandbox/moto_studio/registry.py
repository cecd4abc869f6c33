"""The registry API of ECR (the OCI distribution API that `docker push`, skopeo, buildah and podman
speak) over moto's ECR repositories: what a client pushes here is what DescribeImages and
BatchGetImage show, and an image PutImage wrote can be pulled.

As ECR answers it: Basic auth with user `AWS` and the password GetAuthorizationToken hands out,
else 401 with a Basic challenge; a repository must exist before a push (NAME_UNKNOWN); tags of an
immutable repository are not overwritten (TAG_INVALID); a manifest is stored as the bytes pushed,
so its digest is theirs. Blobs go through ECR's own layer upload (InitiateLayerUpload,
UploadLayerPart, CompleteLayerUpload), manifests through PutImage and deletes through the same
BatchDeleteImage as the API, so both emit ECR's events (moto_studio.ecr).

Errors are the distribution spec's: a JSON body {"errors": [{"code", "message"}]}.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, cast
from urllib.parse import parse_qs, urlsplit

from moto.core.exceptions import ServiceException
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.ecr.exceptions import (
    ImageAlreadyExistsException,
    InvalidLayerPartException,
    RepositoryNotFoundException,
    UploadNotFoundException,
)
from moto.ecr.models import ECRBackend, Image, Repository, ecr_backends

from .ecr import InvalidLayerException, LayersNotFoundException, layer_blobs

API_VERSION = {"Docker-Distribution-API-Version": "registry/2.0"}
ROUTE = re.compile(
    r"^/v2/(?P<name>[a-z0-9]+(?:[._/-][a-z0-9]+)*)/"
    r"(?:(?P<kind>blobs|manifests)/(?P<reference>[^/]+)|blobs/uploads/(?P<upload>[^/]*)|tags/list)$"
)
DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")


def login_password(account: str = DEFAULT_ACCOUNT_ID) -> str:
    """The password in moto's GetAuthorizationToken token (`AWS:<password>`, base64)."""
    return f"{account}-auth-token"


class RegistryError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


class Registry:
    """One ECR registry (an account and region of moto's ECR) served on 127.0.0.1."""

    def __init__(self, region: str, account: str = DEFAULT_ACCOUNT_ID, port: int = 0) -> None:
        self.region, self.account = region, account
        self._lock = threading.Lock()  # around moto's repository state, which is plain lists and dicts
        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), _handler(self))
        self.httpd.daemon_threads = True
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="moto-studio-registry")
        self._thread.daemon = True
        self._thread.start()

    @property
    def host(self) -> str:
        """How clients name it: `docker://HOST/repository:tag`."""
        host, port = cast(tuple[str, int], self.httpd.server_address[:2])
        return f"{host}:{port}"

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    @property
    def backend(self) -> ECRBackend:
        return ecr_backends[self.account][self.region]

    def authorized(self, header: str | None) -> bool:
        scheme, _, value = (header or "").partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            user, _, password = base64.b64decode(value, validate=True).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return False
        return user == "AWS" and password == login_password(self.account)

    def repository(self, name: str) -> Repository:
        try:
            return self.backend._get_repository(name, self.account)
        except RepositoryNotFoundException as error:
            raise RegistryError(
                404,
                "NAME_UNKNOWN",
                f"The repository with name '{name}' does not exist in the registry with id '{self.account}'",
            ) from error

    # Blobs

    def blob(self, name: str, digest: str) -> bytes:
        data = layer_blobs(self.repository(name)).get(digest)
        if data is None:
            raise RegistryError(404, "BLOB_UNKNOWN", f"blob {digest} is not in {name}")
        return data

    def mount(self, name: str, digest: str, source: str) -> bool:
        """Cross-repository mount: the blob, if `source` has it, is now in `name` too."""
        target = self.repository(name)
        try:
            data = layer_blobs(self.repository(source)).get(digest)
        except RegistryError:
            return False
        if data is None:
            return False
        with self._lock:
            target.layers[digest] = len(data)
            layer_blobs(target)[digest] = data
        return True

    def start_upload(self, name: str) -> str:
        self.repository(name)
        return str(self.backend.initiate_layer_upload(name, self.account)["uploadId"])

    def append(self, name: str, upload_id: str, data: bytes, first_byte: int | None = None) -> int:
        """Add `data` to the upload (at `first_byte`, if the client says where); the new size."""
        upload = self.repository(name).uploads.get(upload_id)
        if upload is None:
            raise RegistryError(404, "BLOB_UPLOAD_UNKNOWN", f"no upload {upload_id} in {name}")
        size = len(upload.layer_parts)
        start = size if first_byte is None else first_byte
        if data:
            try:
                self.backend.upload_layer_part(
                    name, upload_id, start, start + len(data) - 1, data, self.account
                )
            except InvalidLayerPartException as error:
                raise RegistryError(416, "BLOB_UPLOAD_INVALID", str(error)) from error
        return size + len(data)

    def finish_upload(self, name: str, upload_id: str, digest: str) -> None:
        if not DIGEST.match(digest):
            raise RegistryError(400, "DIGEST_INVALID", f"{digest!r} is not a sha256 digest")
        try:
            with self._lock:
                self.backend.complete_layer_upload(name, upload_id, [digest], self.account)
        except UploadNotFoundException as error:
            raise RegistryError(404, "BLOB_UPLOAD_UNKNOWN", str(error)) from error
        except InvalidLayerException as error:
            raise RegistryError(400, "DIGEST_INVALID", str(error)) from error

    def cancel_upload(self, name: str, upload_id: str) -> None:
        if self.repository(name).uploads.pop(upload_id, None) is None:
            raise RegistryError(404, "BLOB_UPLOAD_UNKNOWN", f"no upload {upload_id} in {name}")

    # Manifests

    def image(self, name: str, reference: str) -> Image:
        repository = self.repository(name)
        found = next(
            (i for i in repository.images if reference in (i.get_image_digest(), *i.image_tags)), None
        )
        if found is None:
            raise RegistryError(404, "MANIFEST_UNKNOWN", f"manifest {reference} is not in {name}")
        return found

    def put_manifest(self, name: str, reference: str, data: bytes, media_type: str | None) -> str:
        """PutImage with the bytes as pushed; returns their digest."""
        self.repository(name)
        digest = _sha256(data)
        by_digest = reference.startswith("sha256:")
        if by_digest and reference != digest:
            raise RegistryError(400, "DIGEST_INVALID", f"the manifest's digest is {digest}, not {reference}")
        try:
            text = data.decode()
            json.loads(text)
        except ValueError as error:
            raise RegistryError(400, "MANIFEST_INVALID", f"the manifest is not JSON: {error}") from error
        tag = None if by_digest else reference
        try:
            with self._lock:
                self.backend.put_image(name, text, tag, media_type or None, digest)  # type: ignore[arg-type]
        except LayersNotFoundException as error:
            raise RegistryError(400, "MANIFEST_BLOB_UNKNOWN", str(error)) from error
        except ImageAlreadyExistsException as error:
            if self.image(name, reference).get_image_digest() != digest:  # an immutable tag
                raise RegistryError(
                    400,
                    "TAG_INVALID",
                    f"The image tag '{reference}' already exists in the '{name}' repository and cannot "
                    "be overwritten because the repository is immutable.",
                ) from error
        return digest

    def delete_manifest(self, name: str, reference: str) -> None:
        self.image(name, reference)
        key = "imageDigest" if reference.startswith("sha256:") else "imageTag"
        self.backend.delete_images(name, [{key: reference}], self.account)  # type: ignore[attr-defined]

    def tags(self, name: str) -> list[str]:
        return sorted(tag for image in self.repository(name).images for tag in image.image_tags if tag)


def _handler(registry: Registry) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as registries do; every reply has a length

        def reply(
            self,
            status: int,
            body: bytes = b"",
            headers: dict[str, str] | None = None,
            length: int | None = None,
        ) -> None:
            self.send_response(status)
            for key, value in {**API_VERSION, **(headers or {})}.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body) if length is None else length))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def body(self) -> bytes:
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                parts = []
                while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                    parts.append(self.rfile.read(size))
                    self.rfile.readline()
                while self.rfile.readline().strip():  # trailers
                    pass
                return b"".join(parts)
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def handle_request(self) -> None:
            url = urlsplit(self.path)
            query = {k: v[-1] for k, v in parse_qs(url.query).items()}
            data = self.body() if self.command in ("POST", "PUT", "PATCH") else b""
            if not registry.authorized(self.headers.get("Authorization")):
                host = self.headers.get("Host") or registry.host
                body = json.dumps({"errors": [{"code": "UNAUTHORIZED", "message": "Not Authorized"}]})
                challenge = f'Basic realm="http://{host}/",service="ecr.amazonaws.com"'
                headers = {"Content-Type": "application/json", "WWW-Authenticate": challenge}
                self.reply(401, body.encode(), headers)
                return
            try:
                if url.path in ("/v2", "/v2/"):
                    self.reply(200, b"{}", {"Content-Type": "application/json"})
                    return
                match = ROUTE.match(url.path)
                if match is None:
                    raise RegistryError(404, "NAME_INVALID", f"no such registry path {url.path}")
                self.route(match, query, data)
            except RegistryError as error:
                self.error(error.status, error.code, error.message)
            except ServiceException as error:  # what ECR's API would have answered
                self.error(400, "UNSUPPORTED", f"{error.code}: {error.message}")

        def error(self, status: int, code: str, message: str) -> None:
            body = json.dumps({"errors": [{"code": code, "message": message}]}).encode()
            self.reply(status, body, {"Content-Type": "application/json"})

        def route(self, match: re.Match[str], query: dict[str, str], data: bytes) -> None:
            name, kind, reference, upload = match["name"], match["kind"], match["reference"], match["upload"]
            method = self.command
            if kind == "blobs" and method in ("GET", "HEAD"):
                blob = registry.blob(name, reference)
                headers = {"Docker-Content-Digest": reference, "Content-Type": "application/octet-stream"}
                self.reply(200, blob, headers)
            elif kind == "manifests" and method in ("GET", "HEAD"):
                image = registry.image(name, reference)
                manifest = image.image_manifest.encode()
                media_type = image.image_manifest_media_type or json.loads(manifest).get("mediaType", "")
                headers = {"Docker-Content-Digest": image.get_image_digest(), "Content-Type": media_type}
                self.reply(200, manifest, headers)
            elif kind == "manifests" and method == "PUT":
                content_type = self.headers.get("Content-Type", "").split(";")[0].strip()
                digest = registry.put_manifest(name, reference, data, content_type)
                location = f"/v2/{name}/manifests/{digest}"
                self.reply(201, headers={"Location": location, "Docker-Content-Digest": digest})
            elif kind == "manifests" and method == "DELETE":
                registry.delete_manifest(name, reference)
                self.reply(202)
            elif upload == "" and method == "POST":
                self.start_upload(name, query, data)
            elif upload and method == "PATCH":
                first = re.match(r"^(\d+)-\d+$", self.headers.get("Content-Range", ""))
                size = registry.append(name, upload, data, int(first[1]) if first else None)
                self.reply(202, headers=self.upload_headers(name, upload, size))
            elif upload and method == "PUT":
                registry.append(name, upload, data)
                digest = query.get("digest", "")
                registry.finish_upload(name, upload, digest)
                headers = {"Location": f"/v2/{name}/blobs/{digest}", "Docker-Content-Digest": digest}
                self.reply(201, headers=headers)
            elif upload and method == "GET":
                size = registry.append(name, upload, b"")
                self.reply(204, headers=self.upload_headers(name, upload, size))
            elif upload and method == "DELETE":
                registry.cancel_upload(name, upload)
                self.reply(204)
            elif match.group(0).endswith("/tags/list") and method == "GET":
                body = json.dumps({"name": name, "tags": registry.tags(name)}).encode()
                self.reply(200, body, {"Content-Type": "application/json"})
            else:
                raise RegistryError(405, "UNSUPPORTED", f"{method} {self.path} is not supported")

        def start_upload(self, name: str, query: dict[str, str], data: bytes) -> None:
            digest = query.get("mount") or query.get("digest")
            if query.get("mount") and registry.mount(name, query["mount"], query.get("from", "")):
                headers = {"Location": f"/v2/{name}/blobs/{digest}", "Docker-Content-Digest": str(digest)}
                self.reply(201, headers=headers)
                return
            upload = registry.start_upload(name)
            if query.get("digest"):  # a monolithic upload: the blob is the request's body
                registry.append(name, upload, data)
                registry.finish_upload(name, upload, query["digest"])
                headers = {"Location": f"/v2/{name}/blobs/{digest}", "Docker-Content-Digest": str(digest)}
                self.reply(201, headers=headers)
                return
            self.reply(202, headers=self.upload_headers(name, upload, 0))

        def upload_headers(self, name: str, upload: str, size: int) -> dict[str, str]:
            return {
                "Location": f"/v2/{name}/blobs/uploads/{upload}",
                "Docker-Upload-UUID": upload,
                "Range": f"0-{max(size - 1, 0)}",
            }

        do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = handle_request

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler
