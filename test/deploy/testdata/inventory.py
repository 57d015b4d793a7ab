"""Reads back, through the AWS API, what exists in some accounts of a moto
server, for renderenv's deployment test (deploy_test.go).

usage: python3 inventory.py ENDPOINT REGION ACCOUNT[:REGION]... > inventory.json

Prints one JSON object: account id (with :REGION for another region than
REGION) to what that account holds there. Each account
is entered as a deployer would, by assuming a role in it with STS (moto keys
every account by the credentials it issued).
"""

import json
import sys

import boto3
from botocore.exceptions import ClientError


def session_for(endpoint, region, account):
    sts = boto3.client(
        "sts",
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    creds = sts.assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/OrganizationAccountAccessRole",
        RoleSessionName="renderenv-deploy-test",
    )["Credentials"]
    return boto3.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        region_name=region,
    )


def error_code(call):
    """call()'s result, or {"Error": code} when the API refuses it."""
    try:
        return call()
    except ClientError as e:
        return {"Error": e.response["Error"]["Code"]}


def inventory(session, endpoint):
    def client(name):
        return session.client(name, endpoint_url=endpoint)

    cfn, ec2, kms, s3, logs, iam, ssm = (
        client(n) for n in ("cloudformation", "ec2", "kms", "s3", "logs", "iam", "ssm")
    )
    out = {}

    out["Stacks"] = {}
    for stack in cfn.describe_stacks()["Stacks"]:
        name = stack["StackName"]
        resources = cfn.list_stack_resources(StackName=name)["StackResourceSummaries"]
        out["Stacks"][name] = {
            "Status": stack["StackStatus"],
            "TerminationProtection": stack.get("EnableTerminationProtection", False),
            "Resources": {r["LogicalResourceId"]: r.get("PhysicalResourceId", "") for r in resources},
        }

    out["Vpcs"] = ec2.describe_vpcs()["Vpcs"]
    out["Subnets"] = ec2.describe_subnets()["Subnets"]
    out["RouteTables"] = ec2.describe_route_tables()["RouteTables"]
    out["SecurityGroups"] = ec2.describe_security_groups()["SecurityGroups"]
    out["VpcEndpoints"] = ec2.describe_vpc_endpoints()["VpcEndpoints"]
    out["FlowLogs"] = ec2.describe_flow_logs()["FlowLogs"]
    out["InternetGateways"] = ec2.describe_internet_gateways()["InternetGateways"]
    out["NatGateways"] = ec2.describe_nat_gateways()["NatGateways"]
    out["TransitGateways"] = ec2.describe_transit_gateways()["TransitGateways"]
    out["TransitGatewayRouteTables"] = ec2.describe_transit_gateway_route_tables()["TransitGatewayRouteTables"]
    out["LaunchTemplates"] = []
    for lt in ec2.describe_launch_templates()["LaunchTemplates"]:
        version = ec2.describe_launch_template_versions(
            LaunchTemplateId=lt["LaunchTemplateId"], Versions=["$Latest"]
        )["LaunchTemplateVersions"][0]
        lt["LaunchTemplateData"] = version["LaunchTemplateData"]
        out["LaunchTemplates"].append(lt)

    out["Keys"] = []
    for key in kms.list_keys()["Keys"]:
        meta = kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]
        meta["KeyRotationEnabled"] = kms.get_key_rotation_status(KeyId=key["KeyId"])["KeyRotationEnabled"]
        meta["Tags"] = kms.list_resource_tags(KeyId=key["KeyId"])["Tags"]
        out["Keys"].append(meta)
    out["Aliases"] = kms.list_aliases()["Aliases"]

    out["Buckets"] = []
    for bucket in s3.list_buckets()["Buckets"]:
        name = bucket["Name"]
        out["Buckets"].append(
            {
                "Name": name,
                "Encryption": error_code(lambda: s3.get_bucket_encryption(Bucket=name)["ServerSideEncryptionConfiguration"]),
                "PublicAccessBlock": error_code(
                    lambda: s3.get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"]
                ),
                "Versioning": s3.get_bucket_versioning(Bucket=name).get("Status", ""),
                "Tags": error_code(lambda: s3.get_bucket_tagging(Bucket=name)["TagSet"]),
            }
        )

    out["LogGroups"] = logs.describe_log_groups()["logGroups"]

    out["Roles"] = []
    for role in iam.list_roles()["Roles"]:
        name = role["RoleName"]
        role["Tags"] = iam.list_role_tags(RoleName=name)["Tags"]
        role["PermissionsBoundary"] = iam.get_role(RoleName=name)["Role"].get("PermissionsBoundary", {})
        role["AttachedPolicies"] = [
            p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]
        ]
        out["Roles"].append(role)
    out["LocalPolicies"] = [p["Arn"] for p in iam.list_policies(Scope="Local")["Policies"]]

    out["Parameters"] = {}
    for page in ssm.get_paginator("describe_parameters").paginate():
        for p in page["Parameters"]:
            out["Parameters"][p["Name"]] = ssm.get_parameter(Name=p["Name"])["Parameter"]["Value"]
    return out


def main():
    endpoint, region, accounts = sys.argv[1], sys.argv[2], sys.argv[3:]
    result = {}
    for a in accounts:
        account, _, other = a.partition(":")
        result[a] = inventory(session_for(endpoint, other or region, account), endpoint)
    json.dump(result, sys.stdout, default=str, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
