"""Layers applied in order: whiteouts delete, opaque markers clear, later entries replace."""

from studio_image.inventory import merge_layers
from studio_image_sandbox.ocibuild import Layer
from tests.conftest import scan_tar_layer


def merged(*layers):
    files, contents = merge_layers([scan_tar_layer(layer) for layer in layers])
    return files, contents


def test_a_whiteout_deletes_a_file_and_a_whole_directory_from_lower_layers():
    files, _ = merged(
        Layer().dir("opt/ml").dir("opt/ml/model").file("opt/ml/model/m.pkl", b"m").file("etc/keep", b"k"),
        Layer().whiteout("opt/ml"),
    )
    assert sorted(files.nodes) == ["/etc/keep"]


def test_a_whiteout_removes_children_whose_parents_were_never_listed():
    # Given a layer with /a/b/c but no entries for /a or /a/b
    files, _ = merged(Layer().file("a/b/c", b"c"), Layer().whiteout("a"))
    assert len(files) == 0


def test_an_opaque_directory_hides_lower_contents_but_keeps_its_own_layer():
    files, _ = merged(
        Layer().dir("var/cache").file("var/cache/old", b"o").file("var/cache/sub/deep", b"d"),
        Layer().opaque("var/cache").file("var/cache/new", b"n"),
    )
    assert sorted(files.nodes) == ["/var/cache", "/var/cache/new"]
    assert files.get("/var/cache/new").layer == 1


def test_a_whiteout_does_not_touch_what_its_own_layer_writes():
    files, _ = merged(
        Layer().file("etc/app.conf", b"old"), Layer().whiteout("etc/app.conf").file("etc/app.conf", b"new!")
    )
    node = files.get("/etc/app.conf")
    assert (node.layer, node.entry.size) == (1, 4)


def test_a_later_entry_replaces_an_earlier_one_and_a_file_over_a_directory_drops_its_subtree():
    files, _ = merged(Layer().dir("srv").file("srv/a", b"a"), Layer().file("srv", b"now a file"))
    assert sorted(files.nodes) == ["/srv"]
    assert files.get("/srv").entry.kind == "file"


def test_captured_contents_follow_the_file_that_survives():
    _, contents = merged(
        Layer().file("etc/passwd", "root:x:0:0::/root:/bin/sh\n").file("etc/group", "root:x:0:\n"),
        Layer().file("etc/passwd", "root:x:0:0::/root:/bin/bash\n").whiteout("etc/group"),
    )
    assert contents == {"/etc/passwd": "root:x:0:0::/root:/bin/bash\n"}


def test_under_lists_a_subtree_without_its_lookalike_neighbours():
    files, _ = merged(
        Layer().file("opt/ml/a", b"a").file("opt/mlflow/b", b"b").file("opt/ml", b"").file("opt/x", b"")
    )
    assert sorted(n.entry.path for n in files.under("/opt/ml")) == ["/opt/ml"]
