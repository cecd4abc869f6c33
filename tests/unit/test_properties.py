"""Property tests: generated layer stacks against a reference model that applies layers to a dict,
and generated (and damaged) tar streams that must end in an inventory or one of our typed errors."""

from __future__ import annotations

import contextlib
import io

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from studio_image.errors import StudioImageError
from studio_image.inventory import merge_layers
from studio_image.limits import ScanLimits
from studio_image.scan.models import DIR, FILE, HARDLINK
from studio_image.scan.tar import scan_tar
from studio_image_sandbox.ocibuild import Layer
from tests.conftest import scan_tar_layer

NAMES = st.sampled_from(["a", "b", "c"])
PATHS = st.lists(NAMES, min_size=1, max_size=2).map("/".join)  # few paths: ops meet often
OPS = st.one_of(
    st.tuples(st.just("file"), PATHS, st.integers(0, 3), st.sampled_from([0o644, 0o755])),
    st.tuples(st.just("dir"), PATHS),
    st.tuples(st.just("hardlink"), PATHS, PATHS),
    st.tuples(st.just("whiteout"), PATHS),
    st.tuples(st.just("opaque"), PATHS),
)
STACKS = st.lists(st.lists(OPS, max_size=6), min_size=1, max_size=4)


def build(ops: list[tuple]) -> Layer:
    layer = Layer()
    for op in ops:
        if op[0] == "file":
            layer.file(op[1], b"x" * op[2], mode=op[3])
        elif op[0] == "dir":
            layer.dir(op[1])
        elif op[0] == "hardlink":
            layer.hardlink(op[1], op[2])
        elif op[0] == "symlink":
            layer.symlink(op[1], op[2])
        elif op[0] == "whiteout":
            layer.whiteout(op[1])
        else:
            layer.opaque(op[1])
    return layer


def below(model: dict, path: str) -> list[str]:
    return [p for p in model if p == path or p.startswith(path + "/")]


def reference(stack: list[list[tuple]]) -> dict[str, tuple]:
    """The OCI layer rules applied to a dict of path -> (kind, size, mode); directories that only
    hold other paths are implied. Within a layer, opaque markers and whiteouts act on the layers
    below; then entries apply in order: a directory merges into a directory, anything else
    replaces what was there with all below it, a file in the way of a path becomes a directory,
    and a hardlink copies its target's inode as it is then."""
    model: dict[str, tuple] = {}
    implied: set[str] = set()

    def remove(path: str) -> None:
        for p in below(model, path):
            del model[p]
        implied.difference_update(p for p in list(implied) if p == path or p.startswith(path + "/"))

    for ops in stack:
        for op in ops:
            if op[0] == "opaque":
                for p in below(model, "/" + op[1]) + [i for i in implied if i.startswith("/" + op[1] + "/")]:
                    if p != "/" + op[1]:
                        remove(p)
        for op in ops:
            if op[0] == "whiteout":
                remove("/" + op[1])
                continue
            if op[0] == "opaque":
                continue
            path = "/" + op[1]
            parts = path.split("/")
            for depth in range(2, len(parts)):
                ancestor = "/".join(parts[:depth])
                if ancestor in model and model[ancestor][0] != DIR:
                    remove(ancestor)
                if ancestor not in model:
                    implied.add(ancestor)
            if op[0] == "dir":
                if not (path in model and model[path][0] == DIR) and path not in implied:
                    remove(path)
                implied.discard(path)
                model[path] = (DIR, 0, 0o755)
                continue
            remove(path)
            if op[0] == "file":
                model[path] = (FILE, op[2], op[3])
            else:
                target = model.get("/" + op[2])
                model[path] = (HARDLINK, *target[1:]) if target and target[0] != DIR else (HARDLINK, 0, 0o644)
    return model


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(STACKS)
def test_layer_stacks_apply_as_the_reference_model_says(stack):
    # Given layers of files, directories, hardlinks, whiteouts and opaque markers on a few names
    scans = [scan_tar_layer(build(ops), "none") for ops in stack]
    # When they are merged
    files, _ = merge_layers(scans)
    # Then every path holds what the reference model says, and nothing else exists
    got = {p: (n.entry.kind, n.entry.size, n.entry.mode) for p, n in files.nodes.items()}
    assert got == reference(stack)


TARGETS = st.sampled_from(["a", "/b", "../c", "a/.."])
SYMLINK_OPS = st.one_of(OPS, st.tuples(st.just("symlink"), PATHS, TARGETS))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(SYMLINK_OPS, max_size=8), min_size=1, max_size=3), st.data())
def test_any_stack_with_symlinks_and_damage_ends_in_an_inventory_or_a_typed_error(stack, data):
    # Given layers with symlinks among everything else, some with a byte flipped or cut short
    with contextlib.suppress(StudioImageError):  # one of our typed errors is a fine end
        scans = []
        for ops in stack:
            tar = bytearray(build(ops).tar_bytes())
            if data.draw(st.booleans()):
                tar[data.draw(st.integers(0, len(tar) - 1))] ^= data.draw(st.integers(1, 255))
            if data.draw(st.booleans()):
                tar = tar[: data.draw(st.integers(0, len(tar)))]
            scans.append(scan_tar_layer(bytes(tar), "none"))
        # When the layers read are merged, then every path of the inventory looks up
        files, _ = merge_layers(scans)
        for path in list(files.nodes):
            files.lookup(path)


@settings(max_examples=2000, deadline=None)
@given(st.binary(max_size=4096))
def test_arbitrary_bytes_end_in_entries_or_a_typed_error(data):
    with contextlib.suppress(StudioImageError):
        scan_tar(io.BytesIO(data), "fuzz", ScanLimits())
