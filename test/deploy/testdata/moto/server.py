"""moto_server for renderenv's deployment test, with the fixes that test needs.

Run as `python3 server.py -H 127.0.0.1 -p PORT`, like `moto_server`. Every
change below is a gap or a bug of moto 5.2 (not of renderenv) that stops a
valid CloudFormation template from being created; each one makes moto do what
CloudFormation does, and none of them invents a resource:

1. KMS: moto's AWS::KMS::Key passes CloudFormation's [{"Key","Value"}] tags to
   the KMS API, which expects [{"TagKey","TagValue"}], and fails with
   KeyError 'TagKey'; and it keeps the KeyPolicy as the template's JSON
   object where the KMS API holds a string, so every later call that checks
   the policy (DescribeKey, ...) fails with "the JSON object must be str".
2. SSM: moto's AWS::SSM::Parameter expects tags as a list, but CloudFormation
   (and the CDK) write them as a map, and fails with "string indices must be
   integers".
3. Logs: moto's AWS::Logs::LogGroup reads the key as "kmsKeyId", the API's
   name, where CloudFormation's is "KmsKeyId", and drops it.
4. Transit Gateway route tables: moto's CloudFormation ignores
   AWS::EC2::TransitGatewayRouteTable, so its Ref is "" and the network
   stack's SSM parameters that publish the ids fail. Moto's EC2 API models
   these route tables, so they are created there.
5. Lambda-backed custom resources: moto runs Lambda functions only in Docker,
   and its CloudFormation invokes the function of a custom resource on a
   thread, creates the dependent resources before it answers (with empty
   attributes) and ignores FAILED answers. Here the function's own deployment
   package (the CDK's handler code, as uploaded by `cdk deploy`) runs in local
   Node.js (lambda_runtime.js) with credentials of the function's execution
   role in its account, against this server, before the dependents are
   created, as CloudFormation does; a FAILED answer, or one without a
   PhysicalResourceId, fails the stack creation with the handler's reason.
6. Errors: an exception inside moto while it creates a stack's resources is
   answered with HTTP 500, which the SDK retries, and the retry reports only
   AlreadyExistsException; it is answered as a ValidationError that names it.
7. VPC flow logs to S3: moto looks the destination up as a bucket of the
   flow log's own account named by the ARN's whole resource part, prefix
   included (acme-audit-archive-.../flow-logs/), finds none, and its
   CloudFormation then fails with IndexError. AWS delivers to a bucket of
   any account (the bucket's policy decides) under a key prefix: here the
   bucket is looked up by its name, in whichever account holds it.
"""

import io
import json
import os
import subprocess
import sys
import tempfile
import traceback
import uuid
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))


def _port(argv):
    for i, arg in enumerate(argv):
        if arg in ("-p", "--port") and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--port="):
            return arg.split("=", 1)[1]
    return "5000"


PORT = _port(sys.argv[1:])

from moto.awslambda import lambda_backends  # noqa: E402
from moto.cloudformation import custom_model  # noqa: E402
from moto.cloudformation.exceptions import ValidationError  # noqa: E402
from moto.cloudformation.responses import CloudFormationResponse  # noqa: E402
from moto.core.common_models import CloudFormationModel  # noqa: E402
from moto.ec2.models import ec2_backends  # noqa: E402
from moto.ec2.models.flow_logs import FlowLogsBackend  # noqa: E402
from moto.kms import models as kms  # noqa: E402
from moto.logs import models as logs  # noqa: E402
from moto.s3.exceptions import MissingBucket  # noqa: E402
from moto.s3.models import s3_backends  # noqa: E402
from moto.ssm import models as ssm  # noqa: E402
from moto.sts.models import sts_backends  # noqa: E402
from moto.utilities.utils import get_partition  # noqa: E402


# 1. KMS keys: accept CloudFormation's shapes of tags and policy as well as the API's.
_create_key = kms.KmsBackend.create_key


def create_key(self, policy, key_usage, key_spec, description, tags, *args, **kwargs):
    if isinstance(policy, dict):
        policy = json.dumps(policy)
    if tags:
        tags = [
            {"TagKey": t.get("TagKey", t.get("Key")), "TagValue": t.get("TagValue", t.get("Value"))}
            for t in tags
        ]
    return _create_key(self, policy, key_usage, key_spec, description, tags, *args, **kwargs)


kms.KmsBackend.create_key = create_key


# 2. SSM parameter tags: CloudFormation writes a map.
_put_parameter = ssm.SimpleSystemManagerBackend.put_parameter


def put_parameter(self, *args, **kwargs):
    tags = kwargs.get("tags")
    if isinstance(tags, dict):
        kwargs["tags"] = [{"Key": k, "Value": v} for k, v in tags.items()]
    return _put_parameter(self, *args, **kwargs)


ssm.SimpleSystemManagerBackend.put_parameter = put_parameter


# 3. Log group keys: CloudFormation's KmsKeyId, the API's kmsKeyId.
_create_log_group = logs.LogGroup.create_from_cloudformation_json.__func__


def create_log_group(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
    properties = cloudformation_json["Properties"]
    if "KmsKeyId" in properties:
        properties["kmsKeyId"] = properties.pop("KmsKeyId")
    return _create_log_group(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)


logs.LogGroup.create_from_cloudformation_json = classmethod(create_log_group)


# 4. AWS::EC2::TransitGatewayRouteTable, onto moto's EC2 model of it.
class TransitGatewayRouteTableModel(CloudFormationModel):
    __module__ = "moto.ec2.renderenv"  # moto files models by the service in their module name

    @staticmethod
    def cloudformation_type():
        return "AWS::EC2::TransitGatewayRouteTable"

    @staticmethod
    def cloudformation_name_type():
        return ""

    def __init__(self, route_table):
        self.route_table = route_table

    @property
    def physical_resource_id(self):
        return self.route_table.id

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        properties = cloudformation_json["Properties"]
        tags = {t["Key"]: t["Value"] for t in properties.get("Tags", [])}
        return cls(
            ec2_backends[account_id][region_name].create_transit_gateway_route_table(
                transit_gateway_id=properties["TransitGatewayId"], tags=tags
            )
        )


# 5. Custom resources through a Node.js Lambda runtime.
RESPONSE_HOST = "cloudformation-custom-resource-response.invalid"


def _run_function(fn, event, account_id, region_name):
    """Runs fn's deployment package on event; returns the response it sends."""
    if not str(fn.run_time).startswith("nodejs"):
        raise ValidationError(message=f"{fn.function_name}: this Lambda runtime runs Node.js only, not {fn.run_time}")
    # As the Lambda service does: the function acts as its execution role.
    role = sts_backends[account_id][get_partition(region_name)].assume_role(
        region_name=region_name,
        role_session_name=fn.function_name[:64],
        role_arn=fn.role,
        policy=None,
        duration=3600,
        external_id=None,
    )
    with tempfile.TemporaryDirectory(prefix="lambda-") as task:
        zipfile.ZipFile(io.BytesIO(fn.code_bytes)).extractall(task)
        response_file = os.path.join(task, ".cfn-response.json")
        env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": os.environ.get("HOME", task),
            "NODE_PATH": os.environ["LAMBDA_NODE_PATH"],
            "AWS_ACCESS_KEY_ID": role.access_key_id,
            "AWS_SECRET_ACCESS_KEY": role.secret_access_key,
            "AWS_SESSION_TOKEN": role.session_token,
            "AWS_REGION": region_name,
            "AWS_DEFAULT_REGION": region_name,
            "AWS_ENDPOINT_URL": f"http://localhost:{PORT}",
            "AWS_LAMBDA_FUNCTION_NAME": fn.function_name,
            "LAMBDA_TASK_ROOT": task,
            "CFN_RESPONSE_HOST": RESPONSE_HOST,
            "CFN_RESPONSE_FILE": response_file,
        }
        env.update(fn.environment_vars)
        try:
            proc = subprocess.run(
                ["node", os.path.join(HERE, "lambda_runtime.js"), fn.handler],
                input=json.dumps(event),
                cwd=task,
                env=env,
                capture_output=True,
                text=True,
                timeout=min(int(fn.timeout or 60), 120),
            )
        except subprocess.TimeoutExpired as e:
            raise ValidationError(message=f"custom resource {event['LogicalResourceId']}: timed out after {e.timeout}s")
        log = (proc.stdout + proc.stderr).strip()
        print(f"lambda {fn.function_name} ({event['LogicalResourceId']}):\n{log}", file=sys.stderr, flush=True)
        if not os.path.exists(response_file):
            raise ValidationError(
                message=f"custom resource {event['LogicalResourceId']}: the function sent no response "
                f"(exit {proc.returncode}): {log[-2000:]}"
            )
        with open(response_file) as f:
            return json.load(f)


def create_custom_resource(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
    from moto.cloudformation import cloudformation_backends

    properties = cloudformation_json["Properties"]
    fn = lambda_backends[account_id][region_name].get_function(properties["ServiceToken"])
    stack = cloudformation_backends[account_id][region_name].get_stack(kwargs["StackId"])
    resource = custom_model.CustomModel(region_name, str(uuid.uuid4()), kwargs["LogicalId"], resource_name)
    stack.add_custom_resource(resource)
    event = {
        "RequestType": "Create",
        "ServiceToken": properties["ServiceToken"],
        "ResponseURL": f"https://{RESPONSE_HOST}/{kwargs['LogicalId']}",
        "StackId": kwargs["StackId"],
        "RequestId": resource.request_id,
        "LogicalResourceId": kwargs["LogicalId"],
        "ResourceType": kwargs["ResourceType"],
        "ResourceProperties": properties,
    }
    response = _run_function(fn, event, account_id, region_name)
    if response.get("Status") != "SUCCESS":
        raise ValidationError(
            message=f"custom resource {kwargs['LogicalId']} ({kwargs['ResourceType']}) failed: {response.get('Reason')}"
        )
    if not response.get("PhysicalResourceId"):
        # CloudFormation rejects a response without one.
        raise ValidationError(
            message=f"custom resource {kwargs['LogicalId']} ({kwargs['ResourceType']}) answered without a PhysicalResourceId"
        )
    resource.set_data(response.get("Data") or {})
    resource.resource_name = response["PhysicalResourceId"]
    return resource


custom_model.CustomModel.create_from_cloudformation_json = classmethod(create_custom_resource)


# 7. Flow logs to a bucket of another account, under a prefix.
_create_flow_logs = FlowLogsBackend.create_flow_logs


def create_flow_logs(self, resource_type, resource_ids, traffic_type, deliver_logs_permission_arn, log_destination_type, log_destination, *args, **kwargs):
    if log_destination_type != "s3" or not log_destination:
        return _create_flow_logs(self, resource_type, resource_ids, traffic_type, deliver_logs_permission_arn, log_destination_type, log_destination, *args, **kwargs)
    own = s3_backends[self.account_id][self.partition]

    def get_bucket(name):
        name = name.split("/", 1)[0]
        for account in [self.account_id] + [a for a in list(s3_backends.keys()) if a != self.account_id]:
            try:
                return type(own).get_bucket(s3_backends[account][self.partition], name)
            except MissingBucket:
                continue
        raise MissingBucket(bucket=name)

    # Only for this call: moto's flow logs import s3_backends when called.
    own.get_bucket = get_bucket
    try:
        return _create_flow_logs(self, resource_type, resource_ids, traffic_type, deliver_logs_permission_arn, log_destination_type, log_destination, *args, **kwargs)
    finally:
        del own.get_bucket


FlowLogsBackend.create_flow_logs = create_flow_logs


# 6. Errors while creating a stack's resources, as ValidationErrors.
_create_stack = CloudFormationResponse.create_stack


def create_stack(self):
    try:
        return _create_stack(self)
    except ValidationError:
        raise
    except Exception as e:  # noqa: BLE001 - reported to the client, with the traceback in the log
        traceback.print_exc()
        raise ValidationError(message=f"moto failed creating the stack's resources: {type(e).__name__}: {e}")


CloudFormationResponse.create_stack = create_stack


if __name__ == "__main__":
    if not os.environ.get("LAMBDA_NODE_PATH"):
        sys.exit("server.py: LAMBDA_NODE_PATH must name the node_modules that hold the Lambda runtime's AWS SDK")
    from moto.server import main

    main(sys.argv[1:])
