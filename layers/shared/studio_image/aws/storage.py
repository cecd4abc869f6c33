"""S3, DynamoDB, SNS and SSM adapters: the few calls the pipeline makes to each."""

from __future__ import annotations

import time
from typing import Any

import boto3

from ..errors import AwsRequestFailed
from .common import call


class Missing(AwsRequestFailed):
    """The object or item asked for does not exist."""


class ConditionFailed(AwsRequestFailed):
    """A conditional DynamoDB write found the item in another state."""


class Bucket:
    def __init__(self, name: str, client: Any = None) -> None:
        self.name = name
        self._client = client or boto3.client("s3")

    def uri(self, key: str) -> str:
        return f"s3://{self.name}/{key}"

    def put(self, key: str, body: bytes, content_type: str) -> str:
        call(
            self._client,
            "put_object",
            f"write {self.uri(key)}",
            Bucket=self.name,
            Key=key,
            Body=body,
            ContentType=content_type,
        )
        return self.uri(key)

    def get(self, key: str) -> bytes:
        found = call(
            self._client,
            "get_object",
            f"read {self.uri(key)}",
            {"NoSuchKey": Missing},
            Bucket=self.name,
            Key=key,
        )
        return bytes(found["Body"].read())


Item = dict[str, Any]  # DynamoDB's attribute-value form


class Table:
    """A DynamoDB table keyed by one string attribute, `pk`."""

    def __init__(self, name: str, client: Any = None) -> None:
        self.name = name
        self._client = client or boto3.client("dynamodb")

    def get(self, key: str) -> dict[str, Any] | None:
        found = call(
            self._client,
            "get_item",
            f"read {key} from {self.name}",
            TableName=self.name,
            Key={"pk": {"S": key}},
            ConsistentRead=True,
        )
        return found.get("Item")

    def exists(self, key: str) -> bool:
        found = call(
            self._client,
            "get_item",
            f"look up {key} in {self.name}",
            TableName=self.name,
            Key={"pk": {"S": key}},
            ProjectionExpression="pk",
        )
        return "Item" in found

    def put(
        self, item: dict[str, Any], condition: str | None = None, values: dict[str, Any] | None = None
    ) -> None:
        self._write("put_item", f"write {item['pk']['S']} to {self.name}", {"Item": item}, condition, values)

    def delete(self, key: str, condition: str | None = None, values: dict[str, Any] | None = None) -> None:
        self._write(
            "delete_item", f"delete {key} from {self.name}", {"Key": {"pk": {"S": key}}}, condition, values
        )

    def _write(
        self,
        operation: str,
        what: str,
        target: dict[str, Any],
        condition: str | None,
        values: dict[str, Any] | None,
    ) -> None:
        kwargs: dict[str, Any] = {"TableName": self.name, **target}
        if condition:
            kwargs["ConditionExpression"] = condition
        if values:
            kwargs["ExpressionAttributeValues"] = values
        call(self._client, operation, what, {"ConditionalCheckFailedException": ConditionFailed}, **kwargs)


def epoch(after_seconds: float = 0) -> int:
    return int(time.time() + after_seconds)


class Topic:
    def __init__(self, arn: str, client: Any = None) -> None:
        self.arn = arn
        self._client = client or boto3.client("sns")

    def publish(self, subject: str, message: str, attributes: dict[str, str]) -> str:
        found = call(
            self._client,
            "publish",
            f"publish to {self.arn}",
            TopicArn=self.arn,
            Subject=subject,
            Message=message,
            MessageStructure="json",
            MessageAttributes={k: {"DataType": "String", "StringValue": v} for k, v in attributes.items()},
        )
        return str(found["MessageId"])


def read_parameter(name: str, client: Any = None) -> str:
    client = client or boto3.client("ssm")
    found = call(client, "get_parameter", f"read parameter {name}", Name=name)
    return str(found["Parameter"]["Value"])
