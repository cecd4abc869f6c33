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
    return dict(yaml.load(path.read_text(), Loader=_Loader))


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

    def sent(self, notification: dict[str, Any], sfn: Any = None) -> bool:
        """Whether this stack's topic sent a notification (SNS's JSON envelope, as a subscribed queue
        receives it): a run's notice names one of this stack's executions (an app start's names none).
        What another sandbox's run published is not this one's."""
        if notification.get("TopicArn") != self.topic_arn:
            return False
        arn = json.loads(notification.get("Message") or "{}").get("execution_arn")
        if arn is None:
            return True
        sfn = sfn or boto3.client("stepfunctions", region_name=self.region)
        try:
            described = sfn.describe_execution(executionArn=arn)
        except sfn.exceptions.ExecutionDoesNotExist:
            return False
        return bool(described["stateMachineArn"] == self.state_machine_arn)


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
    deployment = _Deployment(
        template, Stack(name=name, region=region, parameters=values), template_path.parent
    )
    # In dependency order: what a function's environment or the state machine's definition names
    # exists before them.
    deployment.buckets()
    deployment.tables()
    deployment.parameters()
    deployment.topics()
    deployment.log_groups()
    deployment.layers()
    deployment.functions(environment or {})
    deployment.state_machines()
    return deployment.stack


class _Deployment:
    """One deployment of the template: a method per resource type, each recording what it made
    on the stack."""

    def __init__(self, template: dict[str, Any], stack: Stack, root: Path) -> None:
        self.template = template
        self.stack = stack
        self.root = root
        self.name = stack.name
        self.resolve = _Resolver(template, stack)
        region = stack.region
        self.s3 = boto3.client("s3", region_name=region)
        self.dynamodb = boto3.client("dynamodb", region_name=region)
        self.ssm = boto3.client("ssm", region_name=region)
        self.sns = boto3.client("sns", region_name=region)
        self.sqs = boto3.client("sqs", region_name=region)
        self.logs = boto3.client("logs", region_name=region)
        self.iam = boto3.client("iam", region_name=region)
        self.awslambda = boto3.client("lambda", region_name=region)
        self.sfn = boto3.client("stepfunctions", region_name=region)
        # The one role every function and the state machine run as (IAM is not enforced offline).
        role = self.iam.create_role(RoleName=f"{self.name}-functions", AssumeRolePolicyDocument="{}")
        self.role = role["Role"]["Arn"]

    def of_type(self, kind: str) -> list[str]:
        return [logical for logical, spec in self.template["Resources"].items() if spec["Type"] == kind]

    def properties(self, logical: str) -> dict[str, Any]:
        return _properties(self.template, logical, self.resolve)

    def buckets(self) -> None:
        for logical in self.of_type("AWS::S3::Bucket"):
            bucket = f"{self.name}-{logical.lower()}-{ACCOUNT}"
            self.s3.create_bucket(Bucket=bucket)
            self.stack.physical[logical], self.stack.arns[logical] = bucket, f"arn:aws:s3:::{bucket}"
            self.stack.bucket = bucket

    def tables(self) -> None:
        for logical in self.of_type("AWS::DynamoDB::Table"):
            props = self.properties(logical)
            table = f"{self.name}-{logical}"
            arn = self.dynamodb.create_table(
                TableName=table,
                AttributeDefinitions=props["AttributeDefinitions"],
                KeySchema=props["KeySchema"],
                BillingMode=props.get("BillingMode", "PAY_PER_REQUEST"),
            )["TableDescription"]["TableArn"]
            self.stack.physical[logical], self.stack.arns[logical] = table, arn

    def parameters(self) -> None:
        for logical in self.of_type("AWS::SSM::Parameter"):
            props = self.properties(logical)
            self.ssm.put_parameter(
                Name=props["Name"], Value=props["Value"], Type=props["Type"], Overwrite=True
            )
            self.stack.physical[logical] = props["Name"]

    def topics(self) -> None:
        """Each topic, with an SQS queue subscribed to read its notifications back."""
        for logical in self.of_type("AWS::SNS::Topic"):
            topic = self.sns.create_topic(Name=f"{self.name}-{logical}")["TopicArn"]
            queue = self.sqs.create_queue(QueueName=f"{self.name}-{logical}-inbox")["QueueUrl"]
            queue_arn = self.sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])
            self.sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn["Attributes"]["QueueArn"])
            self.stack.physical[logical] = self.stack.arns[logical] = self.stack.topic_arn = topic
            self.stack.queue_url = queue

    def log_groups(self) -> None:
        for logical in self.of_type("AWS::Logs::LogGroup"):
            props = self.properties(logical)
            self.logs.create_log_group(logGroupName=props["LogGroupName"])
            self.stack.physical[logical] = props["LogGroupName"]

    def layers(self) -> None:
        """Published so the functions' configuration names it; in process, the installed
        studio_image package is the layer's content."""
        for logical in self.of_type("AWS::Serverless::LayerVersion"):
            props = self.properties(logical)
            published = self.awslambda.publish_layer_version(
                LayerName=f"{self.name}-{logical}",
                Content={"ZipFile": _zip(self.root / props["ContentUri"], "python/")},
                CompatibleRuntimes=props.get("CompatibleRuntimes", []),
            )
            self.stack.physical[logical] = self.stack.arns[logical] = published["LayerVersionArn"]

    def functions(self, environment: dict[str, str]) -> None:
        globals_ = self.resolve(self.template.get("Globals", {}).get("Function", {}))
        for logical in self.of_type("AWS::Serverless::Function"):
            own = self.properties(logical)
            if not own:  # its Condition is false
                continue
            props = {**globals_, **own}
            variables = {
                **globals_.get("Environment", {}).get("Variables", {}),
                **props.get("Environment", {}).get("Variables", {}),
                **environment,
            }
            function = f"{self.name}-{logical}"[:64]
            arn = self.awslambda.create_function(
                FunctionName=function,
                Runtime=props["Runtime"],
                Role=self.role,
                Handler=props["Handler"],
                Code={"ZipFile": _package(self.root / props["CodeUri"], props["Handler"])},
                Timeout=int(props.get("Timeout", 3)),
                MemorySize=int(props.get("MemorySize", 128)),
                Environment={"Variables": {k: str(v) for k, v in variables.items()}},
                Layers=props.get("Layers", []),
            )["FunctionArn"]
            if "ReservedConcurrentExecutions" in props:
                self.awslambda.put_function_concurrency(
                    FunctionName=function,
                    ReservedConcurrentExecutions=int(props["ReservedConcurrentExecutions"]),
                )
            self.stack.physical[logical], self.stack.arns[logical] = function, arn
            self.stack.functions[logical] = function
            for event_name, event in props.get("Events", {}).items():
                self.subscribe(logical, event_name, event, arn)

    def subscribe(self, logical: str, event_name: str, event: dict[str, Any], function_arn: str) -> None:
        """A function's CloudWatchLogs event: a subscription filter on the log group."""
        if event["Type"] != "CloudWatchLogs":
            raise TemplateError(f"{logical}: event source {event['Type']} is not supported by the sandbox")
        group = event["Properties"]["LogGroupName"]
        with contextlib.suppress(self.logs.exceptions.ResourceAlreadyExistsException):
            self.logs.create_log_group(logGroupName=group)  # SageMaker's, in AWS
        self.logs.put_subscription_filter(
            logGroupName=group,
            filterName=f"{self.name}-{event_name}",
            filterPattern=event["Properties"].get("FilterPattern", ""),
            destinationArn=function_arn,
        )

    def state_machines(self) -> None:
        for logical in self.of_type("AWS::Serverless::StateMachine"):
            props = self.properties(logical)
            definition = (self.root / props["DefinitionUri"]).read_text()
            for key, value in props.get("DefinitionSubstitutions", {}).items():
                definition = definition.replace(f"${{{key}}}", str(value))
            leftover = sorted(set(_SUB.findall(definition)))
            if leftover:
                raise TemplateError(f"{props['DefinitionUri']}: no substitution for {leftover}")
            arn = self.sfn.create_state_machine(
                name=f"{self.name}-{logical}",
                definition=definition,
                roleArn=self.role,
                type=props.get("Type", "STANDARD"),
            )["stateMachineArn"]
            self.stack.physical[logical], self.stack.arns[logical] = arn, arn
            self.stack.state_machine_arn = arn
            for event in props.get("Events", {}).values():
                if event["Type"] != "EventBridgeRule":
                    raise TemplateError(f"event source {event['Type']} is not supported by the sandbox")
                self.stack.event_pattern = event["Properties"]["Pattern"]
