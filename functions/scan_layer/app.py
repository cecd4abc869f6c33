"""ScanLayer (one Map iteration): stream one layer from ECR into the scanner, cached by digest."""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from studio_image.pipeline import steps
from studio_image.pipeline.models import LayerTask
from studio_image.pipeline.observability import logger, metrics, tracer


@logger.inject_lambda_context(correlation_id_path="layer.digest")
@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    task = steps.parse_input(LayerTask, event)
    outcome = steps.scan_layer(task, steps.services(), context.get_remaining_time_in_millis() / 1000)
    kind = "LayersUnreadable" if outcome.problem else "LayersCached" if outcome.cached else "LayersScanned"
    metrics.add_metric(name=kind, unit=MetricUnit.Count, value=1)
    return outcome.dump()
