"""Rules: each judges an image for some profiles and yields findings. IDs are stable."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TypeVar

from ..facts import STUDIO_HOME, Facts
from ..findings import ALL_PROFILES, Finding, Profile, Severity, SuppressedFinding
from ..inventory import Inventory
from ..policy import GB, Policy

DEFAULT_MAX_IMAGE_BYTES = {
    Profile.KERNEL_GATEWAY: 11 * GB,
    Profile.RSTUDIO: 25 * GB,
    Profile.JUPYTERLAB: 35 * GB,
    Profile.CODE_EDITOR: 35 * GB,
    Profile.GATEWAY_PROVISIONERS: 35 * GB,
}
MAX_LISTED = 5  # offenders named one by one before the rest are counted

T = TypeVar("T")


@dataclass(frozen=True)
class Context:
    inventory: Inventory
    profile: Profile
    policy: Policy
    facts: Facts


Check = Callable[[Context], Iterable[Finding]]


@dataclass(frozen=True)
class Rule:
    id: str
    profiles: frozenset[Profile]
    summary: str
    check: Check


RULES: dict[str, Rule] = {}


def rule(rule_id: str, summary: str, profiles: frozenset[Profile] = ALL_PROFILES) -> Callable[[Check], Check]:
    def register(check: Check) -> Check:
        if rule_id in RULES:
            raise ValueError(f"rule {rule_id} registered twice")
        RULES[rule_id] = Rule(rule_id, frozenset(profiles), summary, check)
        return check

    return register


def listed(
    items: Sequence[T], finding: Callable[[T], Finding], rest: Callable[[int], Finding]
) -> Iterator[Finding]:
    """A finding for each of the first MAX_LISTED items, then one that counts the others."""
    for item in items[:MAX_LISTED]:
        yield finding(item)
    if len(items) > MAX_LISTED:
        yield rest(len(items) - MAX_LISTED)


def home_mount(profile: Profile, policy: Policy) -> str:
    """Where the user's home volume is mounted: configurable for KernelGateway apps only."""
    return policy.mount_path if profile == Profile.KERNEL_GATEWAY else STUDIO_HOME


def rules_for(profile: Profile) -> list[Rule]:
    return [r for r in RULES.values() if profile in r.profiles]


def evaluate(
    inventory: Inventory, profile: Profile, policy: Policy | None = None, facts: Facts | None = None
) -> list[Finding]:
    """All findings of the profile's rules, graded and filtered by the policy, errors first."""
    return judge(inventory, profile, policy, facts)[0]


def judge(
    inventory: Inventory, profile: Profile, policy: Policy | None = None, facts: Facts | None = None
) -> tuple[list[Finding], list[SuppressedFinding]]:
    """The findings the policy keeps, errors first, and those it suppresses."""
    policy = policy or Policy()
    policy.check_rule_ids(set(RULES))
    facts = facts or Facts(inventory, home_mount(profile, policy))
    context = Context(inventory, profile, policy, facts)
    kept, suppressed = policy.judge([f for r in rules_for(profile) for f in r.check(context)])
    return sorted(kept, key=lambda f: (f.severity != Severity.ERROR, f.rule, f.path or "")), suppressed


from . import apps, checks, kernels, users  # noqa: E402,F401  registers the built-in rules
