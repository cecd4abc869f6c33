"""The sandbox's AWS: moto, with moto_studio's additions, as a server on 127.0.0.1.

Everything in the sandbox talks to it over HTTP, the way it would talk to AWS: the CLI, the AWS
CLI (`--endpoint-url`), and the Lambda handlers, which run inside the server's process and reach
it through `AWS_ENDPOINT_URL`. Step Functions executions really run (moto's ASL interpreter).
"""

from __future__ import annotations

import contextlib
import logging
import os
import urllib.request
from collections.abc import Iterator

from moto.core.config import default_user_config
from moto.moto_server.threaded_moto_server import ThreadedMotoServer

import moto_studio
import moto_studio.awslambda

REGION = "us-east-1"
# moto accepts any credentials; these keep boto3 from looking for real ones.
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "sandbox", "AWS_SECRET_ACCESS_KEY": "sandbox", "AWS_SESSION_TOKEN": ""}


def client_environment(endpoint: str, region: str = REGION) -> dict[str, str]:
    """What a process needs in its environment for boto3 to use the sandbox instead of AWS."""
    return {**CREDENTIALS, "AWS_ENDPOINT_URL": endpoint, "AWS_DEFAULT_REGION": region, "AWS_REGION": region}


@contextlib.contextmanager
def environment(variables: dict[str, str]) -> Iterator[None]:
    """`variables` in os.environ for the block (an empty value unsets), then what was there before."""
    saved = {name: os.environ.get(name) for name in variables}
    try:
        for name, value in variables.items():
            if value:
                os.environ[name] = value
            else:
                os.environ.pop(name, None)
        yield
    finally:
        for name, before in saved.items():
            if before is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = before


@contextlib.contextmanager
def local_aws(port: int = 0, region: str = REGION) -> Iterator[str]:
    """Serve moto on 127.0.0.1:`port` (0: any free port) for the block; yield its endpoint URL.
    While it runs, this process's boto3 clients go to it. When the block ends, so has everything
    that ran in it (moto_studio.drain: executions stopped, Lambda workers ended): nothing started
    here reaches a later block's moto."""
    moto_studio.install()
    moto_studio.awslambda.reset()
    # The request log, and the interpreter's log of errors the workflow catches: the sandbox's own
    # display says what happened.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    logging.getLogger("moto.stepfunctions.parser").setLevel(logging.CRITICAL)
    default_user_config["stepfunctions"] = {"execute_state_machine": True}
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    host, bound = server.get_host_and_port()
    endpoint = f"http://{host}:{bound}"
    # moto's state lives in the process: an earlier sandbox in this process must not show through.
    urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST")).close()
    try:
        # MOTO_PORT: where moto's state machine interpreter sends its own service calls.
        with environment({**client_environment(endpoint, region), "MOTO_PORT": str(bound)}):
            yield endpoint
    finally:
        try:
            moto_studio.drain()
        finally:
            server.stop()
            moto_studio.awslambda.reset()
