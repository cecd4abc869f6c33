"""The library's exceptions.

Class names are part of the interface: the state machine retries or catches errors by these names,
and the CLI maps them to exit codes. Transient errors are worth retrying; everything else is a
verdict on the input and is never retried.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the CLI imports this module before it knows it needs pydantic
    from pydantic import ValidationError
    from pydantic_core import ErrorDetails


def validation_problems(err: ValidationError) -> str:
    """Every problem pydantic found, as "field.path: message; ..." for a one-line error."""

    def message(error: ErrorDetails) -> str:  # our validators' own words, without "Value error, "
        raised = error.get("ctx", {}).get("error")
        return str(raised) if error["type"] == "value_error" and raised is not None else error["msg"]

    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or '(root)'}: {message(e)}" for e in err.errors())


class StudioImageError(Exception):
    """Base class of every error the library raises on purpose."""


class TransientError(StudioImageError):
    """A failure that may pass on retry (throttling, a registry or service that is briefly down)."""


class RegistryUnavailable(TransientError):
    """The registry or blob store did not answer, or answered with a server error."""


class ImageReadError(StudioImageError):
    """The image could not be read. The CLI exits 2 on these."""


class ReferenceInvalid(ImageReadError):
    """The image reference string is not in any supported transport's form."""


class ImageNotFound(ImageReadError):
    """The reference names no image: a missing file, directory, repository, tag or digest."""


class BlobNotFound(ImageReadError):
    """A manifest names a blob (config or layer) that its source does not hold."""


class RepositoryNotFound(ImageNotFound):
    """The registry has no such repository."""


class RegistryAuthFailed(ImageReadError):
    """The registry refused our credentials, or asked for an authentication scheme we lack."""


class ManifestInvalid(ImageReadError):
    """A manifest, index or config that is not JSON or not of a supported schema."""


class UnsupportedMediaType(ImageReadError):
    """A manifest or layer media type this tool cannot read."""


class DigestMismatch(ImageReadError):
    """A blob's content does not hash to the digest that names it."""


class CorruptLayer(ImageReadError):
    """A layer whose compression or tar stream is malformed or truncated."""


class LayerLimitExceeded(ImageReadError):
    """A layer over a scan limit: a decompression bomb, too many entries, an oversized header."""


class PolicyInvalid(StudioImageError):
    """A policy file that does not validate."""


class KernelSpecInvalid(StudioImageError):
    """Kernel specification settings that do not validate, or a kernel.json already in the way."""


class LayerDeadlineExceeded(ImageReadError):
    """A layer that could not be read within the time one scan may take (a Lambda's 15 minutes)."""


# The pipeline's errors. The state machine retries the transient ones by name and catches the rest.


class AwsUnavailable(TransientError):
    """An AWS service throttled us or answered with a server error."""


class DomainBusy(TransientError):
    """The Studio domain, space or user profile is being updated; the change waits its turn."""


class ImageBusy(TransientError):
    """SageMaker is still creating or changing the image (CREATING, or CreateImageVersion's
    ResourceInUse, or its "is in an invalid state")."""


class AppBusy(TransientError):
    """SageMaker cannot delete the app yet (DeleteApp's ResourceInUse)."""


class AttachLockHeld(TransientError):
    """Another pipeline is changing the same domain's custom images right now."""


class PipelineError(StudioImageError):
    """A failure of the pipeline that a retry will not mend; it ends in a notification."""


class EventInvalid(PipelineError):
    """The event that started the workflow is not an ECR image action, or is malformed."""


class ConfigurationInvalid(PipelineError):
    """The pipeline's configuration document does not validate."""


class AwsRequestFailed(PipelineError):
    """AWS refused a request: a missing resource, a permission or a validation problem."""


class ImageVersionFailed(PipelineError):
    """SageMaker could not create the image version; the message carries its FailureReason."""


class ImageVersionTimeout(PipelineError):
    """The image version stayed in CREATING longer than the pipeline waits."""


class CanaryFailed(PipelineError):
    """The version was attached, but an app started with it failed (the notification says why)."""


class AttachVerificationFailed(PipelineError):
    """Reading the settings back after an update did not show the image attached."""


class OutputUnwritable(StudioImageError):
    """A file the CLI was asked to write (an SBOM) could not be written."""


class ImageUriTooLong(PipelineError):
    """The image's ECR URI is longer than CreateImageVersion's BaseImage allows."""


class LayerCountExceeded(PipelineError):
    """The image has more layers than the run state can carry references to."""


class CustomImageLimitReached(PipelineError):
    """Attaching would put more custom images on a target than SageMaker allows."""


class CanarySpaceBusy(TransientError):
    """The canary's space is running its app; a space runs one app at a time."""


class ImageUnusable(PipelineError):
    """The SageMaker image can take no version: its creation failed (the message carries its
    FailureReason), or it is being deleted."""


class TargetUnusable(PipelineError):
    """A domain, space or user profile to change is Update_Failed (or Failed, or being deleted):
    SageMaker will not apply the change until someone mends it."""
