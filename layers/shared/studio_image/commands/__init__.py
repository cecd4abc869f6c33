"""`studio-image`'s subcommands, one module each, imported only when that command runs.

Each module has `configure(parser)`, which adds the command's arguments and sets `run`: a function
of the parsed arguments that returns the exit code.
"""
