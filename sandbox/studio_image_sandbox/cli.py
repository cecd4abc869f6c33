"""`studio-image sandbox`: the pipeline on this machine, with no AWS account and no Docker.

up             start the local AWS and deploy the pipeline into it; runs until stopped
env            `export` lines for AWS clients and registry clients: eval "$(studio-image sandbox env)"
push           push an image into the sandbox's ECR (ECR's push event starts the pipeline)
executions     list the state machine's executions (the last sandbox's, when none runs)
notifications  print what SNS delivered (the last sandbox's, when none runs)
demo           push sample images for every profile, and some that are refused
"""

from __future__ import annotations

import argparse
from pathlib import Path


def _run(args: argparse.Namespace) -> int:
    from .commands import RUN  # moto, boto3 and the pipeline: imported when a command runs, not before

    return RUN[args.sandbox_command](args)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.description = __doc__
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    sub = parser.add_subparsers(dest="sandbox_command", required=True)

    def deploying(name: str, help: str) -> argparse.ArgumentParser:
        command = sub.add_parser(name, help=help)
        command.add_argument(
            "--sagemaker-seconds",
            type=float,
            default=1.0,
            help="how long SageMaker takes to create an image version or update a domain (default 1)",
        )
        command.add_argument("--configuration", type=Path, help="the pipeline's configuration (JSON)")
        command.set_defaults(run=_run)
        return command

    start = deploying("up", "start the local AWS with the pipeline deployed; runs until stopped")
    start.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: any free port)")

    send = deploying("push", "push an image to the sandbox's ECR (its push event starts the pipeline)")
    send.add_argument("image", metavar="IMAGE_REF", help="any reference `studio-image check` reads")
    send.add_argument("--repository", required=True, help="ECR repository, e.g. studio/data-science")
    send.add_argument("--tag", required=True)
    send.add_argument("--wait", action="store_true", help="follow the execution until it ends")
    send.add_argument("--format", choices=["text", "json"], default="text")

    show = deploying("demo", "push sample images for every profile, and some that are refused")
    show.add_argument("--format", choices=["text", "json"], default="text")

    for name, help in (
        ("executions", "list the pipeline's executions"),
        ("notifications", "print what SNS delivered"),
    ):
        command = sub.add_parser(name, help=help)
        command.add_argument("--format", choices=["text", "json"], default="text")
        command.set_defaults(run=_run)

    exports = sub.add_parser(
        "env", help="print `export` lines that point AWS and registry clients at the sandbox"
    )
    exports.set_defaults(run=_run)
