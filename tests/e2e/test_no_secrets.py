"""No secret a run handles reaches a log line, a report, a notification or the run's state: the
layers' pre-signed URLs (their signatures) appear in none of the functions' CloudWatch log events,
the objects the run wrote to S3, the SNS messages or the execution histories."""

from __future__ import annotations

import json

import boto3

from moto_studio.ecr import blob_server
from studio_image_sandbox.ocibuild import Layer
from studio_image_sandbox.samples import compliant

from .conftest import REGION
from .test_canary import configure


def everything_written(pipeline) -> dict[str, str]:
    """Every log event of every log group, every S3 object of the run, every notification and every
    execution history, by where it is."""
    found: dict[str, str] = {}
    logs = pipeline.logs
    for group in logs.describe_log_groups()["logGroups"]:
        name = group["logGroupName"]
        events = logs.filter_log_events(logGroupName=name, limit=10000)["events"]
        found[f"log {name}"] = "\n".join(e["message"] for e in events)
    s3 = boto3.client("s3", region_name=REGION)
    for bucket in s3.list_buckets()["Buckets"]:
        for item in s3.list_objects_v2(Bucket=bucket["Name"]).get("Contents", []):
            body = s3.get_object(Bucket=bucket["Name"], Key=item["Key"])["Body"].read()
            found[f"s3://{bucket['Name']}/{item['Key']}"] = body.decode("utf-8", "replace")
    found["notifications"] = json.dumps(pipeline.notifications())
    for arn in pipeline.executions():
        found[f"history {arn}"] = json.dumps(pipeline.history(arn), default=str)
    return found


def test_no_layer_url_signature_reaches_a_log_a_report_a_notification_or_the_run_state(pipeline):
    # Given a run with a canary, and a run refused for its findings
    configure(pipeline)
    assert pipeline.run(compliant("kernel-gateway"), "studio/canary")["status"] == "SUCCEEDED"
    refused = compliant("kernel-gateway")
    refused.layers.append(Layer().file("opt/app/data.bin", b"x", uid=70000))
    assert pipeline.run(refused, "studio/refused")["status"] == "FAILED"
    # When everything the runs wrote is read back
    written = everything_written(pipeline)
    signatures = list(blob_server()._grants)  # each GetDownloadUrlForLayer's X-Amz-Signature
    # Then the layers were read through signed URLs, the functions logged, and no signature is anywhere
    assert signatures and any(k.startswith("log /aws/lambda/") and v for k, v in written.items())
    assert any(k.startswith("s3://") for k in written)
    leaks = [(where, s) for where, text in written.items() for s in signatures if s in text]
    assert leaks == []
