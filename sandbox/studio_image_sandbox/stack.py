"""Deploy `template.yaml` into moto: the same functions, handlers, environment, state machine
definition and event pattern that AWS would get, resolved the way CloudFormation resolves them.

Only what the template uses is understood (Ref, Fn::GetAtt, Fn::Sub, Fn::Not, Fn::Equals and the
resource types listed in `_create`); anything else is an error here, not a surprise in AWS. A
wrong handler path or an unresolved substitution fails the deployment.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import uuid
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import yaml

from moto_studio import events as event_patterns

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
ACCOUNT = "123456789012"
PARTITION = "aws"
# What `deploy` builds; the bucket policy and the email subscription have no effect offline.
SUPPORTED_TYPES = {
    "AWS::S3::Bucket",
    "AWS::S3::BucketPolicy",
    "AWS::DynamoDB::Table",
    "AWS::SSM::Parameter",
    "AWS::SNS::Topic",
    "AWS::SNS::Subscription",
    "AWS::Logs::LogGroup",
    "AWS::Serverless::LayerVersion",
    "AWS::Serverless::Function",
    "AWS::Serverless::StateMachine",
}
_SUB = re.compile(r"\$\{([^}!]+)\}")


class TemplateError(Exception):
    """The template asks for something the sandbox cannot build, or is wrong."""


class _Loader(yaml.SafeLoader):
    """YAML with CloudFormation's short-form tags turned into their long form."""


def _tag(name: str) -> Any:
    def construct(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, Any]:
        if isinstance(node, yaml.ScalarNode):
            value: Any = loader.construct_scalar(node)
            if name == "Fn::GetAtt":
                value = str(value).split(".", 1)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
        return {name: value}

    return construct


for _short, _long in (
    ("Ref", "Ref"),
    ("GetAtt", "Fn::GetAtt"),
    ("Sub", "Fn::Sub"),
    ("Not", "Fn::Not"),
    ("Equals", "Fn::Equals"),
    ("If", "Fn::If"),
):
    _Loader.add_constructor(f"!{_short}", _tag(_long))


def load_template(path: Path = TEMPLATE) -> dict[str, Any]:
    return yaml.load(path.read_text(), Loader=_Loader)


@dataclass
class Stack:
    """What was deployed: physical names and ARNs by logical ID, and what the tests need."""

    name: str
    region: str
    parameters: dict[str, str]
    physical: dict[str, str] = field(default_factory=dict)  # Ref
    arns: dict[str, str] = field(default_factory=dict)  # GetAtt .Arn
    functions: dict[str, str] = field(default_factory=dict)  # logical ID -> function name
    event_pattern: dict[str, Any] = field(default_factory=dict)
    state_machine_arn: str = ""
    topic_arn: str = ""
    queue_url: str = ""  # an SQS queue subscribed to the topic, to read notifications back
    bucket: str = ""

    def deliver(self, event: dict[str, Any], sfn: Any = None) -> str | None:
        """What EventBridge does with an event: start an execution if the rule's pattern matches."""
        if not event_patterns.matches(self.event_pattern, event):
            return None
        sfn = sfn or boto3.client("stepfunctions", region_name=self.region)
        started = sfn.start_execution(
            stateMachineArn=self.state_machine_arn, name=str(uuid.uuid4()), input=json.dumps(event)
        )
        return str(started["executionArn"])


class _Resolver:
    def __init__(self, template: dict[str, Any], stack: Stack) -> None:
        self.template = template
        self.stack = stack
        self.pseudo = {
            "AWS::StackName": stack.name,
            "AWS::Region": stack.region,
            "AWS::AccountId": ACCOUNT,
            "AWS::Partition": PARTITION,
        }

    def ref(self, name: str) -> str:
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.stack.parameters:
            return self.stack.parameters[name]
        if name in self.stack.physical:
            return self.stack.physical[name]
        raise TemplateError(f"Ref {name}: no such parameter, or resource not created yet")

    def get_att(self, resource: str, attribute: str) -> str:
        if attribute == "Arn" and resource in self.stack.arns:
            return self.stack.arns[resource]
        raise TemplateError(f"GetAtt {resource}.{attribute}: not available in the sandbox")

    def __call__(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self(v) for v in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Ref":
                return self.ref(arg)
            if key == "Fn::GetAtt":
                return self.get_att(*arg)
            if key == "Fn::Sub":
                return self.sub(arg)
            if key == "Fn::Equals":
                left, right = self(arg)
                return left == right
            if key == "Fn::Not":
                return not self(arg[0])
            if key.startswith("Fn::"):
                raise TemplateError(f"{key} is not supported by the sandbox")
        return {k: self(v) for k, v in value.items()}

    def sub(self, text: str) -> str:
        def one(match: re.Match[str]) -> str:
            name = match[1]
            if "." in name:
                return self.get_att(*name.split(".", 1))
            return self.ref(name)

        return _SUB.sub(one, text)


def _properties(template: dict[str, Any], logical: str, resolve: _Resolver) -> dict[str, Any]:
    resource = template["Resources"][logical]
    if "Condition" in resource and not resolve(template["Conditions"][resource["Condition"]]):
        return {}
    return dict(resolve(resource.get("Properties", {})))


def _package(code_dir: Path, handler: str) -> bytes:
    module, _, attribute = handler.rpartition(".")
    source = code_dir / (module.replace(".", "/") + ".py")
    if not source.is_file():
        raise TemplateError(f"handler {handler}: {source} does not exist")
    if not re.search(rf"^def {re.escape(attribute)}\(", source.read_text(), re.M):
        raise TemplateError(f"handler {handler}: {source} defines no function {attribute}")
    return _zip(code_dir)


def _zip(directory: Path, prefix: str = "") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted(directory.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                archive.write(path, prefix + path.relative_to(directory).as_posix())
    return buffer.getvalue()


def deploy(
    parameters: dict[str, str],
    *,
    name: str = "studio-image-pipeline",
    region: str = "us-east-1",
    template_path: Path = TEMPLATE,
    environment: dict[str, str] | None = None,
) -> Stack:
    """Create the template's resources in moto (which must be active). `environment` adds
    variables to every function (the sandbox turns X-Ray off, for one)."""
    template = load_template(template_path)
    declared = template.get("Parameters", {})
    unknown = set(parameters) - set(declared)
    if unknown:
        raise TemplateError(f"parameters not in the template: {sorted(unknown)}")
    values = {k: str(spec["Default"]) for k, spec in declared.items() if "Default" in spec}
    values.update(parameters)
    missing = set(declared) - set(values)
    if missing:
        raise TemplateError(f"parameters without a value: {sorted(missing)}")
    unknown_types = {spec["Type"] for spec in template["Resources"].values()} - SUPPORTED_TYPES
    if unknown_types:
        raise TemplateError(f"resource types the sandbox cannot build: {sorted(unknown_types)}")
    stack = Stack(name=name, region=region, parameters=values)
    resolve = _Resolver(template, stack)
    root = template_path.parent
    resources = template["Resources"]
    clients = {
        s: boto3.client(s, region_name=region)
        for s in ("s3", "dynamodb", "ssm", "sns", "sqs", "logs", "iam", "lambda", "stepfunctions")
    }

    def of_type(kind: str) -> list[str]:
        return [logical for logical, spec in resources.items() if spec["Type"] == kind]

    for logical in of_type("AWS::S3::Bucket"):
        bucket = f"{name}-{logical.lower()}-{ACCOUNT}"
        clients["s3"].create_bucket(Bucket=bucket)
        stack.physical[logical], stack.arns[logical] = bucket, f"arn:aws:s3:::{bucket}"
        stack.bucket = bucket
    for logical in of_type("AWS::DynamoDB::Table"):
        props = _properties(template, logical, resolve)
        table = f"{name}-{logical}"
        arn = clients["dynamodb"].create_table(
            TableName=table,
            AttributeDefinitions=props["AttributeDefinitions"],
            KeySchema=props["KeySchema"],
            BillingMode=props.get("BillingMode", "PAY_PER_REQUEST"),
        )["TableDescription"]["TableArn"]
        stack.physical[logical], stack.arns[logical] = table, arn
    for logical in of_type("AWS::SSM::Parameter"):
        props = _properties(template, logical, resolve)
        clients["ssm"].put_parameter(
            Name=props["Name"], Value=props["Value"], Type=props["Type"], Overwrite=True
        )
        stack.physical[logical] = props["Name"]
    for logical in of_type("AWS::SNS::Topic"):
        topic = clients["sns"].create_topic(Name=f"{name}-{logical}")["TopicArn"]
        queue = clients["sqs"].create_queue(QueueName=f"{name}-{logical}-inbox")["QueueUrl"]
        queue_arn = clients["sqs"].get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])
        clients["sns"].subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn["Attributes"]["QueueArn"])
        stack.physical[logical] = stack.arns[logical] = stack.topic_arn = topic
        stack.queue_url = queue
    for logical in of_type("AWS::Logs::LogGroup"):
        props = _properties(template, logical, resolve)
        clients["logs"].create_log_group(logGroupName=props["LogGroupName"])
        stack.physical[logical] = props["LogGroupName"]

    for logical in of_type("AWS::Serverless::LayerVersion"):
        # Published so the functions' configuration names it; in process, the installed
        # studio_image package is the layer's content.
        props = _properties(template, logical, resolve)
        published = clients["lambda"].publish_layer_version(
            LayerName=f"{name}-{logical}",
            Content={"ZipFile": _zip(root / props["ContentUri"], "python/")},
            CompatibleRuntimes=props.get("CompatibleRuntimes", []),
        )
        stack.physical[logical] = stack.arns[logical] = published["LayerVersionArn"]

    role = clients["iam"].create_role(RoleName=f"{name}-functions", AssumeRolePolicyDocument="{}")["Role"][
        "Arn"
    ]
    globals_ = resolve(template.get("Globals", {}).get("Function", {}))
    for logical in of_type("AWS::Serverless::Function"):
        props = {**globals_, **_properties(template, logical, resolve)}
        variables = {
            **globals_.get("Environment", {}).get("Variables", {}),
            **props.get("Environment", {}).get("Variables", {}),
            **(environment or {}),
        }
        function = f"{name}-{logical}"[:64]
        arn = clients["lambda"].create_function(
            FunctionName=function,
            Runtime=props["Runtime"],
            Role=role,
            Handler=props["Handler"],
            Code={"ZipFile": _package(root / props["CodeUri"], props["Handler"])},
            Timeout=int(props.get("Timeout", 3)),
            MemorySize=int(props.get("MemorySize", 128)),
            Environment={"Variables": {k: str(v) for k, v in variables.items()}},
            Layers=props.get("Layers", []),
        )["FunctionArn"]
        stack.physical[logical], stack.arns[logical] = function, arn
        stack.functions[logical] = function
        for event_name, event in props.get("Events", {}).items():
            if event["Type"] != "CloudWatchLogs":
                raise TemplateError(
                    f"{logical}: event source {event['Type']} is not supported by the sandbox"
                )
            group = event["Properties"]["LogGroupName"]
            with contextlib.suppress(clients["logs"].exceptions.ResourceAlreadyExistsException):
                clients["logs"].create_log_group(logGroupName=group)  # SageMaker's, in AWS
            clients["logs"].put_subscription_filter(
                logGroupName=group,
                filterName=f"{name}-{event_name}",
                filterPattern=event["Properties"].get("FilterPattern", ""),
                destinationArn=arn,
            )

    for logical in of_type("AWS::Serverless::StateMachine"):
        props = _properties(template, logical, resolve)
        definition = (root / props["DefinitionUri"]).read_text()
        substitutions = props.get("DefinitionSubstitutions", {})
        for key, value in substitutions.items():
            definition = definition.replace(f"${{{key}}}", str(value))
        leftover = sorted(set(_SUB.findall(definition)))
        if leftover:
            raise TemplateError(f"{props['DefinitionUri']}: no substitution for {leftover}")
        arn = clients["stepfunctions"].create_state_machine(
            name=f"{name}-{logical}", definition=definition, roleArn=role, type=props.get("Type", "STANDARD")
        )["stateMachineArn"]
        stack.physical[logical], stack.arns[logical] = arn, arn
        stack.state_machine_arn = arn
        for event in props.get("Events", {}).values():
            if event["Type"] != "EventBridgeRule":
                raise TemplateError(f"event source {event['Type']} is not supported by the sandbox")
            stack.event_pattern = event["Properties"]["Pattern"]

    return stack
