"""Evaluate: merge the layer scans, apply the profile and policy, and write the report to S3."""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from studio_image.pipeline.observability import logger, metrics, tracer
from studio_image.pipeline.services import parse_input, services
from studio_image.pipeline.stages.evaluate import EvaluateInput, evaluate


@logger.inject_lambda_context(correlation_id_path="execution_arn")
@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    evaluation = evaluate(parse_input(EvaluateInput, event), services())
    verdict = "ImagesPassed" if evaluation.errors == 0 else "ImagesRefused"
    metrics.add_metric(name=verdict, unit=MetricUnit.Count, value=1)
    return evaluation.dump()
