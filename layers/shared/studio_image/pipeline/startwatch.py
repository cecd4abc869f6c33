"""Watching real users' app starts: a CloudWatch Logs subscription on `/aws/sagemaker/studio`
delivers start-up lines; when they show a known failure of an app running an image this pipeline
manages, one notification goes out per app start (a repeat within the window is not sent again).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from ..aws.common import NotFound
from ..aws.sagemaker import AppState, split_version_arn
from ..aws.storage import read_parameter
from . import notification
from .canaryspace import canary_spaces
from .config import load_config
from .records import AppStartNotices
from .services import Services
from .signatures import SignatureMatch, known_failures, match_lines
from .studio import API_APP_TYPES, CANARY_PREFIX, STUDIO_LOG_GROUP, is_managed

OUTCOME = "app-start-failed"


class AppStart(BaseModel):
    """The app a log stream belongs to: `<domain>/<user profile or space>/<app type>/<app name>`."""

    domain_id: str
    owner: str
    app_type: str
    app_name: str

    @classmethod
    def from_stream(cls, stream: str) -> AppStart | None:
        parts = stream.split("/")
        if len(parts) != 4 or not all(parts):
            return None
        return cls(domain_id=parts[0], owner=parts[1], app_type=parts[2], app_name=parts[3])


class StartWatchResult(BaseModel):
    stream: str
    notified: bool
    reason: str  # why a notification was, or was not, sent
    image_version_arn: str | None = None
    matches: list[SignatureMatch] = Field(default_factory=list)


def _describe_app(svc: Services, start: AppStart) -> tuple[str, AppState] | None:
    """(owner kind, the app) for the stream's app, as a user profile's or else a space's."""
    app_type = API_APP_TYPES.get(start.app_type, start.app_type)
    for kind in ("UserProfile", "Space"):
        try:
            return kind, svc.sagemaker.describe_app(
                start.domain_id, kind, start.owner, app_type, start.app_name
            )
        except NotFound:
            continue
    return None


def watch_app_start(stream: str, lines: list[str], svc: Services) -> StartWatchResult:
    """Notify once if `lines` from `stream` show a known start-up failure of a managed image."""
    start = AppStart.from_stream(stream)
    known = known_failures(match_lines(lines))

    def result(reason: str, **found: Any) -> StartWatchResult:
        return StartWatchResult(stream=stream, notified=False, reason=reason, matches=known, **found)

    if start is None:
        return result("not an app's log stream")
    if start.domain_id != svc.settings.domain_id:  # the subscription's pattern cannot tell streams apart
        return result(f"an app of domain {start.domain_id}, not this deployment's")
    if start.app_name.startswith(CANARY_PREFIX):
        return result("the pipeline's own canary app: its run reports it")
    if not known:
        return result("no known start-up failure in these lines")
    parameter = svc.settings.config_parameter
    config = load_config(read_parameter(parameter, svc.ssm), parameter)
    if start.owner in canary_spaces(config):
        return result("the pipeline's own canary space: its run reports it")
    described = _describe_app(svc, start)
    if described is None:
        return result("the app no longer exists")
    kind, app = described
    if not app.image_arn:
        return result("the app runs a SageMaker-provided image")
    image_name = app.image_arn.rsplit("/", 1)[-1]
    if not image_name.startswith(svc.settings.image_name_prefix):  # nor may this role describe it
        return result(f"image {image_name} is not managed by this pipeline")
    image = svc.sagemaker.describe_image(image_name)
    if image is None or not is_managed(image.description):
        return result(f"image {image_name} is not managed by this pipeline")
    version_arn = app.image_version_arn
    if not AppStartNotices(svc.state).first(stream, svc.settings.app_start_dedup_seconds):
        return result("already notified for this app start", image_version_arn=version_arn)
    subject, message = _notice(stream, start, kind, image_name, version_arn, known)
    svc.topic.publish(subject, message, {"status": OUTCOME, "image": image_name})
    return StartWatchResult(
        stream=stream, notified=True, reason="notified", image_version_arn=version_arn, matches=known
    )


def _notice(
    stream: str,
    start: AppStart,
    kind: str,
    image_name: str,
    version_arn: str | None,
    known: list[SignatureMatch],
) -> tuple[str, str]:
    """The subject and message of a failing app start."""
    version = str(split_version_arn(version_arn)[2]) if version_arn else "latest"
    owner = f"{'user profile' if kind == 'UserProfile' else 'space'} {start.owner}"
    names = ", ".join(m.signature for m in known)
    subject = notification.subject(OUTCOME, f"{image_name} v{version}: {names} for {owner}")
    lines = [
        subject,
        "",
        f"A {start.app_type} app ({start.app_name}) of {owner} in domain {start.domain_id} "
        f"failed to start with image {image_name} version {version}.",
    ]
    for match in known:
        lines += ["", *notification.match_lines(match)]
    where = f"{STUDIO_LOG_GROUP} {stream}"
    lines += ["", f"Log stream: {where}"]

    def document(text: str) -> dict[str, Any]:
        return {
            "outcome": OUTCOME,
            "subject": subject,
            "text": text,
            "image_name": image_name,
            "image_version_arn": version_arn,
            "domain_id": start.domain_id,
            "user_profile" if kind == "UserProfile" else "space": start.owner,
            "app": start.model_dump(),
            "matches": [m.model_dump() for m in known],
        }

    return subject, notification.message("\n".join(lines), document, f"the log stream has it all: {where}")
