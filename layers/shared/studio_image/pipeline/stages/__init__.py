"""One module per state of the workflow, named as `functions/` names its handler."""
