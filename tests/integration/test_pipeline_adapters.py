"""The pipeline's adapters against real parts: ranged reads over HTTP, claims and locks in
DynamoDB (moto), the layer cache spilling to S3, and a handler called as Lambda calls it."""

from __future__ import annotations

import hashlib
import os
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3
import pytest
from botocore.config import Config
from moto import mock_aws

from studio_image.aws.common import call
from studio_image.aws.sagemaker import AppState, SageMaker, split_version_arn
from studio_image.aws.storage import Bucket, Table
from studio_image.cache import cache_key
from studio_image.errors import AwsRequestFailed, AwsUnavailable, LayerDeadlineExceeded
from studio_image.pipeline.records import INLINE_LIMIT, ClaimRecord, Claims, DomainLock, TableLayerCache
from studio_image.pipeline.studio import image_description, is_managed
from studio_image.scan.models import Entry, LayerScan
from studio_image.scan.streams import VerifyingReader
from studio_image.sources.http import RangedStream, pool

BLOB = os.urandom(5 * 1024 * 1024 + 123)


class Server:
    """Serves BLOB, honouring Range unless told not to; records what it was asked."""

    def __init__(self, honour_range: bool = True, delay: float = 0.0) -> None:
        self.ranges: list[str | None] = []
        self.active = self.peak = 0
        lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with lock:
                    outer.active += 1
                    outer.peak = max(outer.peak, outer.active)
                    outer.ranges.append(self.headers.get("Range"))
                time.sleep(delay)
                found = re.fullmatch(r"bytes=(\d+)-(\d+)", self.headers.get("Range") or "")
                if found and honour_range:
                    first, last = int(found[1]), int(found[2])
                    body, status = BLOB[first : last + 1], 206
                else:
                    body, status = BLOB, 200
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                with lock:
                    outer.active -= 1

            def log_message(self, *args: object) -> None:
                return None

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/blob"


def read_all(stream: RangedStream) -> bytes:
    try:
        return b"".join(iter(lambda: stream.read(1 << 20), b""))
    finally:
        stream.close()


def test_a_blob_is_read_in_order_from_concurrent_ranged_requests():
    server = Server(delay=0.05)
    stream = RangedStream(pool(), server.url, len(BLOB), "blob", connections=4, part_size=512 * 1024)
    assert read_all(stream) == BLOB
    assert len(server.ranges) == 11 and server.ranges[0] == "bytes=0-524287"
    assert server.peak > 1  # more than one connection carried the blob at once


def test_a_server_that_ignores_ranges_is_read_as_one_stream():
    server = Server(honour_range=False)
    stream = RangedStream(pool(), server.url, len(BLOB), "blob", connections=4, part_size=512 * 1024)
    assert read_all(stream) == BLOB
    assert len(server.ranges) == 1  # the first answer was the whole blob: no further requests


def test_a_read_past_its_deadline_stops_with_a_typed_error():
    server = Server(delay=0.2)
    stream = RangedStream(pool(), server.url, len(BLOB), "blob", connections=1, part_size=512 * 1024)
    digest = "sha256:" + hashlib.sha256(BLOB).hexdigest()
    reader = VerifyingReader(stream, name="layer 1", digest=digest, deadline=time.monotonic() + 0.3)
    with pytest.raises(LayerDeadlineExceeded, match="layer 1: not read within the time allowed"):
        reader.read()
    reader.close()


@pytest.fixture
def tables():
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        for name in ("state", "layers"):
            dynamodb.create_table(
                TableName=name,
                AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                BillingMode="PAY_PER_REQUEST",
            )
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="reports")
        yield Table("state", dynamodb), Table("layers", dynamodb), Bucket("reports", s3)


def test_the_first_run_claims_a_digest_and_later_runs_see_its_result(tables):
    state, _, _ = tables
    claims = Claims(state)
    assert claims.claim("studio/a", "sha256:1", "run-1") is None
    assert claims.claim("studio/a", "sha256:1", "run-2") == ClaimRecord(
        execution_arn="run-1", run_outcome="running"
    )
    claims.finish("studio/a", "sha256:1", "run-1", "passed", "arn:version/1")
    assert claims.claim("studio/a", "sha256:1", "run-3") == ClaimRecord(
        execution_arn="run-1", run_outcome="passed", image_version_arn="arn:version/1"
    )
    # another run's finish does not touch a claim it does not hold
    claims.finish("studio/a", "sha256:1", "run-3", "failed", None)
    assert claims.claim("studio/a", "sha256:1", "run-4").execution_arn == "run-1"


def test_a_failed_run_releases_its_claim_so_a_new_push_is_checked_again(tables):
    state, _, _ = tables
    claims = Claims(state)
    assert claims.claim("studio/a", "sha256:2", "run-1") is None
    claims.finish("studio/a", "sha256:2", "run-1", "failed", None)
    assert claims.claim("studio/a", "sha256:2", "run-2") is None


def test_one_holder_at_a_time_and_a_released_lock_is_free(tables):
    state, _, _ = tables
    first, second = DomainLock(state, "d-1", "run-1"), DomainLock(state, "d-1", "run-2")
    assert first.acquire() and not second.acquire()
    second.release()  # not the holder: no effect
    assert not second.acquire()
    first.release()
    assert second.acquire()
    assert DomainLock(state, "d-2", "run-1").acquire()  # locks are per domain


def test_the_layer_cache_keeps_small_scans_inline_and_large_ones_in_s3(tables):
    _, layers, bucket = tables
    cache = TableLayerCache(layers, bucket)

    def scan(digest: str, entries: int) -> LayerScan:
        made = [
            Entry(path=f"/opt/{os.urandom(12).hex()}/{i}", kind="file", mode=0o644, uid=0, gid=0, size=i)
            for i in range(entries)
        ]
        return LayerScan(
            digest=digest,
            media_type="m",
            compression="gzip",
            compressed_size=1,
            uncompressed_size=1,
            entries=made,
        )

    small, large = scan("sha256:" + "1" * 64, 10), scan("sha256:" + "2" * 64, 30000)
    assert not cache.has(small.digest)
    cache.put(small)
    cache.put(large)
    assert cache.get(small.digest) == small and cache.get(large.digest) == large
    items = {d: layers.get(cache_key(d)) for d in (small.digest, large.digest)}
    assert "scan" in items[small.digest] and int(items[large.digest]["size"]["N"]) > INLINE_LIMIT
    assert items[large.digest]["s3_key"]["S"].startswith("layers/")


def test_a_request_botocore_refuses_is_not_retried_and_a_lost_connection_is():
    # Given a client whose request cannot validate, and one whose endpoint does not answer
    with mock_aws():
        sagemaker = boto3.client("sagemaker", region_name="us-east-1")
        # When a space's JupyterLab settings are given CustomImages (they have none)
        with pytest.raises(AwsRequestFailed, match="Unknown parameter"):
            call(
                sagemaker,
                "update_space",
                "update space",
                DomainId="d-1",
                SpaceName="s",
                SpaceSettings={"JupyterLabAppSettings": {"CustomImages": []}},
            )
    # Then that is AwsRequestFailed (not retried), while an unreachable endpoint is AwsUnavailable
    dead = boto3.client(
        "sagemaker",
        region_name="us-east-1",
        endpoint_url="http://127.0.0.1:9",
        aws_access_key_id="x",
        aws_secret_access_key="x",
        config=Config(retries={"max_attempts": 0}, connect_timeout=1),
    )
    with pytest.raises(AwsUnavailable):
        call(dead, "describe_domain", "describe domain", DomainId="d-1")


def test_the_sagemaker_adapter_answers_with_typed_states_of_images_versions_and_apps():
    with mock_aws():
        client = boto3.client("sagemaker", region_name="us-east-1")
        sagemaker = SageMaker(client)
        role = "arn:aws:iam::123456789012:role/images"
        # Given no image yet, then one this pipeline creates with its marker
        assert sagemaker.describe_image("studio-lab") is None
        sagemaker.create_image("studio-lab", role, "Lab", image_description("studio/lab"))
        image = sagemaker.describe_image("studio-lab")
        assert image is not None and image.name == "studio-lab" and is_managed(image.description)
        # When a version is made of an image ECR does not hold
        missing = f"123456789012.dkr.ecr.us-east-1.amazonaws.com/studio/lab@sha256:{'0' * 64}"
        version_arn = sagemaker.create_image_version("studio-lab", missing, "token-1")
        assert sagemaker.describe_image_version("studio-lab", 1).status == "CREATING"
        time.sleep(0.3)  # longer than the test delays (tests/conftest.py)
        # Then its state says it failed, with SageMaker's reason
        failed = sagemaker.describe_image_version("studio-lab", 1)
        assert failed.status == "CREATE_FAILED" and "does not exist in Amazon ECR" in (
            failed.failure_reason or ""
        )
        # And an app started with the image reads back with its image, and no reason while pending
        domain = client.create_domain(
            DomainName="studio",
            AuthMode="IAM",
            DefaultUserSettings={"ExecutionRole": role},
            SubnetIds=["subnet-1"],
            VpcId="vpc-1",
        )["DomainArn"].rsplit("/", 1)[-1]
        image_arn = split_version_arn(version_arn)[0]
        attached = {"CustomImages": [{"ImageName": "studio-lab", "AppImageConfigName": "lab"}]}
        client.create_user_profile(
            DomainId=domain, UserProfileName="alice", UserSettings={"KernelGatewayAppSettings": attached}
        )
        sagemaker.create_app(
            domain, "UserProfile", "alice", "KernelGateway", "lab", {"SageMakerImageArn": image_arn}
        )
        app = sagemaker.describe_app(domain, "UserProfile", "alice", "KernelGateway", "lab")
        assert app == AppState(status="Pending", image_arn=image_arn)
