"""Resolve: parse the ECR push event, find the repository's binding, claim the digest, and read the
image's manifest and config."""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from studio_image.pipeline.observability import logger, metrics, tracer
from studio_image.pipeline.services import parse_input, services
from studio_image.pipeline.stages.resolve import resolve
from studio_image.pipeline.state import RunStart


@logger.inject_lambda_context(correlation_id_path="execution_arn")
@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    resolved = resolve(parse_input(RunStart, event), services())
    metrics.add_metric(
        name="PushesSkipped" if resolved.skip else "PushesChecked", unit=MetricUnit.Count, value=1
    )
    return resolved.dump()
