"""Real tools make the images and a real registry serves them: umoci, skopeo, GNU tar and the
Docker distribution registry (Debian's `docker-registry`) on 127.0.0.1."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from studio_image.pipeline.services import Services
from studio_image.pipeline.settings import Settings
from studio_image_sandbox.samples import GROUP, PASSWD, ipykernel_json
from studio_image_sandbox.studio import create_domain
from tests.integration.token_service import ISSUER, SERVICE, TokenService

TEST_IMAGES_SCRIPT = Path(__file__).parents[2] / "scripts" / "build-test-images.sh"


@pytest.fixture(scope="session")
def test_images() -> Path:
    """What `make test-images` built: DIR/layout (the images) and DIR/sbom (what the package managers
    left); `make test` requires it, a bare pytest skips."""
    printed = run(TEST_IMAGES_SCRIPT, "--print-dir")
    path = Path(printed.strip())
    if not (path / "complete").exists():
        if os.environ.get("STUDIO_IMAGE_TEST_IMAGES") == "required":
            pytest.fail(f"no test images in {path}: `make test-images` builds them", pytrace=False)
        pytest.skip(f"no test images in {path}: run `make test-images` first")
    return path


def run(*argv: str | Path) -> str:
    done = subprocess.run([str(a) for a in argv], capture_output=True, text=True, check=False)
    if done.returncode:
        raise AssertionError(f"{' '.join(map(str, argv))} failed: {done.stderr}")
    return done.stdout


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class Registry:
    host: str
    username: str | None = None
    password: str | None = None

    def push(self, source: str, repository: str, *, all_platforms: bool = False) -> str:
        destination = f"docker://{self.host}/{repository}"
        creds = ["--dest-creds", f"{self.username}:{self.password}"] if self.username else []
        run(
            "skopeo",
            "copy",
            "--dest-tls-verify=false",
            *creds,
            *(["--all"] if all_platforms else []),
            source,
            destination,
        )
        return destination


def _serve(root: Path, auth: str = "") -> Iterator[Registry]:
    port = free_port()
    config = root / "config.yml"
    config.write_text(
        "version: 0.1\nlog: {level: error}\n"
        f"storage: {{filesystem: {{rootdirectory: {root / 'data'}}}, delete: {{enabled: true}}}}\n"
        f"http: {{addr: 127.0.0.1:{port}}}\n" + (f"auth: {auth}\n" if auth else "")
    )
    process = subprocess.Popen(
        ["docker-registry", "serve", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/v2/", timeout=1)
                break
            except urllib.error.HTTPError:  # 401 from an auth-protected registry: it is up
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise AssertionError("docker-registry did not start") from None
                time.sleep(0.1)
        yield Registry(f"127.0.0.1:{port}")
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="session")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    yield from _serve(tmp_path_factory.mktemp("registry"))


@pytest.fixture(scope="session")
def basic_auth_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    root = tmp_path_factory.mktemp("registry-auth")
    htpasswd = root / "htpasswd"
    htpasswd.write_text(run("htpasswd", "-Bbn", "tester", "s3cret"))
    for served in _serve(root, f"{{htpasswd: {{realm: test, path: {htpasswd}}}}}"):
        yield Registry(served.host, "tester", "s3cret")


@pytest.fixture(scope="session")
def token_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TokenService]:
    service = TokenService(tmp_path_factory.mktemp("token"), "tester", "t0ken")
    yield service
    service.close()


@pytest.fixture(scope="session")
def bearer_registry(
    tmp_path_factory: pytest.TempPathFactory, token_service: TokenService
) -> Iterator[Registry]:
    """A registry whose challenge sends clients to a token service for a Bearer token."""
    auth = (
        f"{{token: {{realm: '{token_service.realm}', service: {SERVICE}, issuer: {ISSUER}, "
        f"rootcertbundle: {token_service.bundle}}}}}"
    )
    for served in _serve(tmp_path_factory.mktemp("registry-token"), auth):
        yield Registry(served.host, "tester", "t0ken")


@dataclass(frozen=True)
class UmociImage:
    layout: Path
    tag: str

    @property
    def reference(self) -> str:
        return f"oci:{self.layout}:{self.tag}"


LONG_DIR = "opt/conda/lib/python3.11/site-packages/" + "/".join(f"nested_package_{i}" for i in range(6))


@pytest.fixture(scope="session")
def umoci_image(tmp_path_factory: pytest.TempPathFactory) -> UmociImage:
    """A two-layer image made by umoci: the second layer deletes files (whiteouts)."""
    root = tmp_path_factory.mktemp("umoci")
    layout, bundle = root / "layout", root / "bundle"
    run("umoci", "init", "--layout", layout)
    run("umoci", "new", "--image", f"{layout}:studio")
    run("umoci", "unpack", "--image", f"{layout}:studio", bundle)
    rootfs = bundle / "rootfs"
    files = {
        "etc/passwd": PASSWD,
        "etc/group": GROUP,
        "opt/conda/share/jupyter/kernels/python3/kernel.json": ipykernel_json(),
        "opt/ml/leftover.txt": "deleted by the next layer",
        f"{LONG_DIR}/module_with_a_long_name.py": "x = 1\n",
        "usr/bin/tool": "#!/bin/sh\n",
        "srv/data/owned-by-70000": "id mapping breaks",
    }
    for name, text in files.items():
        (rootfs / name).parent.mkdir(parents=True, exist_ok=True)
        (rootfs / name).write_text(text)
    os.link(rootfs / "usr/bin/tool", rootfs / "usr/bin/tool-hardlink")
    (rootfs / "opt/conda/bin").mkdir(parents=True)
    (rootfs / "opt/conda/bin/python3.11").write_text("elf")
    (rootfs / "opt/conda/bin/python3.11").chmod(0o755)
    os.symlink("python3.11", rootfs / "opt/conda/bin/python")
    os.chown(rootfs / "srv/data/owned-by-70000", 70000, 70000)
    run("umoci", "repack", "--refresh-bundle", "--image", f"{layout}:studio", bundle)
    shutil.rmtree(rootfs / "opt/ml")
    run("umoci", "repack", "--refresh-bundle", "--image", f"{layout}:studio", bundle)
    run(
        "umoci",
        "config",
        "--image",
        f"{layout}:studio",
        "--config.user",
        "sagemaker-user",
        "--config.env",
        "PATH=/opt/conda/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    )
    return UmociImage(layout, "studio")


@pytest.fixture(scope="session")
def multi_platform(tmp_path_factory: pytest.TempPathFactory) -> UmociImage:
    """An image index offering linux/amd64 and linux/arm64, each image made by umoci."""
    root = tmp_path_factory.mktemp("multi")
    layout = root / "layout"
    run("umoci", "init", "--layout", layout)
    for arch in ("amd64", "arm64"):
        run("umoci", "new", "--image", f"{layout}:{arch}")
        run("umoci", "unpack", "--image", f"{layout}:{arch}", root / arch)
        (root / arch / "rootfs" / "etc").mkdir(parents=True, exist_ok=True)
        (root / arch / "rootfs" / "etc" / "arch").write_text(arch)
        run("umoci", "repack", "--image", f"{layout}:{arch}", root / arch)
        run("umoci", "config", "--image", f"{layout}:{arch}", "--architecture", arch, "--os", "linux")
    index_path = layout / "index.json"
    index = json.loads(index_path.read_text())
    by_tag = {d["annotations"]["org.opencontainers.image.ref.name"]: d for d in index["manifests"]}
    images = [
        {k: v for k, v in by_tag[arch].items() if k != "annotations"}
        | {"platform": {"os": "linux", "architecture": arch}}
        for arch in ("arm64", "amd64")
    ]
    # "multi-unknown" also lists an entry of a type we do not know: skipped, not an error.
    unknown = {"mediaType": "application/vnd.example.unknown+json", "size": 2, "digest": "sha256:" + "0" * 64}
    for tag, manifests in (("multi", images), ("multi-unknown", [unknown, *images])):
        image_index = {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": manifests,
        }
        data = json.dumps(image_index).encode()
        digest = hashlib.sha256(data).hexdigest()
        (layout / "blobs" / "sha256" / digest).write_bytes(data)
        index["manifests"].append(
            {
                "mediaType": image_index["mediaType"],
                "digest": f"sha256:{digest}",
                "size": len(data),
                "annotations": {"org.opencontainers.image.ref.name": tag},
            }
        )
    index_path.write_text(json.dumps(index))
    return UmociImage(layout, "multi")


STUDIO_REGION = "us-east-1"


@pytest.fixture
def studio(monkeypatch):
    """moto in this process with a Studio domain (its user profile alice), the state table, and the
    pipeline's Services over them: (SageMaker client, domain ID, Services)."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", STUDIO_REGION)
    with mock_aws():
        sm = boto3.client("sagemaker", region_name=STUDIO_REGION)
        domain = create_domain(boto3.client("iam", region_name=STUDIO_REGION), sm)
        boto3.client("dynamodb", region_name=STUDIO_REGION).create_table(
            TableName="state",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        settings = Settings.model_validate(
            {
                "CONFIG_PARAMETER": "/pipeline/configuration",
                "REPORT_BUCKET": "reports",
                "LAYER_CACHE_TABLE": "layers",
                "STATE_TABLE": "state",
                "TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:notices",
                "IMAGE_ROLE_ARN": domain.role_arn,
                "DOMAIN_ID": domain.domain_id,
            }
        )
        yield sm, domain.domain_id, Services.from_settings(settings)
