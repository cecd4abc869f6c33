"""The deployed artefacts themselves: the ASL file the template deploys, and the template's IAM."""

from __future__ import annotations

import ast
import inspect
import json
import re

import pytest

from studio_image import errors
from studio_image.findings import Profile
from studio_image.pipeline.config import load_config
from studio_image.pipeline.stages import (
    attach,
    canary,
    configure,
    evaluate,
    prune,
    register,
    retire,
    scan_layer,
    watch_vulnerability_scan,
)
from studio_image.pipeline.state import RunRecord
from studio_image_sandbox.stack import ROOT, load_template

ASL = json.loads((ROOT / "statemachine" / "pipeline.asl.json").read_text())
TEMPLATE = load_template()
OUR_ERRORS = {name for name, cls in inspect.getmembers(errors, inspect.isclass) if issubclass(cls, Exception)}
# Lambda's transient errors as Step Functions names them, retried on every Task (Step Functions
# Developer Guide, "Handling errors in Step Functions workflows": the retrier its Lambda
# integration recommends, ClientExecutionTimeoutException among them).
LAMBDA_ERRORS = {
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
    "Lambda.ClientExecutionTimeoutException",
}
# An invocation past its timeout, and one whose runtime died (killed, out of memory), as Lambda
# reports them: https://docs.aws.amazon.com/lambda/latest/dg/troubleshooting-invocation.html
LAMBDA_RUNTIME_ERRORS = {"Sandbox.Timedout", "Runtime.ExitError"}


def states(machine=ASL):
    """Every state, nested Map processors included, with the states it may go to."""
    for name, state in machine["States"].items():
        yield name, state, machine["States"]
        if "ItemProcessor" in state:
            yield from states(state["ItemProcessor"])


def test_every_transition_names_a_state_that_exists():
    for name, state, siblings in states():
        targets = [state.get("Next"), state.get("Default")]
        targets += [c["Next"] for c in state.get("Choices", [])]
        targets += [c["Next"] for c in state.get("Catch", [])]
        for target in filter(None, targets):
            assert target in siblings, f"{name} goes to {target}, which does not exist"


def test_every_error_name_is_a_states_or_lambda_error_or_one_of_our_exceptions():
    for name, state, _ in states():
        for clause in state.get("Retry", []) + state.get("Catch", []):
            for error in clause["ErrorEquals"]:
                known = error in OUR_ERRORS | LAMBDA_ERRORS | LAMBDA_RUNTIME_ERRORS or error == "States.ALL"
                assert known, f"{name} names {error}, which nothing raises"


def test_every_task_retries_lambda_service_errors_and_every_path_reaches_notify():
    for name, state, _ in states():
        if state["Type"] != "Task":
            continue
        retried = {e for clause in state.get("Retry", []) for e in clause["ErrorEquals"]}
        assert retried >= LAMBDA_ERRORS, name
        assert {"AwsUnavailable", "RegistryUnavailable"} <= retried, name
        in_map = name == "ScanLayer"  # the Map state catches for its iterations
        # A failed start or look at the canary still stops (deletes) the app, then goes to Notify.
        caught_to = {"WatchCanary": "StopCanary", "StartCanary": "CanaryNotStarted"}.get(name, "Notify")
        if name != "Notify" and not in_map:
            assert state["Catch"] == [
                {"ErrorEquals": ["States.ALL"], "ResultPath": f"$.failed.{name}", "Next": caught_to}
            ], name
    assert ASL["States"]["ScanLayers"]["Catch"][0]["Next"] == "Notify"


def test_a_failed_canary_start_goes_through_stop_canary_to_notify_keeping_its_error():
    # Given the real ASL, from StartCanary's Catch
    states, path = ASL["States"], []
    (catch,) = states["StartCanary"]["Catch"]
    name = catch["Next"]
    # When its path is followed (a Choice by its Default: the canary failed, so nothing is pruned)
    while name not in path and name != "Notify":
        path.append(name)
        name = states[name].get("Next") or states[name]["Default"]
    # Then it stops the canary before Notify, and the error stays where Notify reads the failed state
    assert [*path, name] == ["CanaryNotStarted", "StopCanary", "PruneWanted", "Notify"]
    assert catch["ErrorEquals"] == ["States.ALL"] and catch["ResultPath"] == "$.failed.StartCanary"
    assert (
        states["StopCanary"]["ResultPath"] == "$.canary"
        and states["StopCanary"]["Catch"][0]["Next"] == "Notify"
    )
    # And what the Pass state leaves as the canary is what StopCanary reads as a start that failed
    not_started = states["CanaryNotStarted"]
    assert not_started["ResultPath"] == states["StopCanary"]["Parameters"]["canary.$"] == "$.canary"
    parsed = canary.StopInput.model_validate(
        {
            "execution_arn": "arn:aws:states:us-east-1:1:execution:p:run",
            "job": {
                "binding": {"match": "x", "profile": "jupyterlab"},
                "registers": True,
                "image_name": "x",
                "domain_id": "d-1",
                "display_name": "x",
                "poll_seconds": 1,
            },
            "plan": {
                "owner_kind": "Space",
                "owner": "s",
                "app_type": "JupyterLab",
                "instance_type": "ml.t3.medium",
                "budget_seconds": 1,
                "rollback": False,
            },
            "canary": not_started["Result"],
            "registration": {
                "image_name": "x",
                "image_version_arn": "a/1",
                "version": 1,
                "status": "CREATED",
            },
            "attached": [],
        }
    )
    assert isinstance(parsed.canary, canary.StartFailed)


@pytest.mark.parametrize("name", ["Attach", "StopCanary"])  # StopCanary may roll the attach back
def test_the_states_that_change_custom_images_retry_a_busy_domain_and_a_held_lock(name):
    retried = {e for clause in ASL["States"][name]["Retry"] for e in clause["ErrorEquals"]}
    assert {"DomainBusy", "AttachLockHeld"} <= retried


def test_every_substitution_in_the_asl_is_defined_by_the_template():
    text = (ROOT / "statemachine" / "pipeline.asl.json").read_text()
    machine = TEMPLATE["Resources"]["PipelineStateMachine"]["Properties"]
    assert set(re.findall(r"\$\{(\w+)\}", text)) == set(machine["DefinitionSubstitutions"])


def statements():
    for logical, resource in TEMPLATE["Resources"].items():
        for policy in resource.get("Properties", {}).get("Policies", []):
            for statement in policy.get("Statement", []):
                yield logical, statement


SCAN_READERS = {"EvaluateFunction", "WatchVulnerabilityScanFunction"}
SCAN_WATCHER = "WatchVulnerabilityScanFunction"


def test_no_function_policy_grants_a_wildcard_action_or_resource():
    found = list(statements())
    assert len(found) >= 15
    for logical, statement in found:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        assert all("*" not in a for a in actions), (logical, actions)
        # Amazon Inspector's ListFindings and ECR's GetRegistryScanningConfiguration support no
        # resource-level permissions (the Service Authorization Reference lists none): enhanced scan
        # findings need the first in the two functions that read them, the watch of the scan the second.
        reads_enhanced_findings = actions == ["inspector2:ListFindings"] and logical in SCAN_READERS
        reads_scan_type = actions == ["ecr:GetRegistryScanningConfiguration"] and logical == SCAN_WATCHER
        assert statement["Resource"] != "*" or reads_enhanced_findings or reads_scan_type, logical


@pytest.mark.parametrize(
    ("function", "action", "scope"),
    [
        ("RegisterFunction", "sagemaker:CreateImage", ":image/${ImageNamePrefix}*"),
        ("AttachFunction", "sagemaker:UpdateDomain", ":domain/${DomainId}"),
        ("ResolveFunction", "ecr:BatchGetImage", ":repository/${RepositoryPrefix}*"),
        ("WatchVulnerabilityScanFunction", "ecr:StartImageScan", ":repository/${RepositoryPrefix}*"),
        ("EvaluateFunction", "ecr:DescribeImageScanFindings", ":repository/${RepositoryPrefix}*"),
    ],
)
def test_mutations_are_scoped_to_the_managed_names(function, action, scope):
    for logical, statement in statements():
        if logical == function and action in statement["Action"]:
            assert statement["Resource"]["Fn::Sub"].endswith(scope)
            return
    raise AssertionError(f"{function} has no statement for {action}")


def test_pass_role_is_only_the_image_role_and_only_to_sagemaker():
    passes = [(logical, s) for logical, s in statements() if s["Action"] == "iam:PassRole"]
    assert [logical for logical, _ in passes] == ["RegisterFunction"]
    statement = passes[0][1]
    assert statement["Resource"] == {"Ref": "ImageRoleArn"}
    assert statement["Condition"] == {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}


# The model each Task's handler parses its input into: the ASL's Parameters must hand it exactly
# these fields, taken from paths of the run's record.
TASK_INPUTS = {
    "WatchVulnerabilityScan": watch_vulnerability_scan.WatchScanInput,
    "Evaluate": evaluate.EvaluateInput,
    "Register": register.RegisterInput,
    "CheckVersion": register.CheckVersionInput,
    "Configure": configure.ConfigureInput,
    "Attach": attach.AttachInput,
    "StartCanary": canary.CanaryInput,
    "WatchCanary": canary.WatchInput,
    "StopCanary": canary.StopInput,
    "Prune": prune.PruneInput,
    "Retire": retire.RetireInput,
}


def test_each_task_is_handed_exactly_its_input_models_fields_from_the_runs_record():
    # Given the ASL's Task states and the input model of each one's handler
    record = set(RunRecord.model_fields)
    for name, model in TASK_INPUTS.items():
        parameters = ASL["States"][name]["Parameters"]
        # Then the Parameters name the model's fields, no more and no fewer
        assert {key.removesuffix(".$") for key in parameters} == set(model.model_fields), name
        # And each one is read from a part of the record some state writes
        for path in parameters.values():
            assert path.split(".")[1] in record, (name, path)
    # Resolve and Notify are handed the whole state: the run's start, and the whole record
    assert "Parameters" not in ASL["States"]["Resolve"] and "Parameters" not in ASL["States"]["Notify"]
    item = ASL["States"]["ScanLayers"]["ItemSelector"]
    assert {key.removesuffix(".$") for key in item} == set(scan_layer.LayerTask.model_fields)


def test_each_state_places_its_result_in_its_own_part_of_the_record():
    # Given every Task outside Notify, and the Map
    placed = {
        name: state["ResultPath"]
        for name, state, _ in states()
        if state["Type"] in ("Task", "Map") and name not in ("Notify", "ScanLayer")
    }
    # Then each places its result under a field of the record, never over the whole state
    for name, path in placed.items():
        assert path.startswith("$.") and path.split(".")[1] in RunRecord.model_fields, (name, path)
    assert placed["Resolve"] == "$.resolved" and placed["Evaluate"] == "$.evaluation"


def test_no_stage_module_imports_another_stage():
    # Given the stage modules, one per state
    folder = ROOT / "layers" / "shared" / "studio_image" / "pipeline" / "stages"
    names = {path.stem for path in folder.glob("*.py")} - {"__init__"}
    for path in folder.glob("*.py"):
        # Then none imports a sibling: what two stages share lives beside them in pipeline/
        tree = ast.parse(path.read_text())
        imported = {
            node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module
        }
        siblings = {m for m in imported if m in names or (m.split(".")[-1] in names and "stages" in m)}
        assert not siblings, (path.name, siblings)


def test_the_default_configuration_loads_and_leads_with_the_new_studio():
    # Given the configuration a deployment gets when it names none
    default = TEMPLATE["Parameters"]["Configuration"]["Default"]
    # When the pipeline loads it
    bindings = load_config(default, "Configuration").repositories
    # Then it is valid, and binds JupyterLab and Code Editor (Studio Classic takes no new domains)
    assert {b.profile for b in bindings} == {Profile.JUPYTERLAB, Profile.CODE_EDITOR}
