"""CloudWatch Logs filter patterns for unstructured lines: moto returns every event for anything
but a plain term. Supported: terms (all must appear), "quoted phrases", `?term` (any of these),
and `-term` (must not appear); matching is case-sensitive, as in CloudWatch. Subscriptions apply
them too (`StudioLambdaBackend`)."""

from __future__ import annotations

import shlex
import threading
import time
from collections.abc import Iterable
from typing import Any

from moto.logs.models import logs_backends


def matches(pattern: str, line: str) -> bool:
    terms = shlex.split(pattern) if pattern.strip() else []
    optional = [t[1:] for t in terms if t.startswith("?")]
    excluded = [t[1:] for t in terms if t.startswith("-") and len(t) > 1]
    required = [t for t in terms if not t.startswith(("?", "-")) or t == "-"]
    if any(t in line for t in excluded):
        return False
    if optional and not any(t in line for t in optional):
        return False
    return all(t in line for t in required)


def filter_lines(pattern: str, lines: Iterable[str]) -> list[str]:
    return [line for line in lines if matches(pattern, line)]


class StudioLambdaBackend:
    """Grafted onto moto's LambdaBackend: a subscription delivers what CloudWatch Logs would. Only
    events that match the subscription's filter pattern are sent (moto sends every event), with
    their IDs as strings (moto sends integers, which Powertools' CloudWatchLogsModel refuses), and
    after PutLogEvents returns, on a thread of its own, as AWS delivers them: a function that
    writes log lines (an app started by a Lambda) does not wait for the function they wake."""

    account_id: str
    region_name: str
    _moto_send_log_event: Any  # moto's own send_log_event, kept by install()

    def send_log_event(
        self, function_arn: str, filter_name: str, log_group_name: str, log_stream_name: str, log_events: Any
    ) -> None:
        group = logs_backends[self.account_id][self.region_name].groups[log_group_name]
        pattern = group.subscription_filters[filter_name].filter_pattern
        events = [{**e, "id": str(e["id"])} for e in log_events if matches(pattern, e["message"])]
        if events:
            delivery = threading.Thread(
                target=self._moto_send_log_event,
                args=(function_arn, filter_name, log_group_name, log_stream_name, events),
                name=f"log-subscription-{filter_name}",
                daemon=True,
            )
            with _deliveries_lock:
                _deliveries[:] = [d for d in _deliveries if d.is_alive()]
                _deliveries.append(delivery)
            delivery.start()


_deliveries: list[threading.Thread] = []  # subscription deliveries, joined when the sandbox stops
_deliveries_lock = threading.Lock()


def join_deliveries(timeout: float) -> list[str]:
    """Wait up to `timeout` seconds for the deliveries under way; the names of those still running."""
    deadline = time.monotonic() + timeout
    with _deliveries_lock:
        pending = list(_deliveries)
    for delivery in pending:
        delivery.join(max(deadline - time.monotonic(), 0))
    return [delivery.name for delivery in pending if delivery.is_alive()]
