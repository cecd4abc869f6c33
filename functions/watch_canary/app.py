"""WatchCanary: the canary app's status, and its start-up log from where the last read stopped."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from studio_image.pipeline.observability import logger, metrics, tracer
from studio_image.pipeline.services import parse_input, services
from studio_image.pipeline.stages.canary import WatchInput, watch_canary


@logger.inject_lambda_context(correlation_id_path="execution_arn")
@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return watch_canary(parse_input(WatchInput, event), services()).dump()
