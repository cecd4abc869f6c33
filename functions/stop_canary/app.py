"""StopCanary: delete the canary app, whatever happened, and roll back a failure if configured."""

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
    run = steps.stop_canary(state, steps.services())
    failed = run.canary is not None and run.canary.failed
    metrics.add_metric(name="CanaryFailed" if failed else "CanaryPassed", unit=MetricUnit.Count, value=1)
    return run.dump()
