"""StopCanary: delete the canary app, whatever happened, and roll back a failure if configured."""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from studio_image.pipeline.observability import logger, metrics, tracer
from studio_image.pipeline.services import parse_input, services
from studio_image.pipeline.stages.canary import StopInput, stop_canary


@logger.inject_lambda_context(correlation_id_path="execution_arn")
@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    canary = stop_canary(parse_input(StopInput, event), services())
    name = "CanaryFailed" if canary.failed else "CanaryPassed"
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)
    return canary.dump()
