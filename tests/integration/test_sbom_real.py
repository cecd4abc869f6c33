"""The SBOM of real package databases, compared with what the package managers themselves report:
a Debian root filesystem made by mmdebstrap (dpkg-query), a venv made by pip (importlib.metadata,
as `pip list --path` reads it) and an rpm database written by rpm (rpm -qa). The Debian image is the
venv-wheel case `make test-images` builds (scripts/build-test-images.sh), which keeps beside it the
base's dpkg database and the venv as they were written."""

from __future__ import annotations

import json
import sys
from importlib.metadata import distributions
from pathlib import Path

import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

from studio_image.cli import main
from studio_image.sbom import build_sbom
from studio_image_sandbox.ocibuild import Layer
from tests.conftest import inspect_reference
from tests.integration.conftest import run

SITE = "lib/python3.11/site-packages"
VENV_IMAGE = "venv-wheel"  # the Debian base, then a layer with /opt/venv (pip install ipykernel)


@pytest.fixture(scope="session")
def debian_sbom(test_images: Path):
    return build_sbom(inspect_reference(f"oci:{test_images / 'layout'}:{VENV_IMAGE}"))


def test_debian_packages_are_what_dpkg_query_lists(test_images, debian_sbom):
    # Given the dpkg database mmdebstrap wrote, and the image umoci packed from that root filesystem
    listed = run(
        "dpkg-query",
        f"--admindir={test_images / 'sbom/dpkg'}",
        "-W",
        "-f",
        "${db:Status-Status} ${Package} ${Version}\n",
    )
    expected = sorted(
        tuple(line.split()[1:]) for line in listed.splitlines() if line.split()[0] != "config-files"
    )
    # Then the SBOM's Debian packages are exactly those, all added by the first layer
    found = sorted((p.name, p.version) for p in debian_sbom.packages if p.ecosystem == "deb")
    assert len(expected) > 50
    assert found == expected
    assert {p.layer for p in debian_sbom.packages if p.ecosystem == "deb"} == {0}
    assert all(p.purl.endswith("&distro=debian-12") for p in debian_sbom.packages if p.ecosystem == "deb")


def test_python_distributions_are_what_pip_lists_for_the_venv(test_images, debian_sbom):
    # Given the venv pip installed ipykernel and its dependencies into (with its own pip)
    site = test_images / "sbom" / "venv" / SITE
    expected = sorted((d.metadata["Name"], d.version) for d in distributions(path=[str(site)]))
    pip_list = json.loads(run(sys.executable, "-m", "pip", "list", "--path", site, "--format", "json"))
    # Then the SBOM lists the venv's distributions as pip does, from the venv's layer
    in_venv = [p for p in debian_sbom.packages if p.path.startswith(f"/opt/venv/{SITE}/")]
    assert sorted((p.name, p.version) for p in in_venv) == expected
    assert sorted((p.name.lower(), p.version) for p in in_venv) == sorted(
        (d["name"].lower(), d["version"]) for d in pip_list
    )
    assert {"ipykernel", "jupyter_client"} <= {p.name.replace("-", "_").lower() for p in in_venv}
    assert {p.layer for p in in_venv} == {1}


def test_check_writes_a_valid_cyclonedx_sbom(test_images, tmp_path, capsys):
    # When the CLI checks the image with --sbom
    sbom_file = tmp_path / "sbom.cdx.json"
    main(["check", f"oci:{test_images / 'layout'}:{VENV_IMAGE}", "--no-cache", "--sbom", str(sbom_file)])
    capsys.readouterr()
    # Then the file is CycloneDX that the schema accepts, with a component per package
    document = sbom_file.read_text()
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(document) is None
    purls = {c["purl"] for c in json.loads(document)["components"]}
    (ipykernel,) = [
        d for d in distributions(path=[str(test_images / "sbom" / "venv" / SITE)]) if d.name == "ipykernel"
    ]
    assert f"pkg:pypi/ipykernel@{ipykernel.version}" in purls
    assert any(purl.startswith("pkg:deb/debian/python3.11@") for purl in purls)


SPEC = """Name: {name}
Version: {version}
Release: {release}
{epoch}Summary: test package
License: MIT
BuildArch: noarch
%description
test package
%files
"""


def test_rpm_packages_are_what_rpm_lists(tmp_path, make_image):
    # Given an rpmdb.sqlite that rpm itself wrote, holding two packages rpmbuild made
    top, db = tmp_path / "rpmbuild", tmp_path / "db"
    for name, version, release, epoch in (
        ("bash", "5.2.26", "3.fc40", ""),
        ("openssl", "3.2.2", "1.el9", "1"),
    ):
        spec = tmp_path / f"{name}.spec"
        spec.write_text(
            SPEC.format(
                name=name, version=version, release=release, epoch=f"Epoch: {epoch}\n" if epoch else ""
            )
        )
        run("rpmbuild", "-bb", "--quiet", "--define", f"_topdir {top}", spec)
    db.mkdir()
    run("rpm", "--dbpath", db, "--initdb")
    run("rpm", "--dbpath", db, "-i", "--justdb", "--nodeps", "--noscripts", *sorted(top.glob("RPMS/*/*.rpm")))
    listed = run("rpm", "--dbpath", db, "-qa", "--qf", "%{NAME} %{VERSION}-%{RELEASE}\n")
    # When an image holds it at /usr/lib/sysimage/rpm
    layer = Layer().file("usr/lib/sysimage/rpm/rpmdb.sqlite", (db / "rpmdb.sqlite").read_bytes())
    sbom = build_sbom(inspect_reference(make_image(layer)))
    # Then the SBOM's rpm packages are the ones rpm lists, epochs in the purl
    assert sorted((p.name, p.version) for p in sbom.packages) == sorted(
        tuple(line.split()) for line in listed.splitlines()
    )
    assert "pkg:rpm/redhat/openssl@3.2.2-1.el9?arch=noarch&epoch=1" in {p.purl for p in sbom.packages}
