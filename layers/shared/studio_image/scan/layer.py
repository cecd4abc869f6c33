"""Scan one layer blob: verify its digest, decompress by its magic bytes, parse its tar headers."""

from __future__ import annotations

from collections.abc import Callable

from ..errors import CorruptLayer, ImageReadError, TransientError
from ..limits import ScanLimits
from ..oci import LAYER_COMPRESSION, Descriptor
from .models import Anomaly, LayerScan
from .streams import Readable, VerifyingReader, decompressed, sniff_compression, stop_ahead
from .tar import scan_tar

# Bump when what a LayerScan records changes, so cached scans of the old form are not reused.
SCAN_FORMAT = 4


def scan_layer(
    raw: Readable,
    descriptor: Descriptor,
    *,
    label: str,
    limits: ScanLimits,
    on_bytes: Callable[[int], None] | None = None,
    deadline: float | None = None,
) -> LayerScan:
    """Stream `raw` (the layer blob as stored) to its end and describe the tar inside it."""
    reader = VerifyingReader(
        raw, name=label, digest=descriptor.digest, size=descriptor.size, on_bytes=on_bytes, deadline=deadline
    )
    try:
        compression = sniff_compression(reader.peek(4))
        tar_bytes = decompressed(reader, compression)
        try:
            tar = scan_tar(tar_bytes, label, limits)
        except CorruptLayer:
            stop_ahead(tar_bytes)
            reader.drain()  # a blob that does not match its digest explains the corruption
            raise
        except (ImageReadError, TransientError):
            raise
        except Exception as err:  # a reader bug must still end in a typed error, never a traceback
            raise CorruptLayer(f"{label}: unreadable ({type(err).__name__}: {err})") from err
        finally:
            stop_ahead(tar_bytes)  # its thread ends before the reader closes
        reader.drain()
    finally:
        reader.close()
    declared = LAYER_COMPRESSION.get(descriptor.media_type)
    if declared and declared != compression:
        tar.anomalies.append(
            Anomaly(
                kind="compression-mismatch",
                detail=f"{label}: media type says {declared}, content is {compression}",
            )
        )
    return LayerScan.model_construct(
        digest=descriptor.digest,
        media_type=descriptor.media_type,
        compression=compression,
        compressed_size=reader.bytes_read,
        uncompressed_size=tar.size,
        entries=tar.entries,
        whiteouts=tar.whiteouts,
        whiteout_positions=tar.whiteout_positions,
        opaque_dirs=tar.opaque_dirs,
        contents=tar.contents,
        oversized=tar.oversized,
        anomalies=tar.anomalies,
    )
