"""What each attach target held of the image before the run began, recorded once per execution
before Attach's first write. Attach may be retried after writing some targets (a busy profile, a
lost Lambda); the retry must not take what the failed attempt wrote for "what was there before",
or a rollback would restore the new version instead of the old one."""

from __future__ import annotations

import json

from ..aws.sagemaker import SageMaker
from ..aws.storage import ConditionFailed, Table, epoch
from .customimages import config_of, target_settings, with_image
from .models import AttachedTo
from .records import CLAIM_LEASE

Before = tuple[int | None, str | None]  # a target's version of the image, and its AppImageConfig


def _found(
    sagemaker: SageMaker, domain_id: str, targets: list[AttachedTo], app_key: str, image: str
) -> dict[str, Before]:
    """Each target's version of `image` now, and its AppImageConfig (None: not attached there)."""
    found: dict[str, Before] = {}
    probe = {"ImageName": image, "ImageVersionNumber": -1, "AppImageConfigName": ""}
    for target, settings in target_settings(sagemaker, domain_id, targets):
        found[target.target] = (with_image(settings, app_key, probe)[1], config_of(settings, app_key, image))
    return found


def versions_before_run(
    table: Table,
    execution_arn: str,
    sagemaker: SageMaker,
    domain_id: str,
    targets: list[AttachedTo],
    app_key: str,
    image: str,
) -> dict[str, Before]:
    """The versions (and configs) this execution found before it first wrote: read and recorded on the first
    attempt, read back from the record on every retry."""
    key = f"attached-before#{execution_arn}"
    found = _found(sagemaker, domain_id, targets, app_key, image)
    item = {
        "pk": {"S": key},
        "versions": {"S": json.dumps(found)},
        "lease_until": {"N": str(epoch(CLAIM_LEASE))},
    }
    try:
        table.put(item, "attribute_not_exists(pk)")
        return found
    except ConditionFailed:
        recorded = table.get(key)
        if recorded is None:
            return found
        return {
            target: (version, config)
            for target, (version, config) in json.loads(recorded["versions"]["S"]).items()
        }
