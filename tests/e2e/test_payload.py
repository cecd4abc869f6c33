"""The run state stays small whatever the image or its logs hold: thousands of long log lines and
findings travel clipped, the whole of them kept in S3 (every e2e test also checks each state's
input and output against Step Functions' 256 KiB)."""

from __future__ import annotations

import moto_studio
from studio_image_sandbox.ocibuild import Layer
from studio_image_sandbox.samples import compliant

from .conftest import STATE_LIMIT
from .test_canary import IMAGE, configure
from .test_pipeline import only_notification

LONG = "x" * 3000


def test_thousands_of_long_findings_and_log_lines_keep_every_state_under_the_limit(pipeline):
    # Given an image with thousands of entries Studio refuses, each with a path thousands of characters long
    refused = compliant("kernel-gateway")
    layer = Layer()
    for i in range(2000):
        layer = layer.file(f"opt/ml/{i}/{LONG[: 200 + i % 50]}", b"x", uid=70000 + i)
    refused.layers.append(layer)
    # And a canary whose app logs thousands of long lines, known failures among them
    configure(pipeline)
    noisy = [f"{i} Error: {LONG}" for i in range(3000)] + [
        f"exec /opt/conda/bin/python3: exec format error {LONG}"
    ]
    moto_studio.settings.script_app(IMAGE, fails=True, log_lines=noisy)
    # When both are pushed
    assert pipeline.run(refused, "studio/refused")["status"] == "FAILED"
    refusal = only_notification(pipeline)
    assert pipeline.run(compliant("kernel-gateway"), "studio/canary")["status"] == "FAILED"
    canary = only_notification(pipeline)
    # Then no state's input or output reached the limit, the largest with room to spare
    largest, name = pipeline.largest_states()[0]
    assert largest < STATE_LIMIT // 2, (name, largest)
    # And the notifications still name what was found, and where all of it is kept
    assert refusal["doc"]["evaluation"]["findings_total"] >= 2
    assert "exec-format-error" in canary["Subject"]
    assert "The whole start-up log is in S3" in canary["doc"]["text"]
