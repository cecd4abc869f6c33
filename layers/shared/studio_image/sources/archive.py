"""Local sources: `docker-archive:PATH`, `oci:DIR[:TAG]` and `oci-archive:PATH[:TAG]`.

Archives are indexed by their tar headers and read in place, member by member: nothing is
extracted to disk.
"""

from __future__ import annotations

import hashlib
import json
import re
import tarfile
from pathlib import Path
from typing import BinaryIO

from pydantic import BaseModel, Field

from ..errors import BlobNotFound, ImageNotFound, ImageReadError, ManifestInvalid
from ..oci import (
    DOCKER_CONFIG,
    Descriptor,
    Index,
    Manifest,
    Platform,
    parse_json,
    parse_model,
    sha256_digest,
)
from ..scan.paths import normalize
from ..scan.streams import GZIP_MAGIC, ZSTD_MAGIC, Readable
from .base import (
    MAX_MANIFEST_BYTES,
    ImageSource,
    ManifestSource,
    ResolvedImage,
    load_config,
)

DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar"
BLOB_NAME = re.compile(r"/blobs/(sha256|sha512)/([a-f0-9]+)$")


class ArchiveEntry(BaseModel):
    """One image in a docker-archive's manifest.json."""

    config: str = Field(alias="Config")
    repo_tags: list[str] | None = Field(default=None, alias="RepoTags")
    layers: list[str] = Field(alias="Layers")


class _Slice:
    """A read-only window onto part of a file: one archive member."""

    def __init__(self, path: Path, offset: int, size: int) -> None:
        self._file: BinaryIO = open(path, "rb")  # noqa: SIM115 - closed by close()
        self._file.seek(offset)
        self._left = size

    def read(self, size: int = -1, /) -> bytes:
        size = self._left if size < 0 else min(size, self._left)
        data = self._file.read(size)
        self._left -= len(data)
        return data

    def close(self) -> None:
        self._file.close()


class _TarIndex:
    """Member offsets of an uncompressed tar archive, by normalised path."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            with open(path, "rb") as raw:
                head = raw.read(4)
            if head.startswith(GZIP_MAGIC) or head.startswith(ZSTD_MAGIC):
                raise ImageReadError(f"{path} is compressed: decompress it first")
            with tarfile.open(path, "r:") as archive:
                self.members = {
                    normalize(m.name)[0]: (m.offset_data, m.size) for m in archive.getmembers() if m.isfile()
                }
        except FileNotFoundError as err:
            raise ImageNotFound(f"no such file: {path}") from err
        except (tarfile.TarError, OSError) as err:
            raise ImageReadError(f"{path} is not a readable tar archive: {err}") from err

    def open(self, name: str) -> _Slice:
        found = self.members.get(normalize(name)[0])
        if found is None:
            raise BlobNotFound(f"{self.path} has no member {name}")
        return _Slice(self.path, *found)

    def read(self, name: str, limit: int = MAX_MANIFEST_BYTES) -> bytes:
        stream = self.open(name)
        try:
            return stream.read(limit)
        finally:
            stream.close()


class _Layout(ManifestSource):
    """An OCI image layout, read through `open_file` (a directory or a tar of one)."""

    tag: str | None

    def open_file(self, name: str) -> Readable:
        raise NotImplementedError

    def _read_file(self, name: str) -> bytes:
        stream = self.open_file(name)
        try:
            return stream.read(MAX_MANIFEST_BYTES)
        finally:
            getattr(stream, "close", lambda: None)()

    def open_blob(self, descriptor: Descriptor) -> Readable:
        algorithm, _, hexdigest = descriptor.digest.partition(":")
        return self.open_file(f"blobs/{algorithm}/{hexdigest}")

    def top_manifest(self) -> tuple[bytes, str | None]:
        index = parse_model(Index, parse_json(self._read_file("index.json"), "index.json"), "index.json")
        tags = {d.annotations.get("org.opencontainers.image.ref.name"): d for d in index.manifests}
        if self.tag is not None:
            chosen = tags.get(self.tag)
            if chosen is None:
                known = ", ".join(sorted(t for t in tags if t)) or "none"
                raise ImageNotFound(f"{self.reference}: no tag {self.tag!r} (tags: {known})")
        elif len(index.manifests) == 1:
            chosen = index.manifests[0]
        else:
            raise ImageNotFound(f"{self.reference}: the layout holds several images; name a tag")
        return self.read_blob(chosen), chosen.media_type

    def manifest_by_digest(self, descriptor: Descriptor) -> bytes:
        return self.read_blob(descriptor)


class OciLayoutSource(_Layout):
    def __init__(self, directory: str, tag: str | None) -> None:
        self.root = Path(directory)
        self.tag = tag
        self.reference = f"oci:{directory}" + (f":{tag}" if tag else "")
        if not (self.root / "oci-layout").is_file():
            raise ImageNotFound(f"{directory} is not an OCI image layout (no oci-layout file)")

    def open_file(self, name: str) -> Readable:
        try:
            return open(self.root / name, "rb")
        except FileNotFoundError as err:
            raise BlobNotFound(f"{self.reference}: missing {name}") from err


class OciArchiveSource(_Layout):
    def __init__(self, path: str, tag: str | None) -> None:
        self.archive = _TarIndex(Path(path))
        self.tag = tag
        self.reference = f"oci-archive:{path}" + (f":{tag}" if tag else "")

    def open_file(self, name: str) -> Readable:
        return self.archive.open(name)


class DockerArchiveSource(ImageSource):
    """`docker save` output (and skopeo's docker-archive): manifest.json names config and layers."""

    def __init__(self, path: str, tag: str | None) -> None:
        self.archive = _TarIndex(Path(path))
        self.tag = tag
        self.reference = f"docker-archive:{path}" + (f":{tag}" if tag else "")

    def _entry(self) -> ArchiveEntry:
        doc = self.archive.read("manifest.json")
        try:
            entries = [ArchiveEntry.model_validate(e) for e in json.loads(doc)]
        except (ValueError, TypeError) as err:  # JSON and pydantic errors are ValueErrors
            raise ManifestInvalid(f"{self.reference}: manifest.json is not valid: {err}") from err
        if not entries:
            raise ManifestInvalid(f"{self.reference}: manifest.json lists no image")
        if self.tag is None:
            if len(entries) > 1:
                raise ImageNotFound(f"{self.reference}: the archive holds several images; name one")
            return entries[0]
        for entry in entries:
            if any(t == self.tag or t.endswith(":" + self.tag) for t in entry.repo_tags or []):
                return entry
        raise ImageNotFound(f"{self.reference}: no image tagged {self.tag!r}")

    def _descriptor(self, member: str, media_type: str, diff_id: str | None) -> Descriptor:
        size = self.archive.members.get(normalize(member)[0], (0, -1))[1]
        if size < 0:
            raise BlobNotFound(f"{self.reference}: no member {member}")
        named = BLOB_NAME.search(normalize(member)[0])
        if named:
            digest = f"{named[1]}:{named[2]}"
        else:
            head = self.archive.read(member, 4)
            compressed = head.startswith(GZIP_MAGIC) or head.startswith(ZSTD_MAGIC)
            digest = diff_id if diff_id and not compressed else self._hash(member)
        return Descriptor(media_type=media_type, digest=digest, size=size, annotations={"member": member})

    def _hash(self, member: str) -> str:
        digest = hashlib.sha256()
        stream = self.archive.open(member)
        while chunk := stream.read(1 << 20):
            digest.update(chunk)
        stream.close()
        return f"sha256:{digest.hexdigest()}"

    def resolve(self, platform: Platform) -> ResolvedImage:
        entry = self._entry()
        config_data = self.archive.read(entry.config)
        config_desc = Descriptor(
            media_type=DOCKER_CONFIG,
            digest=sha256_digest(config_data),
            size=len(config_data),
            annotations={"member": entry.config},
        )
        config = load_config(self, Manifest(schema_version=2, config=config_desc, layers=[]))
        diff_ids = config.rootfs.diff_ids
        layers = [
            self._descriptor(name, DOCKER_LAYER, diff_ids[i] if i < len(diff_ids) else None)
            for i, name in enumerate(entry.layers)
        ]
        manifest = Manifest(schema_version=2, config=config_desc, layers=layers)
        return ResolvedImage(digest=None, manifest_digest=None, manifest=manifest, config=config)

    def open_blob(self, descriptor: Descriptor) -> Readable:
        return self.archive.open(descriptor.annotations["member"])
