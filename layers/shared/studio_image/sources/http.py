"""HTTP plumbing shared by the registry and ECR sources: a pool, and blob responses as streams."""

from __future__ import annotations

from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from urllib.parse import urljoin

import urllib3
from urllib3.exceptions import HTTPError

from ..errors import BlobNotFound, ImageReadError, RegistryAuthFailed, RegistryUnavailable
from ..limits import ScanLimits
from ..redact import redact

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
    detail = redact(body[:300].decode("utf-8", "replace").strip())
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
        self.status = response.status

    def read(self, size: int = -1, /) -> bytes:
        try:
            return self._response.read(None if size < 0 else size, decode_content=False)
        except HTTPError as err:
            raise RegistryUnavailable(
                f"{self._what}: connection failed while reading: {redact(str(err))}"
            ) from err

    def close(self) -> None:
        self._response.release_conn()


def get_stream(
    http: urllib3.PoolManager,
    url: str,
    what: str,
    headers: dict[str, str] | None = None,
    *,
    error_bytes: int = ScanLimits.max_response_bytes,
) -> ResponseStream:
    """GET a URL (following redirects without credentials) and stream its body; of an error's body
    at most `error_bytes` are read."""
    for _ in range(5):
        try:
            response = http.request(
                "GET", url, headers=headers or {}, preload_content=False, decode_content=False
            )
        except HTTPError as err:
            raise RegistryUnavailable(f"{what}: {redact(str(err))}") from err
        if response.status in (301, 302, 303, 307, 308) and response.headers.get("Location"):
            url = urljoin(url, response.headers["Location"])
            response.drain_conn()
            headers = {}  # a redirect leaves the registry (usually for a blob store): no credentials
            continue
        if response.status >= 300:
            fail_for_status(response.status, response.read(error_bytes), what)
        return ResponseStream(response, what)
    raise RegistryUnavailable(f"{what}: too many redirects")


PART_SIZE = 8 << 20


class RangedStream:
    """A blob read as consecutive byte ranges fetched on `connections` threads and returned in
    order, so one connection's throughput does not cap the read. At most `connections` parts are
    in memory. The first part goes alone: a server that answers it with the whole blob (200, not
    206) does not do ranges, and that response is streamed as it is."""

    def __init__(
        self,
        http: urllib3.PoolManager,
        url: str,
        size: int,
        what: str,
        *,
        connections: int = 4,
        part_size: int = PART_SIZE,
        error_bytes: int = ScanLimits.max_response_bytes,
    ) -> None:
        self._http = http
        self._error_bytes = error_bytes
        self._url = url
        self._what = what
        self._connections = max(1, connections)
        self._ranges = [(start, min(start + part_size, size) - 1) for start in range(0, size, part_size)]
        self._pool = ThreadPoolExecutor(max_workers=self._connections, thread_name_prefix="range")
        self._pending: deque[Future[bytes]] = deque()
        self._next = 0
        self._buffer = memoryview(b"")
        self._plain: ResponseStream | None = None
        self._started = False

    def _submit(self) -> None:
        while self._next < len(self._ranges) and len(self._pending) < self._connections:
            self._pending.append(self._pool.submit(self._fetch, *self._ranges[self._next]))
            self._next += 1

    def _request(self, first: int, last: int) -> ResponseStream:
        headers = {"Range": f"bytes={first}-{last}"}
        return get_stream(self._http, self._url, self._what, headers, error_bytes=self._error_bytes)

    def _fetch(self, first: int, last: int) -> bytes:
        stream = self._request(first, last)
        try:
            data = stream.read(last - first + 2)  # one byte more tells a server sending too much
        finally:
            stream.close()
        if stream.status != 206 or len(data) != last - first + 1:
            raise RegistryUnavailable(
                f"{self._what}: range {first}-{last} answered {stream.status} with {len(data)} bytes"
            )
        return data

    def _start(self) -> None:
        self._started = True
        if not self._ranges:
            return
        stream = self._request(*self._ranges[0])
        if stream.status != 206:
            self._plain = stream
            return
        self._next = 1
        self._submit()  # the server does ranges: fetch the next parts while this one's body arrives
        try:
            first, last = self._ranges[0]
            self._buffer = memoryview(stream.read(last - first + 1))
        finally:
            stream.close()

    def read(self, size: int = -1, /) -> bytes:
        if not self._started:
            self._start()
        if self._plain is not None:
            return self._plain.read(size)
        if size is None or size < 0:
            return b"".join(iter(lambda: self.read(PART_SIZE), b""))
        if not self._buffer:
            if not self._pending:
                return b""
            self._buffer = memoryview(self._pending.popleft().result())
            self._submit()
        out = self._buffer[:size]
        self._buffer = self._buffer[size:]
        return bytes(out)

    def close(self) -> None:
        for future in self._pending:
            future.cancel()
        self._pool.shutdown(wait=True)
        if self._plain is not None:
            self._plain.close()
