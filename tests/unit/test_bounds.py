"""Bounded work and typed errors on hostile image metadata: nested indexes, layer counts, whiteouts."""

from __future__ import annotations

import io
import json
import tarfile

import pytest

from studio_image.engine import inspect_image
from studio_image.errors import CorruptLayer, LayerLimitExceeded, ManifestInvalid
from studio_image.inventory import merge_layers
from studio_image.limits import ScanLimits
from studio_image.oci import OCI_INDEX
from studio_image.scan.models import FILE
from studio_image.sources import SourceOptions, open_source
from studio_image_sandbox.ocibuild import ImageSpec, Layer, Layout
from tests.conftest import inspect_reference, scan_tar_layer


def nested_layout(tmp_path, depth: int) -> str:
    """An OCI layout whose images sit `depth` image indexes deep (not counting index.json), the
    innermost offering arm64 first, then amd64."""
    layout = Layout(tmp_path)
    amd = layout.image(ImageSpec(layers=[Layer().file("amd64-image", b"a")]))
    arm = layout.image(ImageSpec(layers=[Layer().file("arm64-image", b"a")], architecture="arm64"))
    written = layout.index([(arm, "linux/arm64"), (amd, "linux/amd64")])
    for _ in range(depth - 1):
        doc = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [written.descriptor()]}
        written = layout.blob(json.dumps(doc).encode(), OCI_INDEX)
    layout.tag(written, "latest")
    return f"oci:{tmp_path}:latest"


@pytest.mark.parametrize("depth", [2, 3])
def test_a_nested_image_index_resolves_to_the_platform(tmp_path, depth):
    # Given an image index holding an index (valid OCI) that offers arm64 first, then amd64
    inventory = inspect_reference(nested_layout(tmp_path, depth))
    # Then the amd64 image is read
    assert inventory.files.get("/amd64-image").entry.kind == FILE


def test_indexes_nested_past_the_limit_are_refused(tmp_path):
    with pytest.raises(ManifestInvalid, match="nested more than"):
        inspect_reference(nested_layout(tmp_path, ScanLimits.max_index_depth + 2))


def test_a_manifest_with_more_layers_than_the_limit_is_refused(make_image):
    reference = make_image(*[Layer().file(f"f{i}", b"x") for i in range(ScanLimits.max_layers + 1)])
    with pytest.raises(ManifestInvalid, match="layers"):
        inspect_reference(reference)


@pytest.mark.parametrize("name", ["etc/.wh..", ".wh..", ".wh...", "etc/.wh."])
def test_a_whiteout_of_dot_or_dot_dot_is_refused_as_containerd_refuses_it(name):
    # containerd: "invalid whiteout name" (its WhiteoutParent, WhiteoutRoot, WhiteoutCurrentDirectory)
    with pytest.raises(CorruptLayer, match="invalid whiteout name"):
        scan_tar_layer(Layer().dir("etc").file(name, b""))


def test_a_flood_of_pax_records_stops_at_the_limit():
    # Given a layer of 20 entries with 10 PAX records each
    # Then it is read under a limit it fits, and refused under one it does not
    assert len(scan_tar_layer(flood(20), "none", limits=ScanLimits(max_pax_records=1000)).entries) == 20
    with pytest.raises(LayerLimitExceeded, match="PAX records"):
        scan_tar_layer(flood(20), "none", limits=ScanLimits(max_pax_records=100))


def flood(entries: int) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for i in range(entries):
            info = tarfile.TarInfo(f"f{i}")
            info.pax_headers = {f"k{n}": "v" for n in range(10)}
            tar.addfile(info)
    return buffer.getvalue()


def test_the_filesystem_stops_at_its_name_limit():
    # Given one file three directories deep, none of them listed: four names
    scan = scan_tar_layer(Layer().file("a/b/c/f", b"x"))
    assert len(merge_layers([scan], max_names=4)[0]) == 1
    with pytest.raises(LayerLimitExceeded, match="names"):
        merge_layers([scan], max_names=3)


def test_the_layers_of_an_image_together_stop_at_the_image_entry_limit(make_image):
    # Given three layers of ten files each
    layers = [Layer() for _ in range(3)]
    for n, layer in enumerate(layers):
        for i in range(10):
            layer.file(f"l{n}/f{i}", b"")
    reference = make_image(*layers)
    # Then thirty entries in all are read, and a limit of 29 stops the image
    with open_source(reference) as source:
        assert len(inspect_image(source, limits=ScanLimits(max_image_entries=30)).files) == 30
    with open_source(reference) as source, pytest.raises(LayerLimitExceeded, match="in all"):
        inspect_image(source, limits=ScanLimits(max_image_entries=29))


def test_source_limits_come_from_the_run_not_constants(tmp_path, make_image):
    # Given an image behind two nested indexes, and a plain image
    nested = nested_layout(tmp_path, 2)
    plain = make_image(Layer().file("a", b"a"), Layer().file("b", b"b"))
    # When the run allows one nested index, a 100-byte manifest, one layer
    one_deep = SourceOptions(limits=ScanLimits(max_index_depth=1))
    tiny = SourceOptions(limits=ScanLimits(max_manifest_bytes=100))
    one_layer = SourceOptions(limits=ScanLimits(max_layers=1))
    # Then each is refused by the run's limit, and read under the defaults
    with pytest.raises(ManifestInvalid, match="nested more than 1 deep"):
        inspect_image(open_source(nested, one_deep))
    with pytest.raises(ManifestInvalid, match="over 100"):
        inspect_image(open_source(plain, tiny))
    with pytest.raises(ManifestInvalid, match="2 layers, over 1"):
        inspect_image(open_source(plain, one_layer))
    assert len(inspect_image(open_source(plain)).layers) == 2


def test_a_docker_archive_config_over_the_limit_is_refused_not_truncated(tmp_path):
    # Given a docker-archive whose config is larger than the run allows
    archive = tmp_path / "image.tar"
    config = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers"}}).encode()
    with tarfile.open(archive, "w") as tar:
        for name, data in (("manifest.json", b'[{"Config": "c.json", "Layers": []}]'), ("c.json", config)):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    small = SourceOptions(limits=ScanLimits(max_manifest_bytes=len(config) - 1))
    # Then it is ManifestInvalid saying so, and read under a limit it fits
    with pytest.raises(ManifestInvalid, match="over"):
        inspect_image(open_source(f"docker-archive:{archive}", small))
    fits = SourceOptions(limits=ScanLimits(max_manifest_bytes=len(config)))
    assert inspect_image(open_source(f"docker-archive:{archive}", fits)).layers == []


def test_whiteouts_count_toward_the_entry_limit():
    # Given a layer of one file and three whiteouts: four members
    layer = Layer().file("f", b"").whiteout("a").whiteout("b").whiteout("c")
    assert len(scan_tar_layer(layer, limits=ScanLimits(max_entries=4)).whiteouts) == 3
    # Then a limit of three stops it: a flood of whiteouts costs as much as a flood of files
    with pytest.raises(LayerLimitExceeded, match="more than 3 entries"):
        scan_tar_layer(layer, limits=ScanLimits(max_entries=3))


def test_whiteouts_stop_at_their_own_limit():
    # Given three whiteouts: each is kept as its path until the layer is applied
    layer = Layer().file("f", b"").whiteout("a").whiteout("b").whiteout("c")
    assert len(scan_tar_layer(layer, limits=ScanLimits(max_whiteouts=3)).whiteouts) == 3
    with pytest.raises(LayerLimitExceeded, match="more than 2 whiteouts"):
        scan_tar_layer(layer, limits=ScanLimits(max_whiteouts=2))


def test_a_link_target_longer_than_path_max_is_refused():
    # Linux refuses a symlink whose target is longer than PATH_MAX, as containerd then does
    target = "t/" * 2100
    scan_tar_layer(Layer().symlink("l", target[:4096]))
    with pytest.raises(LayerLimitExceeded, match="link target longer than 4096"):
        scan_tar_layer(Layer().symlink("l", target))


def test_the_characters_of_a_layers_paths_stop_at_the_limit():
    # Given nine files of 100-character names in the root, and a link named with 10 characters to a
    # target of 10: 920 held (the root's directory is empty)
    layer = Layer().symlink("d" * 10, "t" * 10)
    for i in range(9):
        layer.file(f"{i}" * 100, b"")
    assert len(scan_tar_layer(layer, limits=ScanLimits(max_layer_path_chars=920)).entries) == 10
    with pytest.raises(LayerLimitExceeded, match="characters of paths"):
        scan_tar_layer(layer, limits=ScanLimits(max_layer_path_chars=919))


def test_a_directory_is_held_once_for_a_run_of_its_entries():
    # Given ten files in one directory of 100 characters: held as the directory once and ten names
    # of 2 (121), where their full paths would be 1,040
    layer = Layer()
    for i in range(10):
        layer.file("d" * 100 + f"/f{i}", b"")
    assert len(scan_tar_layer(layer, limits=ScanLimits(max_layer_path_chars=300)).entries) == 10


def test_the_layers_of_an_image_together_stop_at_the_path_character_limit(make_image):
    # Given two layers of ten paths (/l0/f000000) held as their directory once (3 characters) and
    # ten names of 7, and a whiteout of 6: 2 * 73 + 6
    layers = [Layer() for _ in range(2)]
    for n, layer in enumerate(layers):
        for i in range(10):
            layer.file(f"l{n}/f{i:06}", b"")
    layers[1].whiteout("l0/f0")
    reference = make_image(*layers)
    with open_source(reference) as source:
        assert inspect_image(source, limits=ScanLimits(max_image_path_chars=152)).files
    with (
        open_source(reference) as source,
        pytest.raises(LayerLimitExceeded, match="characters of paths in all"),
    ):
        inspect_image(source, limits=ScanLimits(max_image_path_chars=151))


def test_a_layer_keeps_anomalies_up_to_the_limit_and_counts_the_rest():
    # Given five members whose paths escape the root
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for i in range(5):
            tar.addfile(tarfile.TarInfo(f"../f{i}"))
    # Then three are kept and the other two are counted in one more: a million odd members must
    # not cost a million findings
    scan = scan_tar_layer(buffer.getvalue(), "none", limits=ScanLimits(max_anomalies=3))
    assert [a.path for a in scan.anomalies[:3]] == ["../f0", "../f1", "../f2"]
    assert [(a.kind, a.detail) for a in scan.anomalies[3:]] == [
        ("anomalies-omitted", "2 more anomalies like these")
    ]
    assert len(scan.entries) == 5


def test_the_files_rules_read_stop_at_the_layers_capture_limit():
    # Given three files named passwd of 100 bytes each, anywhere in the layer
    layer = Layer()
    for i in range(3):
        layer.file(f"d{i}/passwd", b"u" * 100)
    assert len(scan_tar_layer(layer, limits=ScanLimits(max_captured_bytes=300)).contents) == 3
    with pytest.raises(LayerLimitExceeded, match="bytes of files rules read"):
        scan_tar_layer(layer, limits=ScanLimits(max_captured_bytes=299))
