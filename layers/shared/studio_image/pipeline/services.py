"""The AWS services every stage works with, built once per process from the deployment's settings,
and the parsing of a state's input into its model."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any, TypeVar

import boto3
from pydantic import BaseModel, ValidationError

from ..aws.logs import Logs
from ..aws.sagemaker import SageMaker
from ..aws.storage import Bucket, Table, Topic
from ..errors import EventInvalid, validation_problems
from .records import TableLayerCache
from .settings import Settings, load_settings


@dataclass(frozen=True)
class Services:
    settings: Settings
    ecr: Any
    sagemaker: SageMaker
    bucket: Bucket
    layers: TableLayerCache
    state: Table
    topic: Topic
    ssm: Any
    logs: Logs

    @classmethod
    def from_settings(cls, settings: Settings) -> Services:
        bucket = Bucket(settings.report_bucket, boto3.client("s3"))
        dynamodb = boto3.client("dynamodb")
        return cls(
            settings=settings,
            ecr=boto3.client("ecr"),
            sagemaker=SageMaker(boto3.client("sagemaker")),
            bucket=bucket,
            layers=TableLayerCache(Table(settings.layer_cache_table, dynamodb), bucket),
            state=Table(settings.state_table, dynamodb),
            topic=Topic(settings.topic_arn, boto3.client("sns")),
            ssm=boto3.client("ssm"),
            logs=Logs(boto3.client("logs")),
        )


@cache
def services() -> Services:
    """Built once per process from the environment; `services.cache_clear()` resets it in tests."""
    return Services.from_settings(load_settings())


M = TypeVar("M", bound=BaseModel)


def parse_input(model: type[M], event: object) -> M:
    try:
        return model.model_validate(event)
    except ValidationError as err:
        raise EventInvalid(f"{model.__name__}: {validation_problems(err)}") from err
