"""CloudWatch Logs adapter: reading one log stream onward from where the last read stopped."""

from __future__ import annotations

from typing import Any

from .common import NotFound, call


class Logs:
    def __init__(self, client: Any) -> None:
        self._client = client

    def read_on(self, group: str, stream: str, token: str | None) -> tuple[list[str], str | None]:
        """The stream's messages after `token` (from the start if None), and the token to go on
        from. A stream not yet created has no messages."""
        kwargs: dict[str, Any] = {"logGroupName": group, "logStreamName": stream, "startFromHead": True}
        lines: list[str] = []
        try:
            while True:
                if token:
                    kwargs["nextToken"] = token
                page = call(
                    self._client,
                    "get_log_events",
                    f"log stream {group}:{stream}",
                    {"ResourceNotFoundException": NotFound},
                    **kwargs,
                )
                lines += [event["message"] for event in page.get("events", [])]
                # The forward token stays the same once the stream's end is reached.
                if not page.get("events") or page.get("nextForwardToken") == token:
                    return lines, page.get("nextForwardToken") or token
                token = page.get("nextForwardToken")
        except NotFound:
            return lines, token
