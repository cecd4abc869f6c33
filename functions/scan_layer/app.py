"""ScanLayer (one Map iteration): stream one layer from ECR into the scanner, cached by digest."""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from studio_image.pipeline.observability import logger, metrics, tracer
from studio_image.pipeline.services import parse_input, services
from studio_image.pipeline.stages.scan_layer import LayerTask, scan_layer


@logger.inject_lambda_context(correlation_id_path="layer.digest")
@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    task = parse_input(LayerTask, event)
    outcome = scan_layer(task, services(), context.get_remaining_time_in_millis() / 1000)
    kind = "LayersUnreadable" if outcome.problem else "LayersCached" if outcome.cached else "LayersScanned"
    metrics.add_metric(name=kind, unit=MetricUnit.Count, value=1)
    return outcome.dump()
