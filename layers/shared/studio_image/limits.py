"""Every bound on the work one image may cause, in one place (README: Reliability).

Each limit stops a hostile image with a typed error before memory or time run away. The defaults
are generous for real Studio images; where Go or containerd have a limit of their own, ours is the
same, so that nothing they accept is refused.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ScanLimits:
    """Bounds that keep a hostile image from exhausting memory or time (README: Reliability)."""

    # bytes of tar in one layer (a decompression bomb stops here): above the largest image-size limit
    max_uncompressed: int = 36 * 10**9
    max_entries: int = 2_000_000  # tar members in one layer
    max_image_entries: int = 3_000_000  # tar members in all the layers of one image
    # whiteouts in one layer: each is kept as its path (real layers delete a few thousand at most)
    max_whiteouts: int = 500_000
    max_names: int = 2_500_000  # names in the final filesystem: entries and the directories above them
    max_pax_records: int = 8_000_000  # PAX records in one layer (real layers hold a few per entry)
    max_sparse_entries: int = 1_000_000  # sparse map entries in one layer
    max_header_bytes: int = 1 << 20  # one PAX header or GNU long name or link (Go's own limit)
    max_pax_record: int = 1 << 20  # one PAX record; all records of an entry sit in one header
    max_path_bytes: int = 4096  # Linux's PATH_MAX: containerd cannot create a longer path
    max_path_depth: int = 1024  # directories in one path
    # characters of member paths and link targets as memory holds them (EntryTable.held_bytes: a
    # directory once for a run of entries in it, each last name): a million paths of PATH_MAX would
    # be 4 GB. A sample of Debian's /usr holds 46 an entry (its full paths average 67).
    max_layer_path_chars: int = 64 << 20
    max_image_path_chars: int = 96 << 20  # the same, over all the layers of one image
    max_anomalies: int = 100  # anomalies kept of one layer; the rest are counted in one more
    capture_bytes: int = 1 << 20  # text kept of each file rules read (passwd, group, kernel.json)
    max_captured_bytes: int = 64 << 20  # text kept of all the files rules read, in one layer
    package_bytes: int = 128 << 20  # package databases kept for the SBOM, per layer; 0: keep none
    max_layers: int = 256  # layers in one image
    max_manifest_bytes: int = 4 << 20  # a manifest, index or config (the distribution spec's advice)
    max_index_depth: int = 4  # image indexes nested in image indexes
    max_response_bytes: int = 1 << 20  # a registry's token or error body
