"""Where a pushed image is: its ECR source for reading, its URI for SageMaker, and the S3 prefix
its resolved manifest and reports are stored under."""

from __future__ import annotations

import re
from functools import cache

from botocore.loaders import Loader

from ..aws.storage import Bucket
from ..sources.base import ResolvedImage
from ..sources.ecr import EcrSource
from .models import Pushed
from .services import Services


def ecr_source(pushed: Pushed, svc: Services) -> EcrSource:
    """The pushed image, by digest, in the account and region the event came from."""
    return EcrSource(
        pushed.repository,
        digest=pushed.digest,
        registry_id=pushed.account,
        region=pushed.region,
        client=svc.ecr,
        connections=svc.settings.scan_connections,
    )


def image_prefix(pushed: Pushed) -> str:
    return f"images/{pushed.repository}/{pushed.digest}/"


def ecr_uri(pushed: Pushed, digest: str | None = None) -> str:
    """The URI SageMaker pulls: the pushed digest, or `digest` (a multi-platform push's judged
    platform manifest)."""
    return f"{registry_host(pushed.account, pushed.region)}/{pushed.repository}@{digest or pushed.digest}"


def registry_host(account: str, region: str) -> str:
    """An account's ECR registry in a region: aws_account_id.dkr.ecr.region.amazonaws.com, with the
    partition's own DNS suffix (amazonaws.com.cn in China) (Amazon ECR private registry, "Registry
    concepts"; "Amazon ECR endpoints" in the China regions' documentation)."""
    return f"{account}.dkr.ecr.{region}.{dns_suffix(region)}"


@cache
def dns_suffix(region: str) -> str:
    """The DNS suffix of the region's partition, from botocore's partitions data (`dnsSuffix`): a
    region it lists, else one its `regionRegex` matches; amazonaws.com for one it does not know."""
    partitions = Loader().load_data("partitions")["partitions"]
    listed = [p for p in partitions if region in p["regions"]]
    matching = listed or [p for p in partitions if re.match(p["regionRegex"], region)]
    return str(matching[0]["outputs"]["dnsSuffix"]) if matching else "amazonaws.com"


def store_resolved(bucket: Bucket, pushed: Pushed, resolved: ResolvedImage) -> str:
    """Write the resolved image for Evaluate; returns its S3 key."""
    key = image_prefix(pushed) + "resolved.json"
    bucket.put(key, resolved.model_dump_json(by_alias=True).encode(), "application/json")
    return key


def load_resolved(bucket: Bucket, key: str) -> ResolvedImage:
    return ResolvedImage.model_validate_json(bucket.get(key))
