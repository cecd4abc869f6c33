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


def test_resolve_follows_symlinks_as_the_kernel_would():
    files, _ = merged(
        Layer()
        .file("usr/bin/python3.11", b"elf")
        .symlink("usr/bin/python3", "python3.11")  # relative to its directory
        .symlink("bin", "usr/bin")  # a usr-merged root
        .symlink("opt/py", "/usr/bin/python3")  # absolute
        .symlink("opt/up", "../usr/./bin/python3")
        .symlink("loop/a", "b")
        .symlink("loop/b", "a")
        .symlink("dangling", "/nowhere")
        .file("etc/hosts", b"h")
    )
    assert files.resolve("/bin/python3") == "/usr/bin/python3.11"
    assert files.resolve("/opt/py") == "/usr/bin/python3.11"
    assert files.resolve("/opt/up") == "/usr/bin/python3.11"
    assert files.resolve("/usr/bin") == "/usr/bin"  # implied directory
    # ".." after a symlink climbs from where the link led (/usr/bin), as the kernel does
    assert files.resolve("/bin/../bin/python3") == "/usr/bin/python3.11"
    assert files.resolve("/bin/../etc/hosts") is None
    assert files.resolve("/loop/a") is None
    assert files.resolve("/dangling") is None
    assert files.resolve("/etc/hosts/x") is None  # a file cannot hold a path
    assert files.resolve("/etc/hosts/../hosts") is None  # not even "..": the kernel says ENOTDIR
    assert files.lookup("/bin/python3").entry.path == "/usr/bin/python3.11"


def test_lookup_goes_to_a_hardlinks_target():
    files, _ = merged(
        Layer().file("usr/bin/tool", b"t", mode=0o755).hardlink("usr/local/bin/tool", "usr/bin/tool")
    )
    assert files.lookup("/usr/local/bin/tool").entry.mode == 0o755


def test_under_walks_a_subtree_without_its_siblings():
    files, _ = merged(Layer().file("opt/ml/a").file("opt/ml/b/c").file("opt/mlflow/d").dir("opt/ml"))
    assert sorted(n.entry.path for n in files.under("/opt/ml")) == ["/opt/ml", "/opt/ml/a", "/opt/ml/b/c"]
