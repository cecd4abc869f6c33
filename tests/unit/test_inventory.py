"""Layers applied in order: whiteouts delete, opaque markers clear, later entries replace."""

import gc
import random
import weakref

import pytest

from studio_image.inventory import IMPLIED, PACKED, Children, Needles, Node, merge_layers
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


# Layers applied as containerd's archive.Apply applies them (its TestBreakouts and whiteout cases).


def test_a_symlinked_parent_in_a_lower_layer_redirects_later_writes():
    # Given /opt -> /srv in one layer, and a later layer writing opt/ml/x
    files, _ = merged(Layer().dir("srv").symlink("opt", "/srv"), Layer().file("opt/ml/x", b"m"))
    # Then the file lands under the symlink's target, and /opt/ml/x names it
    assert files.get("/srv/ml/x") is not None and files.get("/opt/ml/x") is None
    assert files.resolve("/opt/ml/x") == "/srv/ml/x"
    assert [n.entry.path for n in files.under("/opt/ml")] == ["/srv/ml/x"]


@pytest.mark.parametrize("replaced_by", ["symlink", "file-then-symlink"])
def test_a_directory_replaced_by_a_symlink_within_a_layer_redirects_the_writes_after_it(replaced_by):
    # Given one layer that writes into /srv, then replaces /srv with a symlink to /opt, then
    # writes into srv again (and a symlink to /srv written before /srv is replaced)
    layer = Layer().dir("opt").dir("srv").file("srv/a", b"a").symlink("via", "srv")
    if replaced_by == "file-then-symlink":
        layer = layer.file("srv", b"a file")
    files, _ = merged(layer.symlink("srv", "/opt").file("srv/b", b"b").file("via/c", b"c"))
    # Then the writes after the replacement land under /opt, as containerd resolves them then
    assert sorted(files.nodes) == ["/opt", "/opt/b", "/opt/c", "/srv", "/via"]


def test_a_file_written_at_a_symlinks_target_is_seen_through_the_symlink():
    files, _ = merged(Layer().dir("srv").symlink("opt", "/srv"), Layer().file("srv/ml/x", b"m"))
    assert files.resolve("/opt/ml/x") == "/srv/ml/x"
    assert [n.entry.path for n in files.under("/opt/ml")] == ["/srv/ml/x"]


@pytest.mark.parametrize(
    "link",
    ["/etc", "../../../../../../../etc", "upandout/../../../etc", "/dummy/../etc", "./etc"],
    ids=["absolute", "relative-long", "relative-up-and-out", "up-and-out", "relative"],
)
def test_symlinks_cannot_carry_a_write_out_of_the_root(link):
    # Given a symlink that climbs above the root (containerd clamps it there) and a write through it
    files, _ = merged(Layer().dir("etc").symlink("localetc", link).file("localetc/unbroken", b"u"))
    # Then the file is written at /etc/unbroken, inside the image
    assert files.get("/etc/unbroken") is not None
    assert files.resolve("/localetc/unbroken") == "/etc/unbroken"


@pytest.mark.parametrize(
    "layer,linked",
    [
        (Layer().symlink("b/d1", "../../etc").hardlink("b/mypasswd", "b/d1/passwd"), "/b/mypasswd"),
        (Layer().symlink("localetc", "/etc").hardlink("localpasswd", "localetc/passwd"), "/localpasswd"),
        (Layer().hardlink("localpasswd", "../../../../../etc/passwd"), "/localpasswd"),
    ],
    ids=["HardlinkRelative", "HardlinkAbsolute", "HardlinkDirectRelative"],
)
def test_hardlinks_resolve_inside_the_root(layer, linked):
    # Given /etc/passwd and a hardlink to it through symlinks or "..", as containerd's breakout tests
    files, contents = merged(Layer().dir("etc").file("etc/passwd", "root:x:0:0::/root:/bin/sh\n"), layer)
    # Then the link is the same file as /etc/passwd, and its content is known by either name
    assert files.lookup(linked).entry.size == files.get("/etc/passwd").entry.size
    assert contents[linked] == contents["/etc/passwd"]


def test_a_hardlink_to_a_symlink_is_that_symlink():
    # HardlinkSymlinkRelative: link(2) does not follow the symlink it links
    layer = Layer().symlink("passwdlink", "../../../../../etc/passwd").hardlink("localpasswd", "passwdlink")
    files, _ = merged(Layer().dir("etc").file("etc/passwd", b"p"), layer)
    assert files.get("/localpasswd").entry.kind == "symlink"
    assert files.resolve("/localpasswd") == "/etc/passwd"


def test_a_hardlink_keeps_its_content_after_its_target_is_whited_out():
    # Given a hardlink to a file, and a later layer deleting the file
    files, _ = merged(
        Layer().file("usr/bin/tool", b"elf", mode=0o755).hardlink("opt/ml/tool", "usr/bin/tool"),
        Layer().whiteout("usr/bin/tool"),
    )
    # Then the hardlinked name still holds the inode: same size and mode
    node = files.lookup("/opt/ml/tool")
    assert node is not None and (node.entry.size, node.entry.mode) == (3, 0o755)
    assert files.get("/usr/bin/tool") is None


def test_a_directory_over_a_symlink_replaces_the_symlink():
    # DirectoryOverrideSymlink: a later layer's directory entry removes the symlink it lands on
    files, _ = merged(
        Layer().dir("etc").symlink("localetc", "/etc"), Layer().dir("localetc").file("localetc/f")
    )
    assert files.get("/localetc").entry.kind == "dir"
    assert files.get("/localetc/f") is not None and files.get("/etc/f") is None


def test_whiteouts_resolve_their_parent_but_not_their_name():
    lower = (
        Layer().dir("etc").file("etc/passwd", b"p").file("etc/whitedout", b"w").symlink("localetc", "/etc")
    )
    # WhiteoutSymlink: deleting the symlink leaves its target alone
    files, _ = merged(lower, Layer().whiteout("localetc"))
    assert files.get("/localetc") is None and files.get("/etc/passwd") is not None
    # WhiteoutSymlinkPath: a whiteout under the symlink deletes in the target
    files, _ = merged(lower, Layer().whiteout("localetc/whitedout"))
    assert files.get("/etc/whitedout") is None and files.get("/etc/passwd") is not None


def test_an_absolute_symlink_below_the_root_restarts_at_the_root():
    # SymlinkMultipleAbsolute: /dummy/etc -> /etc, /localetc -> /dummy/etc, then a write through both
    layer = Layer().dir("etc").dir("dummy").symlink("dummy/etc", "/etc").symlink("localetc", "/dummy/etc")
    files, _ = merged(layer.file("dummy/etc/unbroken", b"u").file("localetc/also", b"a"))
    assert files.get("/etc/unbroken") is not None and files.get("/etc/also") is not None


@pytest.mark.parametrize(
    "layer",
    [
        Layer()
        .dir("etc")
        .dir("usr/share/base")
        .file("usr/share/base/passwd", "alice:x:1000:100::/:/bin/sh\n")
        .symlink("etc/passwd", "../usr/share/base/passwd"),
        Layer()
        .dir("opt")
        .file("opt/passwd", "alice:x:1000:100::/:/bin/sh\n")
        .dir("etc")
        .hardlink("etc/passwd", "opt/passwd"),
        Layer()
        .dir("opt/etc")
        .file("opt/etc/passwd", "alice:x:1000:100::/:/bin/sh\n")
        .symlink("etc", "opt/etc"),
    ],
    ids=["symlink", "hardlink", "symlinked-directory"],
)
def test_etc_passwd_is_read_through_symlinks_and_hardlinks(layer):
    files, contents = merged(layer)
    assert contents[files.resolve("/etc/passwd")] == "alice:x:1000:100::/:/bin/sh\n"


def test_argv0_resolves_through_a_hardlink_to_a_symlink():
    # Given python3 -> python3.11 (a symlink), and a hardlink to that symlink
    layer = Layer().file("usr/bin/python3.11", b"elf", mode=0o755).symlink("usr/bin/python3", "python3.11")
    files, _ = merged(layer.hardlink("usr/bin/py", "usr/bin/python3"))
    # Then the hardlink leads to the executable, as exec would find it
    assert files.lookup("/usr/bin/py").entry.path == "/usr/bin/python3.11"
    assert files.lookup("/usr/bin/py").entry.mode == 0o755


def test_whiteouts_apply_where_they_sit_among_the_layers_entries():
    # Given a layer that writes a file and then deletes it, and one that deletes through a symlink
    # it has just made, as containerd meets them in the stream
    files, contents = merged(
        Layer().dir("etc").file("etc/passwd", "root:x:0:0::/:/bin/sh\n"),
        Layer().file("tmp/x", b"x").whiteout("tmp/x").symlink("e", "/etc").whiteout("e/passwd"),
    )
    # Then neither survives: the rules must not believe in a passwd the container lacks
    assert files.get("/tmp/x") is None
    assert files.get("/etc/passwd") is None and "/etc/passwd" not in contents


def test_layers_past_the_256th_apply_like_the_first():
    # Given 300 layers, each replacing /f and adding a file of its own
    layers = [Layer().file("f", b"x" * index).file(f"only{index}", b"o") for index in range(300)]
    # When they are merged
    files, _ = merged(*layers)
    # Then the last layer's /f wins and every layer's own file is there, written by that layer
    assert (files.get("/f").layer, files.get("/f").entry.size) == (299, 299)
    assert [files.get(f"/only{index}").layer for index in range(300)] == list(range(300))
    assert len(files) == 301


def test_a_hardlink_that_replaces_its_own_target_finds_no_target():
    # Given a file /tool, then a later layer with a hardlink /tool naming /tool itself
    files, _ = merged(Layer().file("tool", b"12345", mode=0o755), Layer().hardlink("tool", "tool"))
    # When it is applied, the old /tool is removed first (as containerd does), so the link has no
    # target: it stays as written and carries none of the removed file's inode
    node = files.get("/tool")
    assert (node.entry.kind, node.entry.size, node.layer) == ("hardlink", 0, 1)


def test_packed_children_behave_as_a_dict_of_names():
    # Given names that hold one another, a name that is not UTF-8, and more than PACKED of them
    children, reference = Children(), {}
    names = ["a", "ba", "a.b", "b", "a\udcff", *(f"n{i}" for i in range(PACKED + 20))]
    for row, name in enumerate(names):
        assert children.add_new(name.encode("utf-8", "surrogateescape"), row)
        reference[name] = row
    assert not children.add_new(b"ba", 99)  # already there
    children["dir"] = node = Node(IMPLIED, 0, -1, "dir")
    reference["dir"] = node
    for name in ("a", "n3", f"n{PACKED + 5}", "missing"):  # packed, and past PACKED in the dict
        assert children.pop(name) == reference.pop(name, None)
    children["ba"] = 7  # replaces
    reference["ba"] = 7
    assert dict(children.items()) == reference
    assert all(children.get(name) == row for name, row in reference.items())
    assert children.get("a") is None and "a.b" in children and len(children) == len(reference)
    assert sorted(name for name, _ in children.items(Needles.of(["a"]))) == ["a.b", "a\udcff", "ba"]


@pytest.mark.parametrize("count", [5, PACKED + 1, 5 * PACKED])  # searched; indexed; indexed again
def test_packed_children_stay_a_dict_through_removals_and_growth(count):
    children, reference = Children(), {}
    for row in range(count):
        name = f"f{row}"
        children.add(name, row)
        reference[name] = row
        if row % 3 == 1:  # remove some as they come, one of them the first
            assert children.pop(f"f{row - 1}") == reference.pop(f"f{row - 1}")
    children["f1"] = 99  # back, as another row
    reference["f1"] = 99
    assert dict(children.items()) == reference
    assert len(children) == len(reference) and sorted(children.values()) == sorted(reference.values())
    assert all(children.get(name) == row for name, row in reference.items())
    assert children.get("f0") is None and not children.add_new(b"f1", 5)


def test_many_files_overwritten_and_whited_out_across_layers_match_a_plain_model():
    # Given two directories of PACKED + 50 files each, half rewritten or deleted by later layers
    rng = random.Random(3)
    layers, model = [], {}
    for layer_index in range(3):
        layer = Layer()
        for i in rng.sample(range(PACKED + 50), PACKED + 50 if layer_index == 0 else 150):
            path = f"d{i % 2}/f{i}"
            if layer_index and rng.random() < 0.3:
                layer.whiteout(path)
                model.pop(f"/{path}", None)
            else:
                layer.file(path, b"x" * layer_index)
                model[f"/{path}"] = layer_index
        layers.append(layer)
    files, _ = merged(*layers)
    listed = {path: node.layer for path, node in files.nodes.items() if node.kind == "file"}
    assert listed == model
    assert all(files.get(path).entry.size == layer for path, layer in model.items())


def test_a_merged_filesystem_is_freed_without_the_cycle_collector():
    # Given a filesystem with links followed and its nodes listed, as rules read it
    files, _ = merged(
        Layer().dir("usr/lib").symlink("lib", "usr/lib").file("lib/libc.so.6", b"c").file("etc/passwd", b"p"),
        Layer().hardlink("etc/passwd2", "etc/passwd"),
    )
    assert "/usr/lib/libc.so.6" in dict(files.nodes.items())
    gone = weakref.ref(files)
    # When its last reference goes, with the cycle collector off
    gc.disable()
    try:
        del files
        # Then reference counting alone has freed it (a tree in a cycle waits for the collector)
        assert gone() is None
    finally:
        gc.enable()


def test_nodes_sought_by_name_are_the_listing_filtered_by_last_name():
    # Given files kept as ints, nodes of their own (a hardlink, a write through a symlink), an
    # implied directory, an empty one, and names that hold a needle only in a parent directory
    files, _ = merged(
        Layer()
        .dir("opt/nvidia-tools")
        .file("opt/nvidia-tools/readme", b"r")
        .dir("empty")
        .file("usr/lib/x86_64-linux-gnu/libcuda.so.1", b"c")
        .file("usr/lib/x86_64-linux-gnu/libz.so.1", b"z")
        .symlink("lib", "usr/lib"),
        Layer()
        .file("lib/x86_64-linux-gnu/libnvidia-ml.so.1", b"n")
        .hardlink("usr/bin/nvidia-smi", "usr/lib/x86_64-linux-gnu/libz.so.1"),
    )
    everything = dict(files.nodes.kinds())
    for needles in (("nvidia",), ("libcuda", "nvidia"), (".so",), ("absent",)):
        sought = dict(files.nodes.kinds(*needles))
        # Then each is found, by its final path, with its kind, and nothing else is
        assert sought == {
            path: kind
            for path, kind in everything.items()
            if any(n in path.rpartition("/")[2] for n in needles)
        }
    assert dict(files.nodes.kinds("nvidia")) == {
        "/opt/nvidia-tools": "dir",
        "/usr/bin/nvidia-smi": "hardlink",
        "/usr/lib/x86_64-linux-gnu/libnvidia-ml.so.1": "file",
    }
    assert "/empty" in everything and "/usr" not in everything  # listed; implied
