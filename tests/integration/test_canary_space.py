"""A canary in a space waits while the space runs its app: a space runs one app at a time."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from studio_image.aws.sagemaker import SageMaker
from studio_image.errors import CanarySpaceBusy
from studio_image.pipeline import canaryspace
from studio_image.pipeline.models import CanaryPlan
from studio_image_sandbox.studio import create_domain

PLAN = CanaryPlan(
    owner_kind="Space",
    owner="canary-jupyterlab",
    app_type="JupyterLab",
    instance_type="ml.t3.medium",
    budget_seconds=60,
    rollback=False,
)


def test_a_canary_does_not_start_while_its_space_runs_its_app():
    with mock_aws():
        client = boto3.client("sagemaker", region_name="us-east-1")
        domain = create_domain(boto3.client("iam", region_name="us-east-1"), client)
        sagemaker = SageMaker(client)
        name = canaryspace.app_name(PLAN, 3, "run")
        key = {
            "DomainId": domain.domain_id,
            "SpaceName": PLAN.owner,
            "AppType": "JupyterLab",
            "AppName": name,
        }
        # Given the canary space's app was started by someone
        client.create_app(**key)
        # When a canary checks the space, then it is refused as busy, naming the space
        with pytest.raises(
            CanarySpaceBusy, match=r"space canary-jupyterlab in d-.* is running its JupyterLab app"
        ):
            canaryspace.check_space_free(sagemaker, domain.domain_id, PLAN, name)
        # And once the app is deleted, the canary may start
        client.delete_app(**key)
        canaryspace.check_space_free(sagemaker, domain.domain_id, PLAN, name)
        assert name == "default"
