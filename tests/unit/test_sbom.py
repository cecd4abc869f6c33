"""The SBOM from the scan's captures: which files are kept (bounded), what each names, which layer."""

from __future__ import annotations

import json

import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

from studio_image.cli import main
from studio_image.errors import LayerLimitExceeded
from studio_image.limits import ScanLimits
from studio_image.sbom import build_sbom, render_cyclonedx
from studio_image.scan.packages import KINDS, capture_kind, maybe_package
from studio_image_sandbox.ocibuild import Layer
from tests.conftest import inspect_reference, scan_tar_layer

OS_RELEASE = 'ID=debian\nVERSION_ID="12"\n'


def stanza(name: str, version: str, status: str = "install ok installed", arch: str = "amd64") -> str:
    return f"Package: {name}\nStatus: {status}\nArchitecture: {arch}\nVersion: {version}\n"


def status(*stanzas: str) -> str:
    return "\n".join(stanzas)


def listed(sbom, ecosystem: str) -> list[tuple[str, str, int]]:
    return [(p.name, p.version, p.layer) for p in sbom.packages if p.ecosystem == ecosystem]


def test_a_dpkg_package_is_attributed_to_the_layer_that_installed_its_final_version(make_image):
    # Given a base layer with libc6 and curl, then a layer that upgrades curl, adds jq and purges a
    # package (dpkg keeps its config-files stanza), all rewriting /var/lib/dpkg/status
    base = Layer().file("etc/os-release", OS_RELEASE)
    base.file("var/lib/dpkg/status", status(stanza("libc6", "2.36-9"), stanza("curl", "7.88.1-10")))
    upgrade = Layer().file(
        "var/lib/dpkg/status",
        status(
            stanza("libc6", "2.36-9"),
            stanza("curl", "7.88.1-10+deb12u5"),
            stanza("jq", "1.6-2.1"),
            stanza("vim", "2:9.0.1378-2", status="deinstall ok config-files"),
        ),
    )
    # When the SBOM is built
    sbom = build_sbom(inspect_reference(make_image(base, upgrade)))
    # Then each installed package names the layer that gave it its final version
    assert listed(sbom, "deb") == [
        ("curl", "7.88.1-10+deb12u5", 1),
        ("jq", "1.6-2.1", 1),
        ("libc6", "2.36-9", 0),
    ]
    assert sbom.packages[0].purl == "pkg:deb/debian/curl@7.88.1-10%2Bdeb12u5?arch=amd64&distro=debian-12"


def test_each_ecosystem_is_read_from_its_own_files(make_image):
    # Given an Alpine database, a distroless status.d, Python, conda and R metadata
    apk = "C:Q1abc=\nP:musl\nV:1.2.4-r2\nA:x86_64\n\nP:busybox\nV:1.36.1-r5\nA:x86_64\n"
    metadata = "Metadata-Version: 2.1\nName: Typing_Extensions\nVersion: 4.12.2\n\n" + "long text\n" * 10
    description = "Package: jsonlite\nVersion: 1.8.8\nTitle: A JSON parser\n"
    layer = (
        Layer()
        .file("lib/apk/db/installed", apk)
        .file("var/lib/dpkg/status.d/base-files", stanza("base-files", "12.4+deb12u5"))
        .file("var/lib/dpkg/status.d/base-files.md5sums", "d41d8cd98f00b204e9800998ecf8427e  etc/x\n")
        .file("opt/conda/lib/python3.11/site-packages/typing_extensions-4.12.2.dist-info/METADATA", metadata)
        .file("usr/lib/python3/dist-packages/six-1.16.0.egg-info", "Metadata-Version: 1.1\nName: six\n")
        .file("opt/conda/conda-meta/numpy-base-1.26.4-py311h1f2ed15_0.json", "{}")
        .file("opt/conda/lib/R/library/jsonlite/DESCRIPTION", description)
    )
    # When the SBOM is built
    sbom = build_sbom(inspect_reference(make_image(layer)))
    # Then every package is listed once, under its ecosystem; a METADATA without a version is not
    assert [(p.ecosystem.value, p.name, p.version) for p in sbom.packages] == [
        ("apk", "busybox", "1.36.1-r5"),
        ("apk", "musl", "1.2.4-r2"),
        ("conda", "numpy-base", "1.26.4"),
        ("cran", "jsonlite", "1.8.8"),
        ("deb", "base-files", "12.4+deb12u5"),
        ("pypi", "Typing_Extensions", "4.12.2"),
    ]
    purls = {p.name: p.purl for p in sbom.packages}
    assert purls["Typing_Extensions"] == "pkg:pypi/typing-extensions@4.12.2"
    assert purls["numpy-base"] == "pkg:conda/numpy-base@1.26.4?build=py311h1f2ed15_0"
    assert purls["musl"] == "pkg:apk/alpine/musl@1.2.4-r2?arch=x86_64"


def test_a_deleted_package_file_is_not_listed(make_image):
    # Given a dist-info written by one layer and removed by the next (pip uninstall)
    site = "usr/lib/python3/dist-packages/requests-2.31.0.dist-info"
    first = Layer().file(f"{site}/METADATA", "Name: requests\nVersion: 2.31.0\n")
    second = Layer().whiteout(site)
    # Then the SBOM does not list it
    assert build_sbom(inspect_reference(make_image(first, second))).packages == []


def test_captures_are_bounded_per_kind_and_per_layer():
    # Given a METADATA larger than its cap, and a dpkg status larger than its cap
    big_metadata = "Name: big\nVersion: 1\n\n" + "x" * KINDS["python"].cap
    layer = (
        Layer()
        .file("usr/lib/python3/dist-packages/big-1.dist-info/METADATA", big_metadata)
        .file("var/lib/dpkg/status", "x" * (KINDS["dpkg"].cap + 1))
    )
    scan = scan_tar_layer(layer)
    # Then the METADATA keeps only its header, the status is not kept at all
    assert scan.contents == {
        "/usr/lib/python3/dist-packages/big-1.dist-info/METADATA": "Name: big\nVersion: 1"
    }
    # And a layer whose package data exceeds the per-layer budget is refused, as other limits are
    with pytest.raises(LayerLimitExceeded, match="package data"):
        scan_tar_layer(layer, limits=ScanLimits(package_bytes=1000))
    # And with capture off nothing is kept
    assert scan_tar_layer(layer, limits=ScanLimits(package_bytes=0)).contents == {}


def test_a_database_too_large_to_capture_is_noted(make_image):
    layer = Layer().file("var/lib/dpkg/status", "x" * (KINDS["dpkg"].cap + 1))
    sbom = build_sbom(inspect_reference(make_image(layer)))
    assert sbom.packages == []
    assert sbom.notes == [f"/var/lib/dpkg/status: not read (larger than {KINDS['dpkg'].cap} bytes)"]


def test_the_cyclonedx_document_is_valid_and_names_layers(make_image):
    # Given an image with a dpkg package and a Python distribution in separate layers
    base = (
        Layer().file("etc/os-release", OS_RELEASE).file("var/lib/dpkg/status", stanza("bash", "5.2.15-2+b7"))
    )
    venv = Layer().file(
        "opt/venv/lib/python3.11/site-packages/six-1.16.0.dist-info/METADATA", "Name: six\nVersion: 1.16.0\n"
    )
    sbom = build_sbom(inspect_reference(make_image(base, venv)))
    # When it is rendered as CycloneDX
    document = render_cyclonedx(sbom)
    # Then the CycloneDX 1.6 schema accepts it, and each component names its layer by digest
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(document) is None
    components = json.loads(document)["components"]
    assert sorted(c["purl"] for c in components) == [
        "pkg:deb/debian/bash@5.2.15-2%2Bb7?arch=amd64&distro=debian-12",
        "pkg:pypi/six@1.16.0",
    ]
    six = next(c for c in components if c["name"] == "six")
    assert {p["name"]: p["value"] for p in six["properties"]}["studio-image:layer-digest"] == sbom.layers[1]


def test_an_sbom_that_cannot_be_written_is_a_clear_error(make_image, tmp_path, capsys):
    # Given a path in a directory that does not exist
    reference = make_image(Layer().file("var/lib/dpkg/status", stanza("bash", "5.2.15-2+b7")))
    # When check is asked to write the SBOM there
    code = main(["check", reference, "--no-cache", "--sbom", str(tmp_path / "missing" / "sbom.json")])
    # Then it exits as for an unreadable input, naming the problem, without a traceback
    assert code == 2
    assert "OutputUnwritable: cannot write the SBOM to" in capsys.readouterr().err


@pytest.mark.parametrize(
    "path",
    [
        "/var/lib/dpkg/status",
        "/var/lib/dpkg/status.d/base",
        "/lib/apk/db/installed",
        "/usr/lib/sysimage/rpm/rpmdb.sqlite",
        "/opt/conda/lib/python3.11/site-packages/six-1.16.0.dist-info/METADATA",
        "/usr/lib/python3/dist-packages/PyYAML-6.0.egg-info/PKG-INFO",
        "/usr/lib/python3/dist-packages/distro-1.8.0.egg-info",
        "/usr/local/lib/R/site-library/jsonlite/DESCRIPTION",
    ],
)
def test_the_quick_test_by_name_lets_through_every_kind_of_package_file(path):
    # Given a path of each kind: the scan asks the names first, the pattern only where they allow
    assert capture_kind(path) is not None
    assert maybe_package(path, path.rpartition("/")[2])
    assert scan_tar_layer(Layer().file(path.lstrip("/"), "Package: x\n")).contents


def test_the_quick_test_by_name_rules_out_ordinary_files():
    assert not maybe_package("/usr/lib/python3/dist-packages/six.py", "six.py")
