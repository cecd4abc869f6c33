"""The deployment's settings, from environment variables the template sets on every function.

Read once (a missing or malformed variable fails the first call with its name) and cached;
`load_settings.cache_clear()` resets it in tests.
"""

from __future__ import annotations

import os
from functools import cache

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ..errors import ConfigurationInvalid, validation_problems
from .history import ROUNDS


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True)

    config_parameter: str = Field(alias="CONFIG_PARAMETER", min_length=1)
    report_bucket: str = Field(alias="REPORT_BUCKET", min_length=3)
    layer_cache_table: str = Field(alias="LAYER_CACHE_TABLE", min_length=3)
    state_table: str = Field(alias="STATE_TABLE", min_length=3)
    topic_arn: str = Field(alias="TOPIC_ARN", pattern=r"^arn:aws[a-z-]*:sns:")
    image_role_arn: str = Field(alias="IMAGE_ROLE_ARN", pattern=r"^arn:aws[a-z-]*:iam::\d{12}:role/")
    domain_id: str = Field(alias="DOMAIN_ID", pattern=r"^d-[a-z0-9]+$")
    # No dots: the AppImageConfig names derived from image names allow none.
    image_name_prefix: str = Field(default="", alias="IMAGE_NAME_PREFIX", pattern=r"^([a-zA-Z0-9]-?)*$")
    # The managed repositories' common prefix, left out of derived image names (studio/datascience:
    # studio-datascience, not studio-studio-datascience).
    repository_prefix: str = Field(default="", alias="REPOSITORY_PREFIX")
    version_poll_seconds: int = Field(default=15, alias="VERSION_POLL_SECONDS", ge=1, le=300)
    version_max_polls: int = Field(default=120, alias="VERSION_MAX_POLLS", ge=1)
    scan_connections: int = Field(default=4, alias="SCAN_CONNECTIONS", ge=1, le=16)
    # A failing app start is notified once; its log lines within this window are not sent again.
    app_start_dedup_seconds: int = Field(default=3600, alias="APP_START_DEDUP_SECONDS", ge=1)

    @field_validator("version_max_polls")
    @classmethod
    def _fits_the_history(cls, value: int) -> int:
        """Each binding's other loops are checked with it when the configuration is read."""
        if value > ROUNDS:
            raise ValueError(
                f"at most {ROUNDS}: a run's version checks and its other waits must fit Step Functions' "
                "history (pipeline.history)"
            )
        return value


@cache
def load_settings() -> Settings:
    names = {field.alias for field in Settings.model_fields.values()}
    try:
        return Settings.model_validate({k: v for k, v in os.environ.items() if k in names})
    except ValidationError as err:
        raise ConfigurationInvalid(f"environment: {validation_problems(err)}") from err
