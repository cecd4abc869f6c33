"""Notify: publish the run's one SNS notification, pass or fail, and record its result."""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from studio_image.pipeline.observability import logger, metrics, tracer
from studio_image.pipeline.services import parse_input, services
from studio_image.pipeline.stages.notify import notify
from studio_image.pipeline.state import RunRecord


@logger.inject_lambda_context(correlation_id_path="execution_arn")
@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    notice = notify(parse_input(RunRecord, event), services())
    metrics.add_metric(name=f"Runs{notice.outcome.value.title()}", unit=MetricUnit.Count, value=1)
    logger.info("notified", extra={"subject": notice.subject})
    return notice.dump()
