"""What `sandbox up` prints while it runs: one line per image pushed or deleted, per execution
started and ended, and per notification SNS delivered, as they happen."""

from __future__ import annotations

import threading
import time
from typing import Any, TextIO

from botocore.exceptions import BotoCoreError, ClientError

from .sandbox import Sandbox


class Feed:
    def __init__(self, sandbox: Sandbox, out: TextIO) -> None:
        self.sandbox = sandbox
        self.out = out
        self._lock = threading.Lock()
        self._statuses: dict[str, str] = {}
        self._notified = 0

    def line(self, text: str) -> None:
        with self._lock:
            self.out.write(f"{time.strftime('%H:%M:%S')} {text}\n")
            self.out.flush()

    def image_action(self, event: dict[str, Any]) -> None:
        """A listener for moto_studio.ecr.on_image_action."""
        detail = event["detail"]
        tag = f":{detail['image-tag']}" if detail.get("image-tag") else ""
        self.line(
            f"{detail['action-type'].lower():<12} {detail['repository-name']}{tag} {detail['image-digest']}"
        )

    def poll(self) -> None:
        sfn = self.sandbox.client("stepfunctions")
        pages = sfn.get_paginator("list_executions").paginate(
            stateMachineArn=self.sandbox.stack.state_machine_arn
        )
        listed = sorted((e for page in pages for e in page["executions"]), key=lambda e: e["startDate"])
        for execution in listed:
            arn, status = execution["executionArn"], execution["status"]
            if self._statuses.get(arn) == status:
                continue
            result = self.sandbox.result(arn)
            short = arn.rsplit(":", 1)[-1][:8]
            if arn not in self._statuses:
                self.line(f"{'execution':<12} {short} started for {result.image}")
            if status != "RUNNING":
                seconds = result.seconds or 0
                self.line(f"{'execution':<12} {short} {status} in {seconds:.1f} s: {result.outcome or '-'}")
            self._statuses[arn] = status
        delivered = self.sandbox.notifications()
        for notification in delivered[self._notified :]:
            self.line(f"{'notification':<12} {notification.subject}")
        self._notified = len(delivered)

    def run(self, stop: threading.Event, every: float = 0.5) -> None:
        while not stop.wait(every):
            try:
                self.poll()
            except (BotoCoreError, ClientError) as error:  # the next poll may do; the sandbox runs on
                self.line(f"{'(feed)':<12} {error}")
