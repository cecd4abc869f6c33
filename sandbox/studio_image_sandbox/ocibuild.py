"""Build OCI image layouts from layers made in memory: for sample images, demos and tests.

Names are written into the tar exactly as given (no normalisation), so tests can make the odd
paths real tools sometimes write.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from dataclasses import dataclass, field
from pathlib import Path

import zstandard
from isal import igzip

from studio_image.oci import OCI_CONFIG, OCI_INDEX, OCI_MANIFEST

LAYER_TYPES = {
    "gzip": "application/vnd.oci.image.layer.v1.tar+gzip",
    "zstd": "application/vnd.oci.image.layer.v1.tar+zstd",
    "none": "application/vnd.oci.image.layer.v1.tar",
}


class Layer:
    """A tar layer being written. Parent directories are not added implicitly."""

    def __init__(self, tar_format: int = tarfile.PAX_FORMAT) -> None:
        self._buffer = io.BytesIO()
        self._tar = tarfile.open(fileobj=self._buffer, mode="w", format=tar_format)  # noqa: SIM115 - closed in tar_bytes

    def _add(self, info: tarfile.TarInfo, data: bytes | None = None) -> Layer:
        info.mtime = 1_700_000_000
        if data is not None:
            info.size = len(data)
        self._tar.addfile(info, io.BytesIO(data) if data is not None else None)
        return self

    def file(
        self, path: str, data: bytes | str = b"", *, mode: int = 0o644, uid: int = 0, gid: int = 0
    ) -> Layer:
        info = tarfile.TarInfo(path)
        info.mode, info.uid, info.gid = mode, uid, gid
        return self._add(info, data.encode() if isinstance(data, str) else data)

    def dir(self, path: str, *, mode: int = 0o755, uid: int = 0, gid: int = 0) -> Layer:
        info = tarfile.TarInfo(path)
        info.type, info.mode, info.uid, info.gid = tarfile.DIRTYPE, mode, uid, gid
        return self._add(info)

    def symlink(self, path: str, target: str) -> Layer:
        info = tarfile.TarInfo(path)
        info.type, info.linkname, info.mode = tarfile.SYMTYPE, target, 0o777
        return self._add(info)

    def hardlink(self, path: str, target: str) -> Layer:
        info = tarfile.TarInfo(path)
        info.type, info.linkname = tarfile.LNKTYPE, target
        return self._add(info)

    def whiteout(self, path: str) -> Layer:
        head, _, name = path.rpartition("/")
        return self.file(f"{head}/.wh.{name}" if head else f".wh.{name}")

    def opaque(self, directory: str) -> Layer:
        return self.file(f"{directory.rstrip('/')}/.wh..wh..opq")

    def tar_bytes(self) -> bytes:
        self._tar.close()
        return self._buffer.getvalue()


def compress(data: bytes, compression: str) -> bytes:
    if compression == "gzip":
        return igzip.compress(data, compresslevel=1)
    if compression == "zstd":
        return zstandard.ZstdCompressor(level=3).compress(data)
    return data


@dataclass
class ImageSpec:
    layers: list[Layer | bytes]  # a Layer, or tar bytes made elsewhere
    architecture: str = "amd64"
    os: str = "linux"
    user: str = ""
    env: list[str] = field(
        default_factory=lambda: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]
    )
    entrypoint: list[str] | None = None
    cmd: list[str] | None = None
    labels: dict[str, str] = field(default_factory=dict)
    compression: str = "gzip"


@dataclass(frozen=True)
class Written:
    media_type: str
    digest: str
    size: int

    def descriptor(self, **extra: object) -> dict[str, object]:
        return {"mediaType": self.media_type, "digest": self.digest, "size": self.size, **extra}


class Layout:
    """An OCI image layout directory being written."""

    def __init__(self, root: Path) -> None:
        self.root = root
        (root / "blobs" / "sha256").mkdir(parents=True, exist_ok=True)
        (root / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
        self._tags: list[dict[str, object]] = []

    def blob(self, data: bytes, media_type: str) -> Written:
        digest = hashlib.sha256(data).hexdigest()
        (self.root / "blobs" / "sha256" / digest).write_bytes(data)
        return Written(media_type, f"sha256:{digest}", len(data))

    def image(self, spec: ImageSpec) -> Written:
        """Write an image's layers, config and manifest; return the manifest's descriptor."""
        tars = [layer.tar_bytes() if isinstance(layer, Layer) else layer for layer in spec.layers]
        layers = [self.blob(compress(t, spec.compression), LAYER_TYPES[spec.compression]) for t in tars]
        container: dict[str, object] = {"Env": spec.env, "User": spec.user, "Labels": spec.labels}
        if spec.entrypoint is not None:
            container["Entrypoint"] = spec.entrypoint
        if spec.cmd is not None:
            container["Cmd"] = spec.cmd
        config = {
            "architecture": spec.architecture,
            "os": spec.os,
            "config": container,
            "rootfs": {
                "type": "layers",
                "diff_ids": [f"sha256:{hashlib.sha256(t).hexdigest()}" for t in tars],
            },
            "history": [{"created_by": "studio_image_sandbox.ocibuild"} for _ in tars],
        }
        config_blob = self.blob(json.dumps(config).encode(), OCI_CONFIG)
        manifest = {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": config_blob.descriptor(),
            "layers": [layer.descriptor() for layer in layers],
        }
        return self.blob(json.dumps(manifest).encode(), OCI_MANIFEST)

    def index(self, images: list[tuple[Written, str]]) -> Written:
        """An image index over manifests, each with its "os/arch" platform."""
        manifests = []
        for written, platform in images:
            os_name, arch = platform.split("/")[:2]
            manifests.append(written.descriptor(platform={"os": os_name, "architecture": arch}))
        doc = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": manifests}
        return self.blob(json.dumps(doc).encode(), OCI_INDEX)

    def tag(self, written: Written, tag: str) -> Layout:
        self._tags = [t for t in self._tags if t["annotations"] != {"org.opencontainers.image.ref.name": tag}]
        self._tags.append(written.descriptor(annotations={"org.opencontainers.image.ref.name": tag}))
        index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": self._tags}
        (self.root / "index.json").write_text(json.dumps(index))
        return self


def build_image(root: Path, spec: ImageSpec, tag: str = "latest") -> str:
    """Write a one-image layout at `root` and return its `oci:` reference."""
    layout = Layout(root)
    layout.tag(layout.image(spec), tag)
    return f"oci:{root}:{tag}"
