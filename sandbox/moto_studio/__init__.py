"""moto, extended with what this project needs from AWS and moto lacks, in moto's own style:
backend models and response methods grafted onto moto's classes, so `mock_aws` and moto's server
both serve them.

- SageMaker Studio: images, image versions, app image configs, UpdateDomain, user profiles, spaces
  and apps (moto_studio.sagemaker), validated against botocore's service model.
- ECR layers: uploads kept, GetDownloadUrlForLayer served, PutImage digests, ECR's image action
  events (moto_studio.ecr), and the registry API over the same repositories (moto_studio.registry).
- ECR scanning: scan on push, results an image's label chooses, paged findings (moto_studio.scanning).
- Lambda: functions run their Python handler in execution environments of their own, worker
  processes reused while warm (moto_studio.awslambda); log
  subscriptions deliver only what their filter pattern matches (moto_studio.logs).
- Faults: throttling, ResourceInUse, server errors, Lambda timeouts and kills, failed image
  versions, per service, action and call count (moto_studio.faults).
- Helpers for what moto cannot do: EventBridge pattern matching (moto_studio.events) and
  CloudWatch Logs filter patterns (moto_studio.logs).

Call `install()` once before using moto.
"""

from __future__ import annotations

import threading
from typing import Any

from moto.awslambda.models import LambdaBackend, LambdaFunction
from moto.ecr.models import ECRBackend
from moto.ecr.responses import ECRResponse
from moto.moto_server.werkzeug_app import DomainDispatcherApplication
from moto.sagemaker.models import SageMakerModelBackend
from moto.sagemaker.responses import SageMakerResponse

from .awslambda import invoke_in_worker
from .ecr import StudioEcrBackend, StudioEcrResponse
from .faults import Fault, answering_faults, faults
from .logs import StudioLambdaBackend
from .sagemaker.models import StudioBackend
from .sagemaker.responses import StudioResponse
from .scanning import StudioScanBackend, StudioScanResponse
from .settings import settings

__all__ = ["Fault", "faults", "install", "settings"]

_lock = threading.Lock()
_installed = False


def _graft(target: type, source: type, replaces: set[str] = frozenset()) -> None:  # type: ignore[assignment]
    """Copy `source`'s methods onto `target`. Replacing one of moto's needs saying so, so that a
    moto upgrade that implements an action shows up here instead of being silently shadowed."""
    for name, value in vars(source).items():
        if name.startswith("__") or name in getattr(source, "__annotations__", {}):
            continue
        if hasattr(target, name) and name not in replaces:
            raise RuntimeError(f"moto's {target.__name__} already has {name}; review moto_studio")
        setattr(target, name, value)


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
        _graft(ECRBackend, StudioScanBackend, {"describe_image_scan_findings"})
        _graft(ECRResponse, StudioScanResponse, {"describe_image_scan_findings"})
        LambdaFunction._invoke_lambda = invoke_in_worker  # type: ignore[method-assign]
        LambdaBackend._moto_send_log_event = LambdaBackend.send_log_event  # type: ignore[attr-defined]
        _graft(LambdaBackend, StudioLambdaBackend, {"send_log_event"})
        DomainDispatcherApplication.__call__ = answering_faults(DomainDispatcherApplication.__call__)  # type: ignore[method-assign,assignment]
        faults.load_environment()
        _installed = True
