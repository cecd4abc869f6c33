"""Evaluate: merge the layer scans, apply the profile and policy, and write the report to S3."""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from studio_image.pipeline import steps
from studio_image.pipeline.models import RunState
from studio_image.pipeline.observability import logger, metrics, tracer


@logger.inject_lambda_context(correlation_id_path="execution_arn")
@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    state = steps.parse_input(RunState, event)
    run = steps.evaluate(state, steps.services())
    if run.evaluation is not None:
        verdict = "ImagesPassed" if run.evaluation.errors == 0 else "ImagesRefused"
        metrics.add_metric(name=verdict, unit=MetricUnit.Count, value=1)
    return run.dump()
