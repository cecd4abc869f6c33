"""The whole pipeline in the sandbox, from ECR push event to SNS notification, for an image of
about 100 MB in 5 layers; side by side with `studio-image check` on the same image in the same run
(the scan and rules alone, no AWS).

Per run: the push through ECR's layer API; event to notification (from delivering the event to
the SNS message's timestamp); and how the execution's time divides between scanning (the Map),
the state machine's Wait states, and everything else (Lambda invocations and AWS calls). Each run
builds an image with new layer content, so no layer scan comes from the cache.

Then ten JupyterLab images pushed at once by ten skopeo processes, against one pushed alone by skopeo
in the same (warm) sandbox: the wall time from the first push to the last notification beside ten
times the single push's, and the share of the Lambda time spent in cold starts (Init Duration).

Floor (issue 6): event to notification under 10 s. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import base64
import dataclasses
import random
import subprocess
import tempfile
import time
from datetime import datetime
from pathlib import Path

from moto_studio import awslambda
from studio_image.engine import inspect_image
from studio_image.findings import Profile
from studio_image.oci import sha256_digest
from studio_image.rules.judging import build_report
from studio_image.sources import open_source
from studio_image_sandbox.ocibuild import Layer, build_image
from studio_image_sandbox.samples import compliant
from studio_image_sandbox.sandbox import DEFAULT_CONFIGURATION, Options, Sandbox, running

MB = 1_000_000


def data_layer(rng: random.Random, index: int, size: int) -> Layer:
    """Model files and wheels: mostly incompressible, as such layers are."""
    layer = Layer()
    for number in range(size // (2 * MB)):
        layer.file(f"opt/models/set{index}/part{number:03d}.bin", rng.randbytes(2 * MB))
    return layer


def build(root: Path, seed: int, total: int, profile: str = "kernel-gateway") -> str:
    """The profile's compliant image plus three data layers: about `total` bytes."""
    rng = random.Random(seed)
    spec = compliant(profile)
    extra = [data_layer(rng, i, total // 3) for i in range(3)]
    return build_image(root / f"image-{seed}", dataclasses.replace(spec, layers=[*spec.layers, *extra]))


def timestamp(value: str) -> float:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def spans(history: list[dict]) -> dict[str, float]:
    """Seconds in the Map (scanning), in Wait states, and from start to Notify's end."""
    entered: dict[str, datetime] = {}
    found = {"scan": 0.0, "wait": 0.0, "total": 0.0}
    start = history[0]["timestamp"]
    for event in history:
        details = event.get("stateEnteredEventDetails") or event.get("stateExitedEventDetails") or {}
        name, kind = details.get("name"), event["type"]
        if kind.endswith("StateEntered"):
            entered[name] = event["timestamp"]
        elif kind in {"MapStateExited", "WaitStateExited"}:
            found["scan" if kind.startswith("Map") else "wait"] += (
                event["timestamp"] - entered[name]
            ).total_seconds()
        elif kind == "TaskStateExited" and name == "Notify":
            found["total"] = (event["timestamp"] - start).total_seconds()
    return found


# The ten-push case needs room for eleven images: a KernelGateway profile or space takes 5 custom
# images, so they go to a JupyterLab binding attached to alice (without a canary: the one canary
# space would take them in turns).
MANY = {"match": "studio/many-*", "profile": "jupyterlab", "attach": {"user_profiles": ["alice"]}}
OPTIONS = Options(configuration={"repositories": [MANY, *DEFAULT_CONFIGURATION["repositories"]]})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--megabytes", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, running(OPTIONS, Path(tmp) / "sandbox") as sandbox:
        rows = []
        for run in range(1, args.runs + 1):
            reference = build(Path(tmp), run, args.megabytes * MB)
            started = time.perf_counter()
            with open_source(reference) as source:
                report = build_report(inspect_image(source), Profile.KERNEL_GATEWAY)
            check = time.perf_counter() - started

            started = time.perf_counter()
            pushed = sandbox.push(reference, f"studio/bench-{run}", "1.0")
            push = time.perf_counter() - started

            sent = time.time()
            execution_arn = sandbox.execution_for(pushed.repository, pushed.digest, pushed.tag)
            sandbox.wait(execution_arn)
            result = sandbox.result(execution_arn)
            notification = sandbox.notification(result.message_id or "")
            assert notification is not None and result.outcome == "passed", result
            assert report.verdict.value == result.verdict
            to_notification = timestamp(notification.received) - sent  # the event is sent as PutImage ends
            parts = spans(sandbox.history(execution_arn))
            rest = parts["total"] - parts["scan"] - parts["wait"]
            rows.append((pushed.size / MB, pushed.layers, push, to_notification, parts, rest, check))
            print(
                f"run {run}: {pushed.size / MB:.0f} MB in {pushed.layers} layers; push {push:.2f} s; "
                f"event to notification {to_notification:.2f} s (scan {parts['scan']:.2f} s, "
                f"waits {parts['wait']:.2f} s, Lambda and AWS calls {rest:.2f} s); "
                f"`studio-image check` alone {check:.2f} s",
                flush=True,
            )
        concurrent(sandbox, Path(tmp))
    best = min(rows, key=lambda row: row[3])
    size, layers, push, to_notification, parts, rest, check = best
    total = parts["total"] or 1
    print(
        f"\nbest of {len(rows)}: event to notification {to_notification:.2f} s for {size:.0f} MB "
        f"in {layers} layers (floor: under 10 s); scanning {parts['scan'] / total:.0%}, "
        f"waits {parts['wait'] / total:.0%}, Lambda and AWS calls {rest / total:.0%}; "
        f"push {push:.2f} s; baseline `studio-image check` {check:.2f} s"
    )


def skopeo_push(sandbox: Sandbox, reference: str, repository: str) -> subprocess.Popen[bytes]:
    sandbox.client("ecr").create_repository(repositoryName=repository)
    password = base64.b64decode(
        sandbox.client("ecr").get_authorization_token()["authorizationData"][0]["authorizationToken"]
    ).decode()
    command = ["skopeo", "copy", "--dest-tls-verify=false", "--dest-creds", password]
    destination = f"docker://{sandbox.registry}/{repository}:1.0"
    return subprocess.Popen([*command, reference, destination], stdout=subprocess.DEVNULL)


def pushed_and_notified(sandbox: Sandbox, pushes: dict[str, tuple[str, subprocess.Popen[bytes]]]) -> float:
    """Wait for the pushes and their executions; the last notification's time."""
    last = 0.0
    for repository, (digest, push) in pushes.items():
        assert push.wait() == 0, repository
        arn = sandbox.execution_for(repository, digest, "1.0")
        sandbox.wait(arn)
        result = sandbox.result(arn)
        notification = sandbox.notification(result.message_id or "")
        assert notification is not None and result.outcome == "passed", result
        last = max(last, timestamp(notification.received))
    return last


def manifest_digest(reference: str) -> str:
    with open_source(reference) as source:
        return sha256_digest(source.top_manifest()[0])  # type: ignore[attr-defined]


def concurrent(sandbox: Sandbox, root: Path, count: int = 10) -> None:
    """One push alone, then `count` at once, each to its own repository, in the same sandbox."""
    images = {
        f"studio/many-{n}": build(root / "many", 1000 + n, 10 * MB, "jupyterlab") for n in range(count + 1)
    }
    digests = {repository: manifest_digest(reference) for repository, reference in images.items()}
    alone, *together = images
    started = time.time()
    one = (
        pushed_and_notified(sandbox, {alone: (digests[alone], skopeo_push(sandbox, images[alone], alone))})
        - started
    )
    awslambda.invocations.clear()
    started = time.time()
    pushes = {r: (digests[r], skopeo_push(sandbox, images[r], r)) for r in together}
    many = pushed_and_notified(sandbox, pushes) - started
    busy = sum(i.ended - i.started for i in awslambda.invocations)
    cold = [i.init_seconds for i in awslambda.invocations if i.init_seconds is not None]
    print(
        f"\n{count} images of 10 MB pushed at once by skopeo: first push to last notification {many:.2f} s, "
        f"against {count} x {one:.2f} s = {count * one:.2f} s for one pushed alone "
        f"({count * one / many:.1f}x); {len(cold)} cold starts of {len(awslambda.invocations)} invocations, "
        f"{sum(cold):.2f} s of {busy:.2f} s of Lambda time ({sum(cold) / (busy or 1):.0%})",
        flush=True,
    )


if __name__ == "__main__":
    main()
