"""Images made by umoci, skopeo and GNU tar, read through every transport and a real registry."""

from __future__ import annotations

import json
import os
import tarfile

import pytest

from studio_image.cli import main
from studio_image.engine import inspect_image
from studio_image.errors import RegistryAuthFailed
from studio_image.oci import Platform
from studio_image.sources import SourceOptions, open_source
from studio_image_sandbox.ocibuild import ImageSpec, build_image
from tests.integration.conftest import LONG_DIR, run

pytestmark = pytest.mark.tools

EXIT_UID_70000 = 1  # the umoci image is readable, and fails owner-id-range for its UID 70000 file


def inspect(reference: str, **kwargs):
    options = kwargs.pop("options", None)
    with open_source(reference, options) as source:
        return inspect_image(source, **kwargs)


def check_json(capsys, *argv: str) -> tuple[int, dict | None, str]:
    code = main(["check", *argv, "--no-cache", "--format", "json"])
    out, err = capsys.readouterr()
    return code, json.loads(out) if out else None, err


def test_umoci_image_is_read_in_full(umoci_image):
    # Given a two-layer umoci image whose second layer deletes /opt/ml
    inventory = inspect(umoci_image.reference)
    files = inventory.files
    # Then the final filesystem reflects the whiteout, and every entry kind is recorded
    assert len(inventory.layers) == 2
    assert files.get("/opt/ml") is None and files.get("/opt/ml/leftover.txt") is None
    assert inventory.layer_scans[1].whiteouts == ["/opt/ml"]
    assert files.get(f"/{LONG_DIR}/module_with_a_long_name.py").entry.kind == "file"
    assert files.get("/opt/conda/bin/python").entry.link == "python3.11"
    tool, hardlink = files.get("/usr/bin/tool").entry, files.get("/usr/bin/tool-hardlink").entry
    assert "hardlink" in (tool.kind, hardlink.kind)  # whichever umoci met second links to the first
    owner = files.get("/srv/data/owned-by-70000").entry
    assert (owner.uid, owner.gid) == (70000, 70000)
    assert (
        '"ipykernel_launcher"' in inventory.contents["/opt/conda/share/jupyter/kernels/python3/kernel.json"]
    )


def test_umoci_image_findings_name_the_uid_70000_file_and_its_layer(umoci_image, capsys):
    # Given the umoci image: a file owned by 70000:70000, /opt/ml written then deleted, a kernelspec
    code, report, _ = check_json(capsys, umoci_image.reference)
    # Then the only finding is the ownership, at its path and layer; the kernel is what will register
    assert code == 1
    assert [(f["rule"], f["path"], f["layer"]) for f in report["findings"]] == [
        ("owner-id-range", "/srv/data/owned-by-70000", 0)
    ]
    assert report["app_image_config"]["KernelGatewayImageConfig"]["KernelSpecs"] == [
        {"Name": "python3", "DisplayName": "Python 3 (ipykernel)"}
    ]


def test_every_transport_reads_the_same_image(umoci_image, registry, tmp_path):
    # Given the umoci image copied by skopeo to each transport
    layout = umoci_image.reference
    references = {
        "oci": layout,
        "oci-archive": f"oci-archive:{tmp_path / 'image.tar'}:studio",
        "docker-archive": f"docker-archive:{tmp_path / 'docker.tar'}",
        "zstd": f"oci:{tmp_path / 'zstd'}:studio",
        "registry": f"docker://{registry.host}/team/studio:1",
    }
    run("skopeo", "copy", layout, references["oci-archive"])
    run("skopeo", "copy", layout, f"{references['docker-archive']}:team/studio:1")
    run("skopeo", "copy", "--dest-compress", "--dest-compress-format", "zstd", layout, references["zstd"])
    registry.push(layout, "team/studio:1")
    # When each is inspected
    inventories = {name: inspect(reference) for name, reference in references.items()}
    # Then they agree on the final filesystem, and the layers' compression is what each tool wrote
    expected = {path: node.entry for path, node in inventories["oci"].files.nodes.items()}
    for name, inventory in inventories.items():
        assert {p: n.entry for p, n in inventory.files.nodes.items()} == expected, name
    assert {layer.compression for layer in inventories["docker-archive"].layers} == {"none"}
    assert {layer.compression for layer in inventories["zstd"].layers} == {"zstd"}
    assert {layer.compression for layer in inventories["registry"].layers} == {"gzip"}


def test_a_registry_image_by_digest_and_a_missing_one(umoci_image, registry, capsys):
    registry.push(umoci_image.reference, "team/bydigest:1")
    digest = inspect(f"docker://{registry.host}/team/bydigest:1").digest
    code, report, _ = check_json(capsys, f"docker://{registry.host}/team/bydigest@{digest}")
    assert code == EXIT_UID_70000 and report["digest"] == digest
    code, _, err = check_json(capsys, f"docker://{registry.host}/team/absent:1")
    assert code == 2 and "NotFound" in err


def test_basic_auth_registry(umoci_image, basic_auth_registry, capsys):
    registry = basic_auth_registry
    registry.push(umoci_image.reference, "private/studio:1")
    reference = f"docker://{registry.host}/private/studio:1"
    # With the right credentials the image reads; without, or with wrong ones, a clear refusal
    code, report, _ = check_json(capsys, reference, "--creds", "tester:s3cret")
    assert code == EXIT_UID_70000 and report["user"]["uid"] == 1000
    code, _, err = check_json(capsys, reference)
    assert code == 2 and "RegistryAuthFailed" in err and "--creds" in err
    with pytest.raises(RegistryAuthFailed):
        inspect(reference, options=SourceOptions(username="tester", password="wrong"))


def test_bearer_token_registry(umoci_image, bearer_registry, token_service, capsys):
    # Given a registry that answers 401 with a Bearer challenge naming a token service
    bearer_registry.push(umoci_image.reference, "private/studio:1")
    reference = f"docker://{bearer_registry.host}/private/studio:1"
    before = token_service.requests
    # When checked with credentials, the token is fetched and the image reads
    code, report, _ = check_json(capsys, reference, "--creds", "tester:t0ken")
    assert code == EXIT_UID_70000 and report["user"]["name"] == "sagemaker-user"
    assert token_service.requests > before
    # Without them the token service refuses, and the check says so
    code, _, err = check_json(capsys, reference)
    assert code == 2 and "RegistryAuthFailed" in err


def test_an_index_resolves_to_the_requested_platform(multi_platform, registry):
    for reference in (
        multi_platform.reference,
        f"oci:{multi_platform.layout}:multi-unknown",
        registry.push(multi_platform.reference, "team/multi:1", all_platforms=True),
    ):
        amd64 = inspect(reference)
        arm64 = inspect(reference, platform=Platform(architecture="arm64"))
        assert [str(p) for p in amd64.platforms_offered] == ["linux/arm64", "linux/amd64"]
        assert (str(amd64.platform), str(arm64.platform)) == ("linux/amd64", "linux/arm64")
        assert amd64.digest != amd64.manifest_digest  # the index's digest, and the image's


def test_an_arm64_only_index_fails_the_platform_rule(multi_platform, capsys, tmp_path):
    # Given an index that offers only arm64
    arm64_only = f"oci:{tmp_path / 'arm'}:arm64"
    run("skopeo", "copy", f"oci:{multi_platform.layout}:arm64", arm64_only)
    code, report, _ = check_json(capsys, arm64_only)
    assert code == 1
    assert "platform" in {f["rule"] for f in report["findings"] if f["severity"] == "error"}


@pytest.mark.tools
@pytest.mark.parametrize("tar_format", ["gnu", "posix"])
def test_gnu_tar_layers_with_long_names_hardlinks_and_big_ids(tmp_path, tar_format):
    # Given a layer written by GNU tar itself
    root = tmp_path / "root"
    deep = root / ("d" * 60) / ("e" * 60) / ("f" * 60)
    deep.mkdir(parents=True)
    (deep / "file.txt").write_text("data")
    (root / "opt").mkdir()
    (root / "opt" / "link").symlink_to("/" + "t" * 150)
    os.link(deep / "file.txt", root / "opt" / "hard")
    os.chown(deep / "file.txt", 3_000_000, 100)  # beyond the octal uid field
    layer = tmp_path / "layer.tar"
    run("tar", f"--format={tar_format}", "-cf", layer, "-C", root, ".")
    reference = build_image(tmp_path / "img", ImageSpec(layers=[layer.read_bytes()]))
    # When scanned
    files = inspect(reference).files
    long_path = "/" + "/".join(["d" * 60, "e" * 60, "f" * 60, "file.txt"])
    # Then long names, links and large ids survive exactly
    assert files.get(long_path).entry.uid == 3_000_000
    assert files.get("/opt/link").entry.link == "/" + "t" * 150
    pair = {files.get(long_path).entry, files.get("/opt/hard").entry}
    assert {e.kind for e in pair} == {"file", "hardlink"}  # tar links whichever it meets second
    (link,) = [e for e in pair if e.kind == "hardlink"]
    assert link.link == ({long_path, "/opt/hard"} - {link.path}).pop()
    with tarfile.open(layer) as archive:  # the same number of members as tar itself lists
        assert len(files) == len({m.name for m in archive.getmembers()})
