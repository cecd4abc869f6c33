"""The serverless pipeline's logic: one function per workflow state, and the models between them."""
