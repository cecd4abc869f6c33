"""`docker://`: any registry through the OCI distribution (registry v2) API.

Authentication follows the registry's challenge: anonymous, Basic, or a Bearer token fetched from
the challenge's realm. HTTPS first; plain HTTP only for loopback hosts, or with `allow_http`.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import os
import re
from pathlib import Path
from urllib.parse import urlencode

import urllib3
from urllib3.exceptions import HTTPError

from ..errors import (
    BlobNotFound,
    ImageNotFound,
    RegistryAuthFailed,
    RegistryUnavailable,
    RepositoryNotFound,
)
from ..oci import ACCEPTED_MANIFEST_TYPES, Descriptor
from ..redact import redact
from ..scan.streams import Readable
from . import SourceOptions
from .base import ManifestSource, verify_bytes
from .http import ResponseStream, fail_for_status, get_stream, pool
from .reference import ECR_HOST, RegistryReference

CHALLENGE_PARAM = re.compile(r'(\w+)="([^"]*)"')


def is_loopback(host: str) -> bool:
    name = host.rsplit(":", 1)[0] if host.count(":") == 1 or host.startswith("[") else host
    name = name.strip("[]")
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def docker_config_credentials(host: str) -> tuple[str, str] | None:
    """Credentials `docker login` stored for the host, if any (inline `auth` entries only)."""
    path = Path(os.environ.get("DOCKER_CONFIG") or Path.home() / ".docker") / "config.json"
    try:
        auths = json.loads(path.read_text()).get("auths", {})
    except (OSError, ValueError):
        return None
    for key in (host, f"https://{host}", f"http://{host}"):
        encoded = auths.get(key, {}).get("auth")
        if encoded:
            user, _, password = base64.b64decode(encoded).decode().partition(":")
            return user, password
    return None


def _reason(err: HTTPError) -> str:
    """Why a request failed, without urllib3's connection class (`HTTPSConnection(host=...)`),
    which names neither the URL nor the scheme a loopback registry is read with."""
    reason = getattr(err, "reason", None) or err
    return redact(_CONNECTION.sub("", str(reason)))


_CONNECTION = re.compile(r"^<?\w*Connection(?:Pool)?\(host=[^)]*\)>?:?\s*")


class RegistrySource(ManifestSource):
    def __init__(self, ref: RegistryReference, options: SourceOptions) -> None:
        self.ref = ref
        self.reference = f"docker://{ref}"
        self._http = pool()
        self._options = options
        self._scheme = "https"
        self._scheme_known = not (options.allow_http or is_loopback(ref.host))  # else HTTP may be it
        self._authorization: str | None = None
        self._credentials: tuple[str, str] | None = None

    def _url(self, path: str) -> str:
        return f"{self._scheme}://{self.ref.host}/v2/{self.ref.repository}/{path}"

    def _creds(self) -> tuple[str, str] | None:
        if self._credentials is None:
            if self._options.username is not None:
                self._credentials = (self._options.username, self._options.password or "")
            elif ECR_HOST.match(self.ref.host.split(":")[0]):
                from ..aws.ecr import Ecr

                match = ECR_HOST.match(self.ref.host.split(":")[0])
                assert match
                self._credentials = Ecr(region=match[2]).credentials(match[1])
            else:
                self._credentials = docker_config_credentials(self.ref.host)
        return self._credentials

    def _request(self, path: str, accept: str | None, what: str) -> urllib3.BaseHTTPResponse:
        """GET a registry path, answering one auth challenge. Returns the unread response."""
        for attempt in range(2):
            headers = {"Accept": accept} if accept else {}
            if self._authorization:
                headers["Authorization"] = self._authorization
            try:
                response = self._http.request(
                    "GET",
                    self._url(path),
                    headers=headers,
                    preload_content=False,
                    decode_content=False,
                    # Until a host that may speak plain HTTP has answered, one try tells which it speaks.
                    retries=None if self._scheme_known else False,
                )
            except HTTPError as err:
                if not self._scheme_known:  # a loopback or allowed plain-HTTP registry: HTTP may be it
                    self._scheme = "http"
                    self._scheme_known = True
                    return self._request(path, accept, what)
                raise RegistryUnavailable(f"{what}: {self._url(path)}: {_reason(err)}") from err
            self._scheme_known = True
            if response.status == 401 and attempt == 0:
                response.drain_conn()
                self._authorization = self._answer(response.headers.get("WWW-Authenticate", ""), what)
                continue
            return response
        raise RegistryAuthFailed(f"{what}: the registry refused the credentials")

    def _answer(self, challenge: str, what: str) -> str:
        scheme, _, rest = challenge.partition(" ")
        params = dict(CHALLENGE_PARAM.findall(rest))
        creds = self._creds()
        basic = "Basic " + base64.b64encode(":".join(creds).encode()).decode() if creds else None
        if scheme.lower() == "basic":
            if not basic:
                raise RegistryAuthFailed(f"{what}: the registry wants credentials (--creds USER:PASS)")
            return basic
        if scheme.lower() != "bearer" or "realm" not in params:
            raise RegistryAuthFailed(f"{what}: unsupported authentication challenge {challenge!r}")
        query = {k: v for k, v in params.items() if k in ("service", "scope")}
        query.setdefault("scope", f"repository:{self.ref.repository}:pull")
        url = params["realm"] + ("&" if "?" in params["realm"] else "?") + urlencode(query)
        try:
            response = self._http.request(
                "GET", url, headers={"Authorization": basic} if basic else {}, preload_content=False
            )
            data = response.read(self.limits.max_response_bytes + 1)
            response.release_conn()
        except HTTPError as err:
            raise RegistryUnavailable(f"{what}: token service: {redact(str(err))}") from err
        fail_for_status(response.status, data, f"{what}: token service")
        if len(data) > self.limits.max_response_bytes:
            raise RegistryAuthFailed(
                f"{what}: the token service answered more than {self.limits.max_response_bytes} bytes"
            )
        try:
            body = json.loads(data)
            token = body.get("token") or body["access_token"]
        except (ValueError, KeyError, AttributeError) as err:
            raise RegistryAuthFailed(f"{what}: the token service sent no token") from err
        return f"Bearer {token}"

    def _manifest(self, reference: str) -> tuple[bytes, str | None]:
        what = f"{self.ref.host}/{self.ref.repository} manifest {reference}"
        response = self._request(f"manifests/{reference}", ", ".join(ACCEPTED_MANIFEST_TYPES), what)
        limit = self.limits.max_manifest_bytes
        data = response.read(limit + 1, decode_content=False)
        response.release_conn()
        if response.status == 404:
            body = data.decode("utf-8", "replace")
            kind = RepositoryNotFound if "NAME_UNKNOWN" in body else ImageNotFound
            raise kind(f"{what}: not found")
        fail_for_status(response.status, data, what)
        if len(data) > limit:
            raise ImageNotFound(f"{what}: manifest over {limit} bytes")
        content_type = (response.headers.get("Content-Type") or "").split(";")[0].strip() or None
        return data, content_type

    def top_manifest(self) -> tuple[bytes, str | None]:
        data, media_type = self._manifest(self.ref.reference)
        if self.ref.digest:
            verify_bytes(data, self.ref.digest, f"{self.reference} manifest")
        return data, media_type

    def manifest_by_digest(self, descriptor: Descriptor) -> bytes:
        return self._manifest(descriptor.digest)[0]

    def open_blob(self, descriptor: Descriptor) -> Readable:
        what = f"{self.ref.host}/{self.ref.repository} blob {descriptor.digest}"
        response = self._request(f"blobs/{descriptor.digest}", None, what)
        location = response.headers.get("Location")
        if response.status in (301, 302, 303, 307, 308) and location:
            response.drain_conn()
            # blob stores get no registry credentials
            return get_stream(self._http, location, what, error_bytes=self.limits.max_response_bytes)
        if response.status == 404:
            response.drain_conn()
            raise BlobNotFound(f"{what}: not found")
        if response.status >= 300:
            fail_for_status(response.status, response.read(self.limits.max_response_bytes), what)
        return ResponseStream(response, what)

    def close(self) -> None:
        self._http.clear()
