"""How long the simulated resources take, and how scripted app starts go. Tests change these.

One clock: every wait the sandbox simulates (SageMaker's asynchronous work below, and Step Functions'
Wait states and Retry intervals, moto_studio.stepfunctions) is given in AWS's seconds and waited for
`time_scale` times as long. MOTO_STUDIO_TIME_SCALE sets it: 1 (AWS's pace) unless set; the tests run
at a twentieth (tests/conftest.py). Execution histories still show the intervals the ASL asked for."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from .faults import faults
from .lambda_worker import CLOUDTRAIL
from .sagemaker.script import AppScript

__all__ = ["CLOUDTRAIL", "Settings", "settings"]


def _seconds(name: str, default: float) -> float:
    return float(os.environ.get(f"MOTO_STUDIO_{name}_SECONDS", default))


def _time_scale() -> float:
    scale = float(os.environ.get("MOTO_STUDIO_TIME_SCALE", 1))
    if not 0 < scale <= 1:
        raise ValueError(f"MOTO_STUDIO_TIME_SCALE must be above 0 and at most 1, not {scale}")
    return scale


@dataclass
class Settings:
    time_scale: float = field(default_factory=_time_scale)  # real seconds per simulated second
    image_seconds: float = field(default_factory=lambda: _seconds("IMAGE", 2.0))  # CREATING
    image_version_seconds: float = field(default_factory=lambda: _seconds("IMAGE_VERSION", 2.0))  # CREATING
    # Updating: a domain, user profile or space after its update
    domain_update_seconds: float = field(default_factory=lambda: _seconds("DOMAIN_UPDATE", 2.0))
    app_start_seconds: float = field(default_factory=lambda: _seconds("APP_START", 3.0))  # Pending
    app_delete_seconds: float = field(default_factory=lambda: _seconds("APP_DELETE", 2.0))  # Deleting
    # Execution environments per Lambda function at once (a function's ReservedConcurrentExecutions
    # can lower it): each is a Python process, and this machine is not Lambda's fleet.
    lambda_concurrency: int = field(
        default_factory=lambda: int(os.environ.get("MOTO_STUDIO_LAMBDA_CONCURRENCY", 4))
    )
    lambda_idle_seconds: float = field(
        default_factory=lambda: _seconds("LAMBDA_IDLE", 120.0)
    )  # then reclaimed
    # Every response moto_studio writes checked against botocore's output shape (moto_studio.validation).
    check_responses: bool = field(
        default_factory=lambda: os.environ.get("MOTO_STUDIO_CHECK_RESPONSES") == "1"
    )
    app_scripts: dict[str, AppScript] = field(default_factory=dict)
    busy: dict[str, int] = field(default_factory=dict)  # action -> ResourceInUse answers left

    def real_seconds(self, aws_seconds: float) -> float:
        """How long, on this machine's clock, a wait of `aws_seconds` in AWS lasts in the sandbox."""
        return aws_seconds * self.time_scale

    def answer_busy(self, action: str, times: int = 1) -> None:
        """Make the next `times` calls of `action` (UpdateUserProfile, DeleteApp, ...) answer
        ResourceInUse, as SageMaker does while a resource is changing."""
        self.busy[action] = times

    def take_busy(self, action: str) -> bool:
        left = self.busy.get(action, 0)
        if left:
            self.busy[action] = left - 1
        return bool(left)

    def script_app(
        self,
        app_or_image: str,
        *,
        fails: bool = False,
        reason: str = "",
        log_lines: list[str] | None = None,
        never_starts: bool = False,
    ) -> None:
        """Decide how the start of an app (by app name, or by the name of its SageMaker image) goes."""
        self.app_scripts[app_or_image] = AppScript(fails, reason, log_lines, never_starts)

    def app_script_for(self, app_name: str, image_name: str | None) -> AppScript:
        return self.app_scripts.get(app_name) or self.app_scripts.get(image_name or "") or AppScript()

    def reset(self) -> None:
        fresh = Settings()
        self.__dict__.update(fresh.__dict__)
        faults.reset()


settings = Settings()
