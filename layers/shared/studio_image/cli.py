"""`studio-image`: check an image against a Studio profile before (or after) it is pushed.

A command's module is imported only when that command runs (`studio_image/commands/`), so
`--version` and `--help` cost no more than argparse, and the sandbox, which needs the `[sandbox]`
extra, is one line of advice where that extra is not installed.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from dataclasses import dataclass
from importlib import import_module
from typing import NoReturn

from . import __version__
from .errors import StudioImageError

EXIT_UNREADABLE = 2  # also argparse's exit code for bad arguments
EXIT_PIPE_CLOSED = 128 + signal.SIGPIPE  # what a shell reports for a program SIGPIPE stopped


@dataclass(frozen=True)
class Command:
    module: str  # has configure(parser), which sets `run`
    help: str
    extra: str | None = None  # the pip extra that installs what the module imports


COMMANDS = {
    "check": Command("studio_image.commands.check", "check an image against a profile"),
    "kernelspec": Command(
        "studio_image.commands.kernelspec",
        "write the kernelspec directory for a Gateway Provisioners kernel image",
    ),
    "sandbox": Command("studio_image_sandbox.cli", "run the pipeline locally", extra="sandbox"),
}


class _Parser(argparse.ArgumentParser):
    """argparse, with a bad argument reported in one line (the usage is one `--help` away)."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_UNREADABLE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _parser(chosen: str | None) -> argparse.ArgumentParser:
    parser = _Parser(prog="studio-image", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    for name, command in COMMANDS.items():
        subparser = commands.add_parser(name, help=command.help)
        if name == chosen:
            import_module(command.module).configure(subparser)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    chosen = next((arg for arg in argv if not arg.startswith("-")), None)  # no top-level option takes a value
    command = COMMANDS.get(chosen or "")
    try:
        args = _parser(chosen).parse_args(argv)
        code = int(args.run(args))
        sys.stdout.flush()  # here, not at exit, so that a closed pipe is handled below
        return code
    except BrokenPipeError:
        # The reader went away (`| head`): stop quietly, and let the flush at exit write nowhere.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_PIPE_CLOSED
    except ModuleNotFoundError as error:
        if command is None or command.extra is None:
            raise
        sys.stderr.write(
            f"studio-image {chosen}: needs {error.name}, from the [{command.extra}] extra: "
            f"pip install 'studio-image-pipeline[{command.extra}]'\n"
        )
        return EXIT_UNREADABLE
    except StudioImageError as error:
        sys.stderr.write(f"studio-image: {type(error).__name__}: {error}\n")
        return EXIT_UNREADABLE
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
