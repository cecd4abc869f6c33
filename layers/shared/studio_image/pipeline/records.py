"""What the pipeline keeps in DynamoDB: layer scans by digest, claims on (repository, digest), and
per-domain locks around custom-image changes.

Claims are how a redelivered or repeated push never yields a second image version: the first run
for a repository and digest claims it with a conditional write, and any later run finds the claim
and ends as "unchanged" with the earlier run's result. A run that failed (not one that refused the
image) gives its claim up, so pushing again retries; if it had registered a version, the claim
keeps it as "failed" with the version, and the retry reuses that version instead of making a
second one. A claim or lock whose holder died expires.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from ..aws.storage import Bucket, ConditionFailed, Missing, Table, epoch
from ..cache import cache_key, decode_scan, encode_scan
from ..scan.models import LayerScan

INLINE_LIMIT = 350_000  # DynamoDB items hold 400 KB; larger scans go to S3, the item points there
CLAIM_LEASE = 6 * 3600  # a running claim older than this belongs to a run that died
LOCK_LEASE = 120


class TableLayerCache:
    """The pipeline's `LayerCache`: a base layer shared by many images is read once."""

    def __init__(self, table: Table, bucket: Bucket) -> None:
        self.table = table
        self.bucket = bucket

    def has(self, digest: str) -> bool:
        return self.table.exists(cache_key(digest))

    def get(self, digest: str) -> LayerScan | None:
        item = self.table.get(cache_key(digest))
        if item is None:
            return None
        if "scan" in item:
            return decode_scan(item["scan"]["B"])
        try:
            return decode_scan(self.bucket.get(item["s3_key"]["S"]))
        except Missing:
            return None

    def put(self, scan: LayerScan) -> None:
        key = cache_key(scan.digest)
        data = encode_scan(scan)
        item: dict[str, Any] = {"pk": {"S": key}, "size": {"N": str(len(data))}}
        if len(data) <= INLINE_LIMIT:
            item["scan"] = {"B": data}
        else:
            item["s3_key"] = {"S": f"layers/{key}.json.zst"}
            self.bucket.put(item["s3_key"]["S"], data, "application/zstd")
        self.table.put(item)


class ClaimRecord(BaseModel):
    """A digest's claim: the run that holds (or held) it, and its result."""

    model_config = ConfigDict(extra="ignore")

    execution_arn: str | None = None
    run_outcome: str = "handled"  # "running" until the run finishes, then its outcome
    image_version_arn: str | None = None


def _claim_key(repository: str, digest: str) -> str:
    return f"claim#{repository}@{digest}"


class Claims:
    def __init__(self, table: Table) -> None:
        self.table = table

    def claim(self, repository: str, digest: str, execution_arn: str) -> ClaimRecord | None:
        """Claim the digest for this run. None if claimed; else the earlier run's record."""
        key = _claim_key(repository, digest)
        try:
            self.table.put(
                {
                    "pk": {"S": key},
                    "execution_arn": {"S": execution_arn},
                    "run_outcome": {"S": "running"},
                    "lease_until": {"N": str(epoch(CLAIM_LEASE))},
                },
                condition="attribute_not_exists(pk) OR (run_outcome = :running AND lease_until < :now)"
                " OR run_outcome = :failed OR execution_arn = :me",
                values={
                    ":running": {"S": "running"},
                    ":failed": {"S": "failed"},
                    ":now": {"N": str(epoch())},
                    ":me": {"S": execution_arn},
                },
            )
            return None
        except ConditionFailed:
            # Gone between the write and the read (released meanwhile): treated as handled.
            return self.record(repository, digest) or ClaimRecord()

    def record(self, repository: str, digest: str) -> ClaimRecord | None:
        """The digest's claim, if any."""
        item = self.table.get(_claim_key(repository, digest))
        if item is None:
            return None
        found = {name: value["S"] for name, value in item.items() if "S" in value}
        return ClaimRecord.model_validate(found, strict=False)

    def release(self, repository: str, digest: str) -> None:
        """Forget the digest: pushed again, it is checked again."""
        self.table.delete(_claim_key(repository, digest))

    def finish(
        self, repository: str, digest: str, execution_arn: str, outcome: str, image_version_arn: str | None
    ) -> None:
        """Record the run's result on its claim, or give the claim up if the run failed (keeping
        the version it registered, if any, for the retry)."""
        key = _claim_key(repository, digest)
        mine = {":me": {"S": execution_arn}}
        try:
            if outcome == "failed" and not image_version_arn:
                self.table.delete(key, condition="execution_arn = :me", values=mine)
                return
            item: dict[str, Any] = {
                "pk": {"S": key},
                "execution_arn": {"S": execution_arn},
                "run_outcome": {"S": outcome},
            }
            if image_version_arn:
                item["image_version_arn"] = {"S": image_version_arn}
            self.table.put(item, condition="execution_arn = :me", values=mine)
        except ConditionFailed:
            return  # the claim is not ours (it expired and another run took it): leave it be


class DomainLock:
    """One run at a time changes a domain's custom images. Held for one Attach invocation."""

    def __init__(self, table: Table, domain_id: str, holder: str) -> None:
        self.table = table
        self.key = f"lock#domain#{domain_id}"
        self.holder = holder

    def acquire(self) -> bool:
        try:
            self.table.put(
                {
                    "pk": {"S": self.key},
                    "execution_arn": {"S": self.holder},
                    "lease_until": {"N": str(epoch(LOCK_LEASE))},
                },
                condition="attribute_not_exists(pk) OR lease_until < :now OR execution_arn = :me",
                values={":now": {"N": str(epoch())}, ":me": {"S": self.holder}},
            )
            return True
        except ConditionFailed:
            return False

    def release(self) -> None:
        try:
            self.table.delete(self.key, condition="execution_arn = :me", values={":me": {"S": self.holder}})
        except ConditionFailed:
            return


class AppStartNotices:
    """One notification per failing app start: the first sender within the window wins."""

    def __init__(self, table: Table) -> None:
        self.table = table

    def first(self, stream: str, window_seconds: int) -> bool:
        try:
            self.table.put(
                {"pk": {"S": f"app-start#{stream}"}, "lease_until": {"N": str(epoch(window_seconds))}},
                condition="attribute_not_exists(pk) OR lease_until < :now",
                values={":now": {"N": str(epoch())}},
            )
        except ConditionFailed:
            return False
        return True
