"""ScanLayer (one Map iteration per layer): stream one layer from ECR into the scanner and cache
the result by digest."""

from __future__ import annotations

import time

from ...errors import ImageReadError
from ...oci import FOREIGN_LAYER_TYPES
from ...scan.layer import scan_layer as scan_blob
from ...scan.tar import ScanLimits
from ..images import ecr_source
from ..models import LayerOutcome, LayerRef, Pushed, StateModel
from ..services import Services

SCAN_MARGIN_SECONDS = 30  # left of a scan's time to record the outcome


class LayerTask(StateModel):
    """One Map iteration's input."""

    pushed: Pushed
    layer: LayerRef


def scan_layer(task: LayerTask, svc: Services, seconds_left: float) -> LayerOutcome:
    """A layer that cannot be read (corrupt, a tar bomb, too slow for the time left) is an outcome,
    not an error: Evaluate turns it into a finding."""
    layer, descriptor, pushed = task.layer, task.layer.descriptor, task.pushed
    started = time.monotonic()
    foreign = descriptor.media_type in FOREIGN_LAYER_TYPES
    if foreign or svc.layers.has(layer.digest):
        return LayerOutcome(digest=layer.digest, cached=not foreign)
    source = ecr_source(pushed, svc)
    try:
        with source:
            scan = scan_blob(
                source.open_blob(descriptor),
                descriptor,
                label=f"layer {layer.index + 1} ({layer.digest[:19]})",
                limits=ScanLimits(),
                deadline=started + seconds_left - SCAN_MARGIN_SECONDS,
            )
    except ImageReadError as err:
        return LayerOutcome(
            digest=layer.digest, seconds=time.monotonic() - started, problem=f"{type(err).__name__}: {err}"
        )
    svc.layers.put(scan)
    return LayerOutcome(digest=layer.digest, seconds=round(time.monotonic() - started, 3))
