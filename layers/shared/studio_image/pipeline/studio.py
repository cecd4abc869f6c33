"""Studio's names as this pipeline uses them: the marker on the images it manages, and where
Studio logs an app's start-up."""

from __future__ import annotations

import re

MANAGED_BY = "studio-image-pipeline"
STUDIO_LOG_GROUP = "/aws/sagemaker/studio"
CANARY_PREFIX = "canary-"  # the workflow's own canary apps
# An app's type in its log stream's name, where it differs from CreateApp's AppType.
LOG_APP_TYPES = {"RSessionGateway": "RSession"}
API_APP_TYPES = {log: api for api, log in LOG_APP_TYPES.items()}  # a stream's app type -> CreateApp's


def image_description(repository: str) -> str:
    """The Description of an image this pipeline creates: its marker."""
    return f"Built from ECR repository {repository} by {MANAGED_BY}"


def built_from(description: str | None) -> str | None:
    """The repository an image this pipeline created was built from, per its Description."""
    found = re.fullmatch(f"Built from ECR repository (.+) by {re.escape(MANAGED_BY)}", description or "")
    return found[1] if found else None


def is_managed(description: str | None) -> bool:
    return f"by {MANAGED_BY}" in (description or "")


def log_stream(domain_id: str, owner: str, app_type: str, app_name: str) -> str:
    """The app's stream in the Studio log group: `<domain>/<owner>/<app type>/<app name>`."""
    return f"{domain_id}/{owner}/{LOG_APP_TYPES.get(app_type, app_type)}/{app_name}"
