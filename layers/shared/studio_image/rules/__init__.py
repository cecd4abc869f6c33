"""Rules: each judges an inventory for some profiles and yields findings. IDs are stable."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ..findings import ALL_PROFILES, Finding, Profile, Severity
from ..inventory import Inventory
from ..policy import GB, Policy

DEFAULT_MAX_IMAGE_BYTES = {
    Profile.KERNEL_GATEWAY: 11 * GB,
    Profile.RSTUDIO: 25 * GB,
    Profile.JUPYTERLAB: 35 * GB,
    Profile.CODE_EDITOR: 35 * GB,
    Profile.GATEWAY_PROVISIONERS: 35 * GB,
}


@dataclass(frozen=True)
class Context:
    inventory: Inventory
    profile: Profile
    policy: Policy


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


def rules_for(profile: Profile) -> list[Rule]:
    return [r for r in RULES.values() if profile in r.profiles]


def evaluate(inventory: Inventory, profile: Profile, policy: Policy | None = None) -> list[Finding]:
    """All findings of the profile's rules, graded and filtered by the policy, errors first."""
    policy = policy or Policy()
    policy.check_rule_ids(set(RULES))
    context = Context(inventory, profile, policy)
    findings = [f for r in rules_for(profile) for f in r.check(context)]
    findings = policy.apply(findings)
    return sorted(findings, key=lambda f: (f.severity != Severity.ERROR, f.rule, f.path or ""))


from . import checks  # noqa: E402,F401  registers the built-in rules
