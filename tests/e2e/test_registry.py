"""The sandbox's registry as users meet ECR's: real clients (skopeo, buildah, the AWS CLI) push to
it and delete from it, and ECR's events run the pipeline through the template's rule."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import signal
import subprocess
import sys
import tarfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from moto_studio import awslambda
from studio_image_sandbox.ocibuild import Layout, build_image
from studio_image_sandbox.samples import compliant
from studio_image_sandbox.sandbox import STATE_FILE, Options, RunResult, Sandbox, running

pytestmark = pytest.mark.tools("skopeo")
AWS = Path(sys.executable).with_name("aws")
STUDIO_IMAGE = Path(sys.executable).with_name("studio-image")


@pytest.fixture
def sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandbox]:
    monkeypatch.setenv("STUDIO_IMAGE_SANDBOX_DIR", str(tmp_path / "sandbox"))
    with running(Options(sagemaker_seconds=0.2), tmp_path / "sandbox") as started:
        started.save()
        yield started


def client(sandbox: Sandbox, *argv: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """A real client run with what `eval "$(studio-image sandbox env)"` would export."""
    environment = {**os.environ, **sandbox.environment()}
    return subprocess.run(argv, env=environment, input=stdin, capture_output=True, text=True, timeout=600)


def login_password(sandbox: Sandbox) -> str:
    """What `aws ecr get-login-password` prints."""
    found = client(sandbox, str(AWS), "ecr", "get-login-password")
    assert found.returncode == 0, found.stderr
    return found.stdout.strip()


def skopeo_copy(
    sandbox: Sandbox, source: str, destination: str, *extra: str
) -> subprocess.CompletedProcess[str]:
    """`skopeo copy` to the sandbox's registry, logged in as `aws ecr get-login-password` allows."""
    return client(
        sandbox,
        "skopeo",
        "copy",
        "--dest-tls-verify=false",
        "--dest-creds",
        f"AWS:{login_password(sandbox)}",
        *extra,
        source,
        f"docker://{sandbox.registry}/{destination}",
    )


def skopeo_push(sandbox: Sandbox, source: str, destination: str, *extra: str) -> None:
    pushed = skopeo_copy(sandbox, source, destination, *extra)
    assert pushed.returncode == 0, pushed.stderr


def manifest_bytes(layout: Path, tag: str) -> bytes:
    index = json.loads((layout / "index.json").read_text())
    (found,) = [d for d in index["manifests"] if d["annotations"]["org.opencontainers.image.ref.name"] == tag]
    return (layout / "blobs" / "sha256" / found["digest"].split(":")[1]).read_bytes()


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def finished(
    sandbox: Sandbox, repository: str, digest: str, tag: str | None, action: str = "PUSH"
) -> RunResult:
    arn = sandbox.execution_for(repository, digest, tag, action)
    sandbox.wait(arn, timeout=600)  # attaches to one domain take turns: DomainBusy retried with backoff
    return sandbox.result(arn)


def test_an_image_skopeo_pushes_by_tag_is_stored_byte_for_byte_and_checked(sandbox, tmp_path):
    # Given a repository in the sandbox's ECR and an image in an OCI layout
    sandbox.client("ecr").create_repository(repositoryName="studio/mine")
    build_image(tmp_path / "mine", compliant("kernel-gateway"), "v2")
    manifest = manifest_bytes(tmp_path / "mine", "v2")
    # When skopeo pushes it, logged in as ECR wants (user AWS, the password GetAuthorizationToken gives)
    skopeo_push(sandbox, f"oci:{tmp_path / 'mine'}:v2", "studio/mine:v2")
    # Then ECR's API shows the image under its own digest, with the bytes skopeo pushed
    ecr = sandbox.client("ecr")
    (image,) = ecr.describe_images(repositoryName="studio/mine")["imageDetails"]
    assert (image["imageDigest"], image["imageTags"]) == (digest_of(manifest), ["v2"])
    got = ecr.batch_get_image(repositoryName="studio/mine", imageIds=[{"imageTag": "v2"}])["images"][0]
    assert got["imageManifest"].encode() == manifest
    # And skopeo pulls it back by digest (manifest and blobs by digest), the same bytes
    pulled = client(
        sandbox,
        "skopeo",
        "copy",
        "--preserve-digests",
        "--src-tls-verify=false",
        "--src-creds",
        f"AWS:{login_password(sandbox)}",
        f"docker://{sandbox.registry}/studio/mine@{digest_of(manifest)}",
        f"oci:{tmp_path / 'pulled'}:v2",
    )
    assert pulled.returncode == 0, pulled.stderr
    assert manifest_bytes(tmp_path / "pulled", "v2") == manifest
    # And ECR's push event ran the pipeline: checked, registered and attached
    result = finished(sandbox, "studio/mine", digest_of(manifest), "v2")
    assert (result.status, result.outcome, result.attached) == ("SUCCEEDED", "passed", True)
    assert result.notification == "[PASSED] studio/mine:v2 -> studio-mine v1"


def test_a_multi_platform_index_pushed_with_all_keeps_every_platform_and_emits_one_event_per_manifest(
    sandbox, tmp_path
):
    # Given an index of a compliant linux/amd64 image and a linux/arm64 one
    layout = Layout(tmp_path / "multi")
    amd64 = layout.image(compliant("kernel-gateway"))
    arm64_spec = compliant("kernel-gateway")
    arm64_spec.architecture = "arm64"
    arm64 = layout.image(arm64_spec)
    index = layout.index([(amd64, "linux/amd64"), (arm64, "linux/arm64")])
    layout.tag(index, "1.0")
    sandbox.client("ecr").create_repository(repositoryName="studio/multi")
    # When skopeo pushes it with --all
    skopeo_push(sandbox, f"oci:{tmp_path / 'multi'}:1.0", "studio/multi:1.0", "--all")
    # Then ECR holds the index and both manifests under their own digests
    found = sandbox.client("ecr").describe_images(repositoryName="studio/multi")["imageDetails"]
    assert {(i["imageDigest"], tuple(i.get("imageTags", []))) for i in found} == {
        (index.digest, ("1.0",)),
        (amd64.digest, ()),
        (arm64.digest, ()),
    }
    # And, as ECR does, each manifest written sent its own push event: the platform manifests by
    # digest (no tag), the index with its tag; the index's run checks the linux/amd64 image, and the
    # untagged manifests' runs end without a verdict or a notification (judged at the index)
    pushed = finished(sandbox, "studio/multi", index.digest, "1.0")
    assert (pushed.status, pushed.verdict) == ("SUCCEEDED", "pass"), pushed
    for digest in (amd64.digest, arm64.digest):
        run = finished(sandbox, "studio/multi", digest, None)
        assert (run.image, run.status, run.verdict, run.notification) == (
            f"studio/multi@{digest}",
            "SUCCEEDED",
            None,
            None,
        ), run


def test_a_push_by_digest_runs_the_pipeline_with_an_empty_tag(sandbox, tmp_path):
    # Given an image, and a repository
    build_image(tmp_path / "bydigest", compliant("kernel-gateway"), "1")
    digest = digest_of(manifest_bytes(tmp_path / "bydigest", "1"))
    sandbox.client("ecr").create_repository(repositoryName="studio/bydigest")
    # When skopeo pushes it by digest
    skopeo_push(sandbox, f"oci:{tmp_path / 'bydigest'}:1", f"studio/bydigest@{digest}")
    # Then the image has no tag, and the run's event says image-tag "" (as ECR's does)
    (image,) = sandbox.client("ecr").describe_images(repositoryName="studio/bydigest")["imageDetails"]
    assert image["imageDigest"] == digest and "imageTags" not in image
    result = finished(sandbox, "studio/bydigest", digest, None)
    sfn = sandbox.client("stepfunctions")
    detail = json.loads(sfn.describe_execution(executionArn=result.execution_arn)["input"])["detail"]
    assert detail["image-tag"] == ""
    assert detail["manifest-media-type"] == "application/vnd.oci.image.manifest.v1+json"
    assert detail["artifact-media-type"] == "application/vnd.oci.image.config.v1+json"
    # And, an untagged push, it is skipped without a verdict or a notification (bindings opt in)
    assert (result.status, result.outcome, result.notification) == ("SUCCEEDED", None, None), result


def buildah(storage: Path, *argv: str) -> str:
    done = subprocess.run(
        [
            "buildah",
            "--storage-driver",
            "vfs",
            "--root",
            str(storage / "root"),
            "--runroot",
            str(storage / "run"),
            *argv,
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.mark.tools("skopeo", "buildah")
def test_an_image_buildah_builds_from_scratch_and_pushes_is_checked(sandbox, tmp_path):
    # Given an image buildah built from scratch: the compliant image's files added as tar archives
    spec = compliant("kernel-gateway")
    container = buildah(tmp_path, "from", "scratch")
    for number, layer in enumerate(spec.layers):
        archive = tmp_path / f"layer-{number}.tar"
        archive.write_bytes(layer.tar_bytes())  # type: ignore[union-attr]
        assert tarfile.is_tarfile(archive)
        buildah(tmp_path, "add", container, str(archive), "/")
    buildah(tmp_path, "config", "--user", spec.user, "--env", spec.env[0], container)
    buildah(tmp_path, "commit", "--format", "oci", container, "localhost/studio-buildah:1")
    sandbox.client("ecr").create_repository(repositoryName="studio/buildah")
    # When buildah pushes it with the login ECR hands out
    buildah(
        tmp_path,
        "push",
        "--tls-verify=false",
        "--creds",
        f"AWS:{login_password(sandbox)}",
        "--digestfile",
        str(tmp_path / "digest"),
        "localhost/studio-buildah:1",
        f"docker://{sandbox.registry}/studio/buildah:1",
    )
    # Then ECR has it under the digest buildah reports, and the pipeline passed and attached it
    digest = (tmp_path / "digest").read_text().strip()
    (image,) = sandbox.client("ecr").describe_images(repositoryName="studio/buildah")["imageDetails"]
    assert image["imageDigest"] == digest
    result = finished(sandbox, "studio/buildah", digest, "1")
    assert (result.status, result.outcome, result.attached) == ("SUCCEEDED", "passed", True), result


def request(sandbox: Sandbox, method: str, path: str, data: bytes | None = None, **headers: str) -> Any:
    url = f"http://{sandbox.registry}{path}"
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data, headers, method=method)) as answer:
            return answer.status, dict(answer.headers), answer.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def test_the_registry_answers_as_ecr_does_to_logins_missing_repositories_and_immutable_tags(
    sandbox, tmp_path
):
    password = login_password(sandbox)
    basic = "Basic " + base64.b64encode(f"AWS:{password}".encode()).decode()
    # Without credentials, or with a wrong password: 401 and a Basic challenge
    for headers in ({}, {"Authorization": "Basic " + base64.b64encode(b"AWS:wrong").decode()}):
        status, answer, _ = request(sandbox, "GET", "/v2/", **headers)
        assert status == 401 and answer["WWW-Authenticate"].startswith('Basic realm="')
    assert request(sandbox, "GET", "/v2/", Authorization=basic)[0] == 200
    # A push to a repository that does not exist is refused with ECR's NAME_UNKNOWN
    build_image(tmp_path / "one", compliant("kernel-gateway"), "1")
    refused = skopeo_copy(sandbox, f"oci:{tmp_path / 'one'}:1", "studio/absent:1")
    assert refused.returncode != 0
    assert "The repository with name 'studio/absent' does not exist" in refused.stderr
    status, _, body = request(sandbox, "POST", "/v2/studio/absent/blobs/uploads/", b"", Authorization=basic)
    assert (status, json.loads(body)["errors"][0]["code"]) == (404, "NAME_UNKNOWN")
    # An immutable tag is not overwritten by a different image
    ecr = sandbox.client("ecr")
    ecr.create_repository(repositoryName="studio/fixed", imageTagMutability="IMMUTABLE")
    skopeo_push(sandbox, f"oci:{tmp_path / 'one'}:1", "studio/fixed:1")
    other = compliant("kernel-gateway")
    other.env = [*other.env, "BUILD=2"]
    build_image(tmp_path / "two", other, "1")
    overwrite = skopeo_copy(sandbox, f"oci:{tmp_path / 'two'}:1", "studio/fixed:1")
    assert overwrite.returncode != 0
    assert "cannot be overwritten because the repository is immutable" in overwrite.stderr
    (kept,) = ecr.describe_images(repositoryName="studio/fixed")["imageDetails"]
    assert kept["imageDigest"] == digest_of(manifest_bytes(tmp_path / "one", "1"))
    # A blob can be mounted from another repository, and an upload can come in chunks
    config = json.loads(manifest_bytes(tmp_path / "two", "1"))["config"]["digest"]
    blob = (tmp_path / "two" / "blobs" / "sha256" / config.split(":")[1]).read_bytes()
    status, answer, _ = request(sandbox, "POST", "/v2/studio/fixed/blobs/uploads/", b"", Authorization=basic)
    location = answer["Location"]
    for start in range(0, len(blob), 100):
        part = blob[start : start + 100]
        status, answer, _ = request(
            sandbox,
            "PATCH",
            location,
            part,
            Authorization=basic,
            **{"Content-Range": f"{start}-{start + len(part) - 1}"},
        )
        assert status == 202
    assert request(sandbox, "PUT", f"{location}?digest={config}", b"", Authorization=basic)[0] == 201
    mount = f"/v2/studio/mine/blobs/uploads/?mount={config}&from=studio/fixed"
    ecr.create_repository(repositoryName="studio/mine")
    assert request(sandbox, "POST", mount, b"", Authorization=basic)[0] == 201
    assert request(sandbox, "GET", f"/v2/studio/mine/blobs/{config}", Authorization=basic)[2] == blob
    status, _, tags = request(sandbox, "GET", "/v2/studio/fixed/tags/list", Authorization=basic)
    assert json.loads(tags) == {"name": "studio/fixed", "tags": ["1"]}
    # A manifest deleted through the registry (skopeo delete) is gone from ECR and sends ECR's DELETE event
    deleted = client(
        sandbox,
        "skopeo",
        "delete",
        "--tls-verify=false",
        "--creds",
        f"AWS:{password}",
        f"docker://{sandbox.registry}/studio/fixed:1",
    )
    assert deleted.returncode == 0, deleted.stderr
    assert ecr.describe_images(repositoryName="studio/fixed")["imageDetails"] == []
    assert sandbox.execution_for("studio/fixed", kept["imageDigest"], "1", action="DELETE")


def test_an_image_deleted_with_the_aws_cli_retires_its_version(sandbox, tmp_path):
    # Given an image skopeo pushed, registered and attached
    sandbox.client("ecr").create_repository(repositoryName="studio/gone")
    build_image(tmp_path / "gone", compliant("kernel-gateway"), "1.0")
    digest = digest_of(manifest_bytes(tmp_path / "gone", "1.0"))
    skopeo_push(sandbox, f"oci:{tmp_path / 'gone'}:1.0", "studio/gone:1.0")
    assert finished(sandbox, "studio/gone", digest, "1.0").outcome == "passed"
    # When the AWS CLI deletes it from ECR
    deleted = client(
        sandbox,
        str(AWS),
        "ecr",
        "batch-delete-image",
        "--repository-name",
        "studio/gone",
        "--image-ids",
        f"imageDigest={digest}",
    )
    assert deleted.returncode == 0, deleted.stderr
    assert json.loads(deleted.stdout)["imageIds"] == [{"imageDigest": digest, "imageTag": "1.0"}]
    # Then ECR's DELETE event retired the version: detached and deleted, and a notification says so
    result = finished(sandbox, "studio/gone", digest, "1.0", action="DELETE")
    assert (result.status, result.outcome) == ("SUCCEEDED", "retired"), result
    assert sandbox.client("sagemaker").list_image_versions(ImageName="studio-gone")["ImageVersions"] == []
    assert result.notification == (
        "[RETIRED] studio/gone:1.0: deleted from ECR; studio-gone v1 detached and deleted"
    )


def test_a_newcomer_evals_sandbox_env_pushes_with_skopeo_and_reads_what_happened_after_it_stops(tmp_path):
    # Given `studio-image sandbox up` running as its own process, and an image in an OCI layout
    environment = {**os.environ, "STUDIO_IMAGE_SANDBOX_DIR": str(tmp_path / "sandbox")}
    state = tmp_path / "sandbox" / STATE_FILE
    up = subprocess.Popen(
        [str(STUDIO_IMAGE), "sandbox", "up", "--sagemaker-seconds", "0.2"],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    build_image(tmp_path / "mine", compliant("kernel-gateway"), "v2")
    digest = digest_of(manifest_bytes(tmp_path / "mine", "v2"))
    try:
        deadline = time.monotonic() + 600  # a bound, not an expectation: deploying on a busy machine
        while not state.exists():
            assert up.poll() is None and time.monotonic() < deadline
            time.sleep(0.2)
        # When a shell takes the sandbox's environment and uses the AWS CLI and skopeo as with ECR
        script = f"""
            set -e
            eval "$({STUDIO_IMAGE} sandbox env)"
            {AWS} ecr create-repository --repository-name studio/mine >/dev/null
            {AWS} ecr get-login-password \
              | skopeo login --tls-verify=false --username AWS --password-stdin "$STUDIO_IMAGE_REGISTRY"
            skopeo copy --dest-tls-verify=false oci:{tmp_path / "mine"}:v2 "docker://$STUDIO_IMAGE_REGISTRY/studio/mine:v2"
            {AWS} ecr describe-images --repository-name studio/mine \
              --query 'imageDetails[0].imageDigest' --output text
        """
        shell = subprocess.run(
            ["bash", "-c", script], env=environment, capture_output=True, text=True, timeout=600
        )
        assert shell.returncode == 0, shell.stderr
        assert shell.stdout.splitlines()[-1] == digest
        # Then the execution runs to its notification, which `sandbox notifications` shows
        deadline = time.monotonic() + 600  # cold starts of every function first, slow on a busy machine
        while True:
            shown = subprocess.run(
                [str(STUDIO_IMAGE), "sandbox", "notifications", "--format", "json"],
                env=environment,
                capture_output=True,
                text=True,
            )
            if json.loads(shown.stdout or "[]") or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert [n["subject"] for n in json.loads(shown.stdout)] == [
            "[PASSED] studio/mine:v2 -> studio-mine v1"
        ]
    finally:
        up.send_signal(signal.SIGTERM)
        out, _ = up.communicate(timeout=300)
    # And `up` printed the exports, then one line for the push, then the execution's start, then its
    # end and the notification (SNS delivers before the execution's last state ends)
    assert "export STUDIO_IMAGE_REGISTRY=" in out and "export AWS_ENDPOINT_URL=http://127.0.0.1:" in out
    feed = [line.split(maxsplit=2)[1:] for line in out.splitlines() if line[:2].isdigit()]
    assert feed[0] == ["push", f"studio/mine:v2 {digest}"], out
    assert feed[1][0] == "execution" and feed[1][1].endswith("started for studio/mine:v2"), out
    ended = {kind: text for kind, text in feed[2:]}
    assert len(feed) == 4 and set(ended) == {"execution", "notification"}, out
    assert ended["execution"].split()[1] == "SUCCEEDED" and ended["execution"].endswith(": passed")
    assert ended["notification"] == "[PASSED] studio/mine:v2 -> studio-mine v1"
    # And with the sandbox stopped, `executions` and `notifications` read what it recorded, starting none
    for command in ("executions", "notifications"):
        shown = subprocess.run(
            [str(STUDIO_IMAGE), "sandbox", command, "--format", "json"],
            env=environment,
            capture_output=True,
            text=True,
        )
        assert "what the last one recorded" in shown.stderr and "private" not in shown.stderr
        (recorded,) = json.loads(shown.stdout)
        assert "[PASSED] studio/mine:v2" in (recorded.get("notification") or recorded.get("subject"))
    assert not state.exists()


def iteration_spans(history: list[dict[str, Any]]) -> list[tuple[Any, Any]]:
    """When each Map iteration (a layer's scan) started and ended."""
    starts = [e["timestamp"] for e in history if e["type"] == "MapIterationStarted"]
    ends = [e["timestamp"] for e in history if e["type"] in ("MapIterationSucceeded", "MapIterationFailed")]
    return list(zip(starts, ends, strict=True))


def overlapped(spans: list[tuple[Any, Any]]) -> int:
    """The most spans under way at one moment."""
    moments = sorted([(start, 1) for start, _ in spans] + [(end, -1) for _, end in spans])
    peak = current = 0
    for _, step in moments:
        current += step
        peak = max(peak, current)
    return peak


def test_ten_images_pushed_at_once_by_ten_skopeo_processes_run_side_by_side_and_all_attach(sandbox, tmp_path):
    # Given ten different images and their repositories, bound to attach at the domain level (a user
    # profile or space holds at most 5 custom images, the domain 200)
    ssm, name = sandbox.client("ssm"), f"/{sandbox.stack.name}/configuration"
    configuration = json.loads(ssm.get_parameter(Name=name)["Parameter"]["Value"])
    team = {"match": "studio/team-*", "profile": "kernel-gateway", "attach": {"default_user_settings": True}}
    configuration["repositories"].insert(0, team)
    ssm.put_parameter(Name=name, Value=json.dumps(configuration), Type="String", Overwrite=True)
    ecr = sandbox.client("ecr")
    digests = {}
    for number in range(10):
        spec = compliant("kernel-gateway")
        spec.env = [*spec.env, f"TEAM={number}"]
        build_image(tmp_path / f"team-{number}", spec, "1.0")
        digests[f"studio/team-{number}"] = digest_of(manifest_bytes(tmp_path / f"team-{number}", "1.0"))
        ecr.create_repository(repositoryName=f"studio/team-{number}")
    # When ten skopeo processes push them at the same moment
    password = login_password(sandbox)
    environment = {**os.environ, **sandbox.environment()}

    def skopeo(number: int) -> subprocess.Popen[str]:
        source = f"oci:{tmp_path / f'team-{number}'}:1.0"
        destination = f"docker://{sandbox.registry}/studio/team-{number}:1.0"
        command = ["skopeo", "copy", "--dest-tls-verify=false", "--dest-creds", f"AWS:{password}"]
        return subprocess.Popen(
            [*command, source, destination],
            env=environment,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )

    pushes = [skopeo(number) for number in range(10)]
    assert [push.wait(timeout=300) for push in pushes] == [0] * 10, [
        p.stderr.read() for p in pushes if p.stderr
    ]
    # Then each push ran its own execution to the end: ten versions, every one attached to the
    # domain; nothing lost
    results = [finished(sandbox, repository, digest, "1.0") for repository, digest in digests.items()]
    assert [(r.status, r.outcome, r.attached) for r in results] == [("SUCCEEDED", "passed", True)] * 10, (
        results
    )
    sagemaker = sandbox.client("sagemaker")
    names = sorted(f"studio-team-{number}" for number in range(10))
    for name in names:
        assert [v["Version"] for v in sagemaker.list_image_versions(ImageName=name)["ImageVersions"]] == [1]
    domain = sagemaker.describe_domain(DomainId=sandbox.domain.domain_id)
    images = domain["DefaultUserSettings"]["KernelGatewayAppSettings"]["CustomImages"]
    assert sorted(image["ImageName"] for image in images) == names
    # And the executions overlapped in time, as did the layer scans inside each, as their histories show
    histories = [sandbox.history(result.execution_arn) for result in results]
    assert overlapped([(h[0]["timestamp"], h[-1]["timestamp"]) for h in histories]) > 1
    assert max(overlapped(iteration_spans(h)) for h in histories) > 1
    # And the handlers themselves ran side by side (a process-wide lock would leave the histories
    # overlapping but not these), with some environments started cold and others reused warm
    spans = [(i.started, i.ended) for i in awslambda.invocations]
    assert overlapped(spans) > 1
    scans = [
        (i.started, i.ended) for i in awslambda.invocations if i.function_name.endswith("ScanLayerFunction")
    ]
    assert overlapped(scans) > 1
    cold = [i for i in awslambda.invocations if i.init_seconds is not None]
    assert 0 < len(cold) < len(awslambda.invocations)
