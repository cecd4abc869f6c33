"""Each image version gets its own AppImageConfig. A CustomImages entry pairs a version with a
config and the config has no version: one config updated in place would change what older attached
versions, and a rollback, run with. So the config is named after the version, and deleted with it."""

from __future__ import annotations

import hashlib

MAX_NAME = 63  # botocore's AppImageConfigName: [a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}


def config_name(image_name: str, version: int) -> str:
    """`<image name>-v<version>`, dots made dashes (config names allow none); a name too long
    keeps its start (the IAM-granted prefix) and a hash of the image name."""
    base, suffix = image_name.replace(".", "-"), f"-v{version}"
    if len(base) + len(suffix) > MAX_NAME:
        digest = hashlib.sha256(image_name.encode()).hexdigest()[:8]
        base = f"{base[: MAX_NAME - len(suffix) - len(digest) - 1].rstrip('-')}-{digest}"
    return base + suffix
