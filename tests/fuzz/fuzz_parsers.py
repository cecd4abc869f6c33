"""Coverage-guided fuzzing (atheris) of the parsers an image author controls: tar headers (with
layer merging), and manifest, index and config JSON. Any exception but our typed errors is a
crash that atheris reports with the input that caused it.

    python tests/fuzz/fuzz_parsers.py -max_total_time=60 -max_len=16384 CORPUS_DIR   # make fuzz

An input starting with "{" is a JSON document; anything else is a tar stream, its checksums
made valid. Seeds: Go's tar
corpus and our sample images' manifests (tests/unit/test_fuzz.py runs it briefly in CI).
"""

from __future__ import annotations

import io
import sys

import atheris

with atheris.instrument_imports():
    from studio_image.errors import StudioImageError
    from studio_image.inventory import merge_layers
    from studio_image.limits import ScanLimits
    from studio_image.oci import ImageConfig, Index, Manifest, parse_json, parse_model
    from studio_image.scan.models import LayerScan
    from studio_image.scan.tar import scan_tar

LIMITS = ScanLimits(max_uncompressed=1 << 22, max_entries=10_000)
MODELS = (Index, Manifest, ImageConfig)


def with_checksums(data: bytes) -> bytes:
    """Every 512-byte block given a valid header checksum, so that mutations reach past the
    checksum test (which unit tests cover) into the header logic."""
    out = bytearray(data)
    for offset in range(0, len(out) - 511, 512):
        block = out[offset : offset + 512]
        if any(block):
            block[148:156] = b"        "
            out[offset + 148 : offset + 156] = f"{sum(block):06o}".encode() + b"\x00 "
    return bytes(out)


def one_input(data: bytes) -> None:
    try:
        if data.startswith(b"{"):
            doc = parse_json(data, "fuzzed document")
            for model in MODELS:
                parse_model(model, doc, "fuzzed document")
            return
        tar = scan_tar(io.BytesIO(with_checksums(data)), "fuzzed layer", LIMITS)
        scan = LayerScan(
            digest="sha256:" + "0" * 64,
            media_type="application/vnd.oci.image.layer.v1.tar",
            compression="none",
            compressed_size=len(data),
            uncompressed_size=tar.size,
            entries=tar.entries,
            whiteouts=tar.whiteouts,
            whiteout_positions=tar.whiteout_positions,
            opaque_dirs=tar.opaque_dirs,
            contents=tar.contents,
        )
        files, _ = merge_layers([scan, scan])
        for path in list(files.nodes)[:50]:
            files.lookup(path)
    except StudioImageError:
        pass


def main() -> None:
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
