"""Where a pushed image is: its ECR source for reading, its URI for SageMaker, and the S3 prefix
its resolved manifest and reports are stored under."""

from __future__ import annotations

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


def ecr_uri(pushed: Pushed) -> str:
    return f"{pushed.account}.dkr.ecr.{pushed.region}.amazonaws.com/{pushed.repository}@{pushed.digest}"


def store_resolved(bucket: Bucket, pushed: Pushed, resolved: ResolvedImage) -> str:
    """Write the resolved image for Evaluate; returns its S3 key."""
    key = image_prefix(pushed) + "resolved.json"
    bucket.put(key, resolved.model_dump_json(by_alias=True).encode(), "application/json")
    return key


def load_resolved(bucket: Bucket, key: str) -> ResolvedImage:
    return ResolvedImage.model_validate_json(bucket.get(key))
