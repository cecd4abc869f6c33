"""moto, extended with what this project needs from AWS and moto lacks, in moto's own style:
backend models and response methods grafted onto moto's classes, so `mock_aws` and moto's server
both serve them.

- SageMaker Studio: images, image versions, app image configs, UpdateDomain, user profiles, spaces
  and apps (moto_studio.sagemaker), validated against botocore's service model.
- ECR layers: uploads kept, GetDownloadUrlForLayer served, PutImage digests, ECR's image action
  events (moto_studio.ecr), and the registry API over the same repositories (moto_studio.registry).
- ECR scanning: scan on push (or by the registry's enhanced rules), scans per image manifest and none
  of an index, results an image's label chooses, paged findings (moto_studio.scanning).
- Lambda: functions run their Python handler in execution environments of their own, worker
  processes reused while warm (moto_studio.awslambda); log
  subscriptions deliver only what their filter pattern matches (moto_studio.logs).
- Faults: throttling, ResourceInUse, server errors, Lambda timeouts and kills, failed images,
  image versions and updates, per service, action and call count (moto_studio.faults).
- Step Functions: a stopped execution stops retrying at once, a Standard execution fails at 25,000
  history events (moto_studio.stepfunctions), and `drain()` ends everything a sandbox started
  before the next one begins.
- One clock for every simulated wait: Wait states, Retry intervals and SageMaker's asynchronous
  work, at AWS's pace or faster (`settings.time_scale`, MOTO_STUDIO_TIME_SCALE).
- Helpers for what moto cannot do: EventBridge pattern matching (moto_studio.events) and
  CloudWatch Logs filter patterns (moto_studio.logs).

Call `install()` once before using moto.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from moto.awslambda.models import LambdaBackend, LambdaFunction
from moto.ecr.models import ECRBackend
from moto.ecr.responses import ECRResponse
from moto.moto_server.werkzeug_app import DomainDispatcherApplication
from moto.sagemaker.models import SageMakerModelBackend
from moto.sagemaker.responses import SageMakerResponse
from moto.stepfunctions.parser.asl.component.common.retry.retrier_decl import RetrierDecl
from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import WaitFunction
from moto.stepfunctions.parser.asl.eval.event.event_manager import EventManager
from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

from . import awslambda, logs, stepfunctions
from .awslambda import invoke_in_worker
from .ecr import StudioEcrBackend, StudioEcrResponse
from .faults import Fault, answering_faults, faults
from .logs import StudioLambdaBackend
from .sagemaker.models import StudioBackend
from .sagemaker.responses import StudioResponse
from .scanning import StudioScanBackend, StudioScanResponse
from .settings import settings
from .validation import check_responses

__all__ = ["Fault", "Undrained", "drain", "faults", "install", "settings"]

_lock = threading.Lock()
_installed = False


def _graft(target: type, source: type, replaces: set[str] = frozenset()) -> None:  # type: ignore[assignment]
    """Copy `source`'s methods onto `target`. Replacing one of moto's needs saying so, so that a
    moto upgrade that implements an action shows up here instead of being silently shadowed."""
    declared = vars(source).get("__annotations__", {})  # (attributes of moto's class, not methods)
    for name, value in vars(source).items():
        if name.startswith("__") or name in declared:
            continue
        if hasattr(target, name) and name not in replaces:
            raise RuntimeError(f"moto's {target.__name__} already has {name}; review moto_studio")
        setattr(target, name, value)
    check_responses(target, source)  # the operations `source` implements answer in botocore's shape


def install() -> None:
    global _installed
    with _lock:
        if _installed:
            return
        _graft(SageMakerModelBackend, StudioBackend)
        _graft(SageMakerResponse, StudioResponse, {"describe_domain"})
        moto_put_image: Any = ECRBackend.put_image
        _graft(
            ECRBackend, StudioEcrBackend, {"complete_layer_upload", "put_image", "get_download_url_for_layer"}
        )
        ECRBackend._moto_put_image = moto_put_image  # type: ignore[attr-defined]
        _graft(ECRResponse, StudioEcrResponse, {"get_download_url_for_layer", "batch_delete_image"})
        ECRBackend._moto_describe_image_scan_findings = ECRBackend.describe_image_scan_findings  # type: ignore[attr-defined]
        ECRBackend._moto_start_image_scan = ECRBackend.start_image_scan  # type: ignore[attr-defined]
        _graft(ECRBackend, StudioScanBackend, {"describe_image_scan_findings", "start_image_scan"})
        _graft(ECRResponse, StudioScanResponse, {"describe_image_scan_findings"})
        LambdaFunction._invoke_lambda = invoke_in_worker  # type: ignore[method-assign]
        LambdaBackend._moto_send_log_event = LambdaBackend.send_log_event  # type: ignore[attr-defined]
        _graft(LambdaBackend, StudioLambdaBackend, {"send_log_event"})
        DomainDispatcherApplication.__call__ = answering_faults(DomainDispatcherApplication.__call__)  # type: ignore[method-assign,assignment]
        faults.load_environment()
        _graft(RetrierDecl, stepfunctions.StudioRetrier, {"_eval_body"})
        _graft(WaitFunction, stepfunctions.StudioWaitFunction, {"_wait_interval"})
        EventManager._moto_add_event = EventManager.add_event  # type: ignore[attr-defined]
        _graft(EventManager, stepfunctions.StudioEventManager, {"add_event"})
        ExecutionWorker._moto_get_evaluation_environment = ExecutionWorker._get_evaluation_environment  # type: ignore[attr-defined]
        _graft(ExecutionWorker, stepfunctions.StudioExecutionWorker, {"_get_evaluation_environment"})
        _installed = True


class Undrained(RuntimeError):
    """Something a sandbox started was still running when it stopped; the message names it."""


def drain(timeout: float = 60) -> list[str]:
    """End everything running in moto: stop every execution, stop every Lambda execution environment
    (an invocation under way fails at once), refuse new invocations until awslambda.reset(), and
    wait for the executions, the invocations and the log subscription deliveries to end. Returns
    the ARNs of the executions it stopped; raises Undrained, naming what is still running, if
    anything is after `timeout` seconds (once: a later drain does not wait for it again)."""
    deadline = time.monotonic() + timeout
    stopped = [arn for arn in stepfunctions.stop_all() if arn not in _undrained]
    invocations_ended = awslambda.close(timeout)
    stuck = stepfunctions.wait_ended(stopped, max(deadline - time.monotonic(), 0))
    _undrained.update(stuck)
    stuck += logs.join_deliveries(max(deadline - time.monotonic(), 0))
    if not invocations_ended:
        stuck.append("Lambda invocations")
    if stuck:
        raise Undrained(f"still running {timeout:.0f} s after the sandbox stopped: {', '.join(stuck)}")
    return stopped


_undrained: set[str] = set()  # executions a drain gave up on, reported once
