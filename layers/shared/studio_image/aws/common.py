"""What every AWS adapter shares: one call path that turns botocore's errors into ours."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError, ParamValidationError

from ..errors import AwsRequestFailed, AwsUnavailable, StudioImageError

# Codes any service may answer with that mean "try again later".
THROTTLING = frozenset(
    {
        "ThrottlingException",
        "Throttling",
        "ThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "ProvisionedThroughputExceededException",
        "RequestThrottled",
        "SlowDown",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "InternalFailure",
        "InternalServerError",
        "InternalError",
    }
)

ErrorMap = Mapping[str, type[StudioImageError]]


class NotFound(AwsRequestFailed):
    """A call named a resource the service does not have."""


def error_code(err: ClientError) -> str:
    return str(err.response.get("Error", {}).get("Code", ""))


def translate(err: ClientError, what: str, errors: ErrorMap) -> StudioImageError:
    code = error_code(err)
    message = err.response.get("Error", {}).get("Message", str(err))
    status = int(err.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
    if code in errors:
        kind = errors[code]
    elif code in THROTTLING or status >= 500:
        kind = AwsUnavailable
    else:
        kind = AwsRequestFailed
    return kind(f"{what}: {code}: {message}")


def call(
    client: Any,
    operation: str,
    what: str,
    errors: ErrorMap | None = None,
    *,
    unavailable: type[StudioImageError] = AwsUnavailable,
    **kwargs: Any,
) -> dict[str, Any]:
    """`client.<operation>(**kwargs)`, raising our exceptions instead of botocore's."""
    try:
        return getattr(client, operation)(**kwargs)  # type: ignore[no-any-return]
    except ClientError as err:
        raise translate(err, what, errors or {}) from err
    except ParamValidationError as err:  # a request that can never succeed: not worth a retry
        raise AwsRequestFailed(f"{what}: {err}") from err
    except BotoCoreError as err:
        raise unavailable(f"{what}: {err}") from err
