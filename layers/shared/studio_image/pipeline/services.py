"""The AWS services every stage works with, built once per process from the deployment's settings,
and the parsing of a state's input into its model."""

from __future__ import annotations

from functools import cache, cached_property
from typing import Any, TypeVar

import boto3
from pydantic import BaseModel, ValidationError

from ..aws.logs import Logs
from ..aws.sagemaker import SageMaker
from ..aws.storage import Bucket, Table, Topic
from ..errors import EventInvalid, validation_problems
from .records import TableLayerCache
from .settings import Settings, load_settings


class Services:
    """The AWS services a stage works with, each client made on first use: a cold start pays only
    for the clients its stage calls (making one loads its service model: tens of milliseconds,
    SageMaker's a hundred)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @classmethod
    def from_settings(cls, settings: Settings) -> Services:
        return cls(settings)

    @cached_property
    def ecr(self) -> Any:
        return boto3.client("ecr")

    @cached_property
    def sagemaker(self) -> SageMaker:
        return SageMaker(boto3.client("sagemaker"))

    @cached_property
    def bucket(self) -> Bucket:
        return Bucket(self.settings.report_bucket, boto3.client("s3"))

    @cached_property
    def _dynamodb(self) -> Any:
        return boto3.client("dynamodb")

    @cached_property
    def layers(self) -> TableLayerCache:
        return TableLayerCache(Table(self.settings.layer_cache_table, self._dynamodb), self.bucket)

    @cached_property
    def state(self) -> Table:
        return Table(self.settings.state_table, self._dynamodb)

    @cached_property
    def topic(self) -> Topic:
        return Topic(self.settings.topic_arn, boto3.client("sns"))

    @cached_property
    def ssm(self) -> Any:
        return boto3.client("ssm")

    @cached_property
    def logs(self) -> Logs:
        return Logs(boto3.client("logs"))


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
