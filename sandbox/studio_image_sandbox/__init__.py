"""The local sandbox: sample images, and the pipeline run offline (outside the Lambda layer)."""
