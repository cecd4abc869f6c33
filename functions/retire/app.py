"""Retire: an ECR delete; detach and delete the image versions built from the deleted digest."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from studio_image.pipeline.observability import logger, metrics, tracer
from studio_image.pipeline.services import parse_input, services
from studio_image.pipeline.stages.retire import RetireInput, retire


@logger.inject_lambda_context(correlation_id_path="execution_arn")
@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return retire(parse_input(RetireInput, event), services()).dump()
