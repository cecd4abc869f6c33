"""HTTP plumbing shared by the registry and ECR sources: a pool, and blob responses as streams."""

from __future__ import annotations

from urllib.parse import urljoin

import urllib3
from urllib3.exceptions import HTTPError

from ..errors import BlobNotFound, ImageReadError, RegistryAuthFailed, RegistryUnavailable

TIMEOUT = urllib3.Timeout(connect=10.0, read=120.0)


def pool() -> urllib3.PoolManager:
    # Redirects are followed by hand so that credentials never travel to another host.
    retries = urllib3.Retry(
        total=3,
        connect=3,
        read=2,
        status=3,
        backoff_factor=0.3,
        redirect=False,
        status_forcelist=(429, 500, 502, 503, 504),
        raise_on_status=False,
    )
    return urllib3.PoolManager(retries=retries, timeout=TIMEOUT, maxsize=8)


def fail_for_status(status: int, body: bytes, what: str) -> None:
    """Raise the error a non-2xx status means; return on success."""
    if status < 300:
        return
    detail = body[:300].decode("utf-8", "replace").strip()
    message = f"{what}: HTTP {status}" + (f": {detail}" if detail else "")
    if status == 404:
        raise BlobNotFound(message)
    if status in (401, 403):
        raise RegistryAuthFailed(message)
    if status == 429 or status >= 500:
        raise RegistryUnavailable(message)
    raise ImageReadError(message)


class ResponseStream:
    """A streaming response body: read(n) as a file, connection released on close."""

    def __init__(self, response: urllib3.BaseHTTPResponse, what: str) -> None:
        self._response = response
        self._what = what

    def read(self, size: int = -1, /) -> bytes:
        try:
            return self._response.read(None if size < 0 else size, decode_content=False)
        except HTTPError as err:
            raise RegistryUnavailable(f"{self._what}: connection failed while reading: {err}") from err

    def close(self) -> None:
        self._response.release_conn()


def get_stream(
    http: urllib3.PoolManager, url: str, what: str, headers: dict[str, str] | None = None
) -> ResponseStream:
    """GET a URL (following redirects without credentials) and stream its body."""
    for _ in range(5):
        try:
            response = http.request(
                "GET", url, headers=headers or {}, preload_content=False, decode_content=False
            )
        except HTTPError as err:
            raise RegistryUnavailable(f"{what}: {err}") from err
        if response.status in (301, 302, 303, 307, 308) and response.headers.get("Location"):
            url = urljoin(url, response.headers["Location"])
            response.drain_conn()
            headers = {}  # a redirect leaves the registry (usually for a blob store): no credentials
            continue
        if response.status >= 300:
            fail_for_status(response.status, response.read(), what)
        return ResponseStream(response, what)
    raise RegistryUnavailable(f"{what}: too many redirects")
