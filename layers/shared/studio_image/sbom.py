"""The software bill of materials: packages named by the databases the scan captured, as CycloneDX.

Nothing here reads a layer again. OS package databases (dpkg, apk, rpm) are whole files that every
installing layer rewrites, so the layer that added a package is the lowest layer from which on it has
had its final version; the other kinds are one file per package, added by the layer that wrote it.
"""

from __future__ import annotations

import re
import sqlite3
import struct
from collections.abc import Callable, Iterator
from email.parser import HeaderParser
from enum import StrEnum
from pathlib import Path

from cyclonedx.model import Property
from cyclonedx.model.bom import Bom
from cyclonedx.model.component import Component as CdxComponent
from cyclonedx.model.component import ComponentType
from cyclonedx.model.contact import OrganizationalEntity
from cyclonedx.output import make_outputter
from cyclonedx.schema import OutputFormat, SchemaVersion
from packageurl import PackageURL
from pydantic import BaseModel, Field

from .errors import OutputUnwritable
from .inventory import Inventory
from .scan.packages import KINDS, capture_kind

CDX_VERSION = SchemaVersion.V1_6
DPKG_STATUS = "/var/lib/dpkg/status"
APK_INSTALLED = "/lib/apk/db/installed"
NOT_INSTALLED = {"not-installed", "config-files"}  # dpkg states whose files are gone


class Ecosystem(StrEnum):
    DEB = "deb"
    APK = "apk"
    RPM = "rpm"
    PYPI = "pypi"
    CONDA = "conda"
    CRAN = "cran"


class Package(BaseModel):
    ecosystem: Ecosystem
    name: str
    version: str
    purl: str
    layer: int  # index of the layer that added it (in its final version)
    path: str  # the file that names it


class Sbom(BaseModel):
    image: str
    digest: str | None
    layers: list[str]  # layer digests, bottom up
    packages: list[Package] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)  # databases found but not read, and why


# -- parsers: text of one captured file -> (key, name, version, purl qualifiers) -----------------

Parsed = tuple[str, str, str, dict[str, str]]  # name, version, arch (or ""), extra purl fields


def _stanzas(text: str) -> Iterator[dict[str, str]]:
    """Debian control (RFC 822-like) paragraphs; continuation lines are dropped."""
    for block in re.split(r"\n\s*\n", text):
        fields: dict[str, str] = {}
        for line in block.splitlines():
            if line and not line[0].isspace() and ":" in line:
                key, _, value = line.partition(":")
                fields[key] = value.strip()
        if fields:
            yield fields


def dpkg_packages(text: str) -> list[Parsed]:
    out: list[Parsed] = []
    for fields in _stanzas(text):
        state = fields.get("Status", "").rpartition(" ")[2]
        if "Package" in fields and "Version" in fields and state not in NOT_INSTALLED:
            out.append((fields["Package"], fields["Version"], fields.get("Architecture", ""), {}))
    return out


def apk_packages(text: str) -> list[Parsed]:
    out: list[Parsed] = []
    for block in re.split(r"\n\s*\n", text):
        fields = dict(line.split(":", 1) for line in block.splitlines() if len(line) > 2 and line[1] == ":")
        if "P" in fields and "V" in fields:
            out.append((fields["P"], fields["V"], fields.get("A", ""), {}))
    return out


RPM_TAGS = {1000: "name", 1001: "version", 1002: "release", 1003: "epoch", 1022: "arch"}
RPM_STRING, RPM_INT32 = 6, 4


def _rpm_header(blob: bytes) -> dict[str, str]:
    """The few tags we need from an rpm header blob (as rpmdb.sqlite stores it: no magic)."""
    count, _ = struct.unpack_from(">ii", blob)
    store = 8 + 16 * count
    tags: dict[str, str] = {}
    for index in range(count):
        tag, kind, offset, _ = struct.unpack_from(">iiii", blob, 8 + 16 * index)
        if tag not in RPM_TAGS:
            continue
        if kind == RPM_STRING:
            end = blob.index(b"\0", store + offset)
            tags[RPM_TAGS[tag]] = blob[store + offset : end].decode("utf-8", "replace")
        elif kind == RPM_INT32:
            tags[RPM_TAGS[tag]] = str(struct.unpack_from(">i", blob, store + offset)[0])
    return tags


def rpm_packages(text: str) -> list[Parsed]:
    """Packages in an rpmdb.sqlite, opened from memory (sqlite3's deserialize: no file on disk)."""
    data = bytearray(text.encode("latin-1"))
    if data[18:20] == b"\x02\x02":  # WAL mode, which an in-memory database cannot open: as rollback
        data[18:20] = b"\x01\x01"  # (a WAL file beside it is not in the layer's captures)
    db = sqlite3.connect(":memory:")
    try:
        db.deserialize(bytes(data))
        rows = db.execute("SELECT blob FROM Packages").fetchall()
    finally:
        db.close()
    out: list[Parsed] = []
    for (blob,) in rows:
        tags = _rpm_header(blob)
        if "name" in tags and "version" in tags:
            version = f"{tags['version']}-{tags['release']}" if "release" in tags else tags["version"]
            extra = {"epoch": tags["epoch"]} if "epoch" in tags else {}
            out.append((tags["name"], version, tags.get("arch", ""), extra))
    return out


def python_package(text: str) -> Parsed | None:
    headers = HeaderParser().parsestr(text)
    name, version = headers.get("Name"), headers.get("Version")
    return (name.strip(), version.strip(), "", {}) if name and version else None


def r_package(text: str) -> Parsed | None:
    fields = next(_stanzas(text), {})
    if "Package" in fields and "Version" in fields:
        return fields["Package"], fields["Version"], "", {}
    return None


def conda_package(path: str) -> Parsed | None:
    """conda-meta/NAME-VERSION-BUILD.json: conda versions and build strings hold no '-'."""
    parts = path.rpartition("/")[2].removesuffix(".json").rsplit("-", 2)
    return (parts[0], parts[1], "", {"build": parts[2]}) if len(parts) == 3 and all(parts) else None


# -- purls ----------------------------------------------------------------------------------------


def _os_release(inventory: Inventory) -> dict[str, str]:
    for path in ("/etc/os-release", "/usr/lib/os-release"):
        resolved = inventory.files.resolve(path)
        text = inventory.contents.get(resolved or "")
        if text:
            return {k: v.strip().strip("\"'") for k, _, v in (ln.partition("=") for ln in text.splitlines())}
    return {}


def _purl(ecosystem: Ecosystem, parsed: Parsed, distro: dict[str, str]) -> str:
    name, version, arch, extra = parsed
    qualifiers = dict(extra)
    namespace = None
    if arch:
        qualifiers["arch"] = arch
    if ecosystem in (Ecosystem.DEB, Ecosystem.APK, Ecosystem.RPM):
        namespace = distro.get("ID") or {"deb": "debian", "apk": "alpine", "rpm": "redhat"}[ecosystem]
        if distro.get("VERSION_ID"):
            qualifiers["distro"] = f"{namespace}-{distro['VERSION_ID']}"
    if ecosystem == Ecosystem.PYPI:
        name = re.sub(r"[-_.]+", "-", name).lower()  # the purl spec's (and PEP 503's) pypi name
    return PackageURL(
        type=ecosystem.value, namespace=namespace, name=name, version=version, qualifiers=qualifiers
    ).to_string()


# -- assembly -------------------------------------------------------------------------------------

DATABASES: dict[str, tuple[Ecosystem, Callable[[str], list[Parsed]]]] = {
    DPKG_STATUS: (Ecosystem.DEB, dpkg_packages),
    APK_INSTALLED: (Ecosystem.APK, apk_packages),
    "/var/lib/rpm/rpmdb.sqlite": (Ecosystem.RPM, rpm_packages),
    "/usr/lib/sysimage/rpm/rpmdb.sqlite": (Ecosystem.RPM, rpm_packages),
}
PER_FILE: dict[str, tuple[Ecosystem, Callable[[str], Parsed | None]]] = {
    "dpkg-status.d": (Ecosystem.DEB, lambda text: next(iter(dpkg_packages(text)), None)),
    "python": (Ecosystem.PYPI, python_package),
    "r": (Ecosystem.CRAN, r_package),
}


def build_sbom(inventory: Inventory) -> Sbom:
    distro = _os_release(inventory)
    sbom = Sbom(
        image=inventory.reference,
        digest=inventory.manifest_digest,
        layers=[layer.digest for layer in inventory.layers],
    )

    def add(ecosystem: Ecosystem, parsed: Parsed, layer: int, path: str) -> None:
        sbom.packages.append(
            Package(
                ecosystem=ecosystem,
                name=parsed[0],
                version=parsed[1],
                purl=_purl(ecosystem, parsed, distro),
                layer=layer,
                path=path,
            )
        )

    for path, (ecosystem, parse) in DATABASES.items():
        if path not in inventory.contents:
            if inventory.files.get(path) is not None:
                cap = KINDS[capture_kind(path) or ""].cap
                sbom.notes.append(f"{path}: not read (larger than {cap} bytes)")
            continue
        since: dict[tuple[str, str], tuple[str, int]] = {}  # (name, arch) -> (version, from layer)
        try:
            for index, scan in enumerate(inventory.layer_scans):
                if scan is not None and path in scan.contents:
                    for name, version, arch, _ in parse(scan.contents[path]):
                        if since.get((name, arch), ("", 0))[0] != version:
                            since[(name, arch)] = (version, index)
            for parsed in parse(inventory.contents[path]):
                add(ecosystem, parsed, since[(parsed[0], parsed[2])][1], path)
        except (sqlite3.Error, struct.error, ValueError) as err:
            sbom.notes.append(f"{path}: not read ({err})")

    for path, text in inventory.contents.items():
        kind = capture_kind(path)
        if kind in PER_FILE:
            ecosystem, parse_file = PER_FILE[kind]
            node = inventory.files.get(path)
            parsed_file = parse_file(text)
            if parsed_file is not None and node is not None:
                add(ecosystem, parsed_file, node.layer, path)

    for path, _ in inventory.files.nodes.kinds(".json"):
        if path.endswith(".json") and "/conda-meta/" in path and (found := conda_package(path)):
            add(Ecosystem.CONDA, found, inventory.files.nodes[path].layer, path)

    sbom.packages.sort(key=lambda p: (p.ecosystem, p.name.lower(), p.version, p.path))
    return sbom


# -- CycloneDX ------------------------------------------------------------------------------------


def render_cyclonedx(sbom: Sbom) -> str:
    """The SBOM as CycloneDX 1.6 JSON: the image is the subject, each package a library component
    with the layer that added it and the file that names it as properties."""
    bom = Bom()
    bom.metadata.component = CdxComponent(
        type=ComponentType.CONTAINER,
        name=sbom.image,
        version=sbom.digest or None,
        bom_ref=sbom.digest or sbom.image,
    )
    bom.metadata.tools.components.add(
        CdxComponent(
            type=ComponentType.APPLICATION,
            name="studio-image",
            supplier=OrganizationalEntity(name="studio-image-pipeline"),
        )
    )
    components = []
    for index, package in enumerate(sbom.packages):
        components.append(
            CdxComponent(
                type=ComponentType.LIBRARY,
                name=package.name,
                version=package.version,
                purl=PackageURL.from_string(package.purl),
                bom_ref=f"{package.purl}#{index}",
                properties=[
                    Property(name="studio-image:layer", value=str(package.layer)),
                    Property(name="studio-image:layer-digest", value=sbom.layers[package.layer]),
                    Property(name="studio-image:path", value=package.path),
                ],
            )
        )
    bom.components.update(components)
    bom.register_dependency(bom.metadata.component, components)  # the image holds each package
    return make_outputter(bom, OutputFormat.JSON, CDX_VERSION).output_as_string(indent=2)


def write_sbom(sbom: Sbom, path: Path) -> None:
    try:
        path.write_text(render_cyclonedx(sbom) + "\n")
    except OSError as err:
        raise OutputUnwritable(f"cannot write the SBOM to {path}: {err.strerror}") from err
