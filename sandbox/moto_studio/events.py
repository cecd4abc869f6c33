"""EventBridge pattern matching with moto's own matcher: moto cannot route a rule to a state
machine, and its TestEventPattern returns no result."""

from __future__ import annotations

import json
from typing import Any, cast

from moto.events.models import EventPattern
from moto.events.utils import EventMessageType


def matches(pattern: dict[str, Any] | str, event: dict[str, Any]) -> bool:
    """Whether EventBridge would deliver `event` to a rule with `pattern`."""
    raw = pattern if isinstance(pattern, str) else json.dumps(pattern)
    return EventPattern.load(raw).matches_event(cast(EventMessageType, event))
