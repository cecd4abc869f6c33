"""Configure: create or update the AppImageConfig derived from the image."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from studio_image.pipeline.observability import logger, metrics, tracer
from studio_image.pipeline.services import parse_input, services
from studio_image.pipeline.stages.configure import ConfigureInput, configure


@logger.inject_lambda_context(correlation_id_path="execution_arn")
@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> str:
    return configure(parse_input(ConfigureInput, event), services())
