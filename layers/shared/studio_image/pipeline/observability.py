"""The Powertools Logger, Tracer and Metrics every handler shares (configured by POWERTOOLS_*
environment variables in the template)."""

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger()
tracer = Tracer()
metrics = Metrics()
