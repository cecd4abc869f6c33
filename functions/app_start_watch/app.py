"""AppStartWatch: start-up lines from `/aws/sagemaker/studio` (a CloudWatch Logs subscription);
one notification per failing app start of an image this pipeline manages."""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.parser.models import CloudWatchLogsModel
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from studio_image.errors import EventInvalid, validation_problems
from studio_image.pipeline.observability import logger, metrics, tracer
from studio_image.pipeline.services import services
from studio_image.pipeline.startwatch import watch_app_start


@logger.inject_lambda_context
@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    try:
        logs = parse(event=event, model=CloudWatchLogsModel).awslogs.decoded_data
    except ValidationError as err:
        raise EventInvalid(f"not a CloudWatch Logs subscription event: {validation_problems(err)}") from err
    lines = [str(entry.message) for entry in logs.logEvents]
    result = watch_app_start(logs.logStream, lines, services())
    if result.notified:
        metrics.add_metric(name="AppStartFailures", unit=MetricUnit.Count, value=1)
    logger.info("app start lines", extra={"stream": result.stream, "reason": result.reason})
    return result.model_dump(mode="json")
