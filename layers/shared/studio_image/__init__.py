"""Studio Image Pipeline's library: read, inspect and judge container images for SageMaker Studio."""

__version__ = "0.1.0"
