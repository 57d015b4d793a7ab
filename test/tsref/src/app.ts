// The native TypeScript reference app of the renderenv scale benchmark
// (`make bench`, test/bench). It builds the same shape of estate as renderenv
// for TSREF_PRODUCTIONS productions, directly on aws-cdk-lib with no jsii
// bridge, so the benchmark can show what the Go/jsii route costs:
//
//   - <studio>-network: the management VPC (public front end with NAT,
//     application, data and transit tiers, a network ACL each), flow logs
//     to a KMS-encrypted log group and to the log-archive bucket, 7
//     interface endpoints with policies, the Transit Gateway with a
//     management and a production route table, the on-premises VPN, its
//     RAM share and a deploy-time look-up of it, the scheduler's role and
//     the SSM parameters the links read;
//   - <studio>-logging: the studio's multi-region trail (validated,
//     KMS-encrypted, to a bucket and a log group), the log-archive bucket,
//     14 metric filters with alarms to an encrypted topic, a reader role;
//   - per production, <studio>-<name>: a VPC with 4 isolated subnet tiers
//     over 2 AZs (no IGW, no NAT), a network ACL, flow logs to a KMS-encrypted
//     log group, an S3 gateway endpoint and 7 interface endpoints with
//     policies, 3 rotated KMS keys, an encrypted asset bucket and its access
//     log bucket, IAM roles, 2 launch templates with encrypted volumes, and a
//     Transit Gateway attachment found by a deploy-time look-up;
//   - per production, <studio>-<name>-link: the management side of the
//     attachment (route table association and propagation, security group
//     rules).
//
// It need not match renderenv resource for resource: the benchmark prints
// both apps' stack and resource counts next to the timings.
//
// Environment: TSREF_PRODUCTIONS (default 1); TSREF_NAG=0 leaves out the
// cdk-nag AwsSolutions and NIST 800-53 rev 5 packs that renderenv runs;
// CDK_OUTDIR as for any CDK app; TSREF_CDK_JSON names the cdk.json whose
// feature flags to use (default the renderenv repository's); TSREF_PHASES
// names a file to write the time of each step to, as JSON in nanoseconds:
// start (Node.js start and the imports above; aws-cdk-lib loads most of its
// modules on first use, so that goes to build), build (every construct) and
// synth (app.synth(): cdk-nag, templates, CloudFormation validation).
import * as fs from 'fs';
import * as path from 'path';
import { App, Aspects, CfnOutput, Duration, RemovalPolicy, Stack, StackProps, Tags } from 'aws-cdk-lib';
import * as cloudtrail from 'aws-cdk-lib/aws-cloudtrail';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as ram from 'aws-cdk-lib/aws-ram';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import * as cr from 'aws-cdk-lib/custom-resources';
import { AwsSolutionsChecks, NIST80053R5Checks } from 'cdk-nag';
import { Construct } from 'constructs';

const STUDIO = 'acme';
const REGION = 'us-west-2';
const MANAGEMENT = '111111111111';
const AZS = [`${REGION}a`, `${REGION}b`];
const MANAGEMENT_CIDR = '10.0.0.0/16';
const ON_PREMISES = '192.168.0.0/16';
const PRIVATE_RANGES = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'];
const TGW_ASN = 64512;
const SCHEDULER_PORT = 4433;
const LICENSE_PORT = 1715;
const PARAM_PREFIX = `/${STUDIO}/network`;

interface Production {
  name: string;
  tier: number;
  account: string;
  cidr: string;
}

// productions follows estategen's naming: p0001, p0002..., tiers 1, 2, 3, ...
// Every production has its own account and a /22 from 10.16.0.0/12.
function productions(n: number): Production[] {
  const out: Production[] = [];
  for (let i = 0; i < n; i++) {
    const block = i * 4; // /22 = 4 x /24
    out.push({
      name: `p${String(i + 1).padStart(4, '0')}`,
      tier: (i % 3) + 1,
      account: `3${String(i + 1).padStart(11, '0')}`,
      cidr: `10.${16 + Math.floor(block / 256)}.${block % 256}.0/22`,
    });
  }
  return out;
}

function tag(scope: Construct, tags: Record<string, string>) {
  for (const [k, v] of Object.entries(tags)) {
    Tags.of(scope).add(k, v);
  }
}

function key(scope: Construct, id: string, alias: string, description: string): kms.Key {
  return new kms.Key(scope, id, {
    alias,
    description,
    enableKeyRotation: true,
    removalPolicy: RemovalPolicy.RETAIN,
  });
}

// encryptedLogGroup is a log group that CloudWatch Logs encrypts with k.
function encryptedLogGroup(scope: Construct, id: string, k: kms.Key, region: string): logs.LogGroup {
  k.addToResourcePolicy(new iam.PolicyStatement({
    principals: [new iam.ServicePrincipal(`logs.${region}.amazonaws.com`)],
    actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
    resources: ['*'],
  }));
  return new logs.LogGroup(scope, id, {
    encryptionKey: k,
    retention: logs.RetentionDays.ONE_YEAR,
    removalPolicy: RemovalPolicy.RETAIN,
  });
}

class NetworkStack extends Stack {
  constructor(scope: Construct, id: string, prods: Production[], props: StackProps) {
    super(scope, id, props);
    const logKey = key(this, 'LoggingKey', `${STUDIO}/network/logging`, 'Management flow logs');
    const flowLogs = encryptedLogGroup(this, 'FlowLogs', logKey, REGION);
    const vpc = new ec2.Vpc(this, 'Vpc', {
      ipAddresses: ec2.IpAddresses.cidr(MANAGEMENT_CIDR),
      availabilityZones: AZS,
      natGateways: 2,
      subnetConfiguration: [
        { name: 'front-end', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24, mapPublicIpOnLaunch: false },
        { name: 'application', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 22 },
        { name: 'data', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 22 },
        { name: 'transit', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 28 },
      ],
      flowLogs: {
        all: { destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogs), trafficType: ec2.FlowLogTrafficType.ALL },
      },
    });
    const scheduler = new ec2.SecurityGroup(this, 'Scheduler', { vpc, allowAllOutbound: false, description: 'Render scheduler' });
    scheduler.addIngressRule(ec2.Peer.ipv4(ON_PREMISES), ec2.Port.tcp(SCHEDULER_PORT), 'scheduler from on-premises');
    const license = new ec2.SecurityGroup(this, 'License', { vpc, allowAllOutbound: false, description: 'License servers' });
    license.addEgressRule(ec2.Peer.ipv4('203.0.113.50/32'), ec2.Port.tcp(LICENSE_PORT), 'houdini');

    const tgw = new ec2.CfnTransitGateway(this, 'TransitGateway', {
      amazonSideAsn: TGW_ASN,
      autoAcceptSharedAttachments: 'enable',
      defaultRouteTableAssociation: 'disable',
      defaultRouteTablePropagation: 'disable',
      dnsSupport: 'enable',
    });
    const mgmtTable = new ec2.CfnTransitGatewayRouteTable(this, 'ManagementTable', { transitGatewayId: tgw.ref });
    const prodTable = new ec2.CfnTransitGatewayRouteTable(this, 'ProductionTable', { transitGatewayId: tgw.ref });
    const transit = vpc.selectSubnets({ subnetGroupName: 'transit' });
    const attachment = new ec2.CfnTransitGatewayAttachment(this, 'Attachment', {
      transitGatewayId: tgw.ref,
      vpcId: vpc.vpcId,
      subnetIds: transit.subnetIds,
    });
    new ec2.CfnTransitGatewayRouteTableAssociation(this, 'MgmtAssociation', {
      transitGatewayAttachmentId: attachment.attrId,
      transitGatewayRouteTableId: mgmtTable.ref,
    });
    new ec2.CfnTransitGatewayRouteTablePropagation(this, 'MgmtPropagation', {
      transitGatewayAttachmentId: attachment.attrId,
      transitGatewayRouteTableId: prodTable.ref,
    });
    for (const [gi, group] of ['application', 'data'].entries()) {
      vpc.selectSubnets({ subnetGroupName: group }).subnets.forEach((s, si) => {
        PRIVATE_RANGES.forEach((cidr, ci) => {
          const r = new ec2.CfnRoute(this, `Tgw${gi}${si}${ci}`, {
            routeTableId: s.routeTable.routeTableId,
            destinationCidrBlock: cidr,
            transitGatewayId: tgw.ref,
          });
          r.node.addDependency(attachment);
        });
      });
    }
    new ram.CfnResourceShare(this, 'Share', {
      name: `${STUDIO}-tgw`,
      allowExternalPrincipals: false,
      resourceArns: [`arn:aws:ec2:${REGION}:${MANAGEMENT}:transit-gateway/${tgw.ref}`],
      principals: prods.map((p) => p.account),
    });
    const params: Record<string, string> = {
      'production-table': prodTable.ref,
      'management-table': mgmtTable.ref,
      'scheduler-sg': scheduler.securityGroupId,
      'license-sg': license.securityGroupId,
      'tgw-id': tgw.ref,
    };
    for (const [name, value] of Object.entries(params)) {
      new ssm.StringParameter(this, `Param-${name}`, { parameterName: `${PARAM_PREFIX}/${name}`, stringValue: value });
    }
    new ec2.CfnTransitGatewayRouteTablePropagation(this, 'MgmtSelfPropagation', {
      transitGatewayAttachmentId: attachment.attrId,
      transitGatewayRouteTableId: mgmtTable.ref,
    });
    // Replies from the front end to the private ranges go back through the
    // Transit Gateway too.
    vpc.selectSubnets({ subnetGroupName: 'front-end' }).subnets.forEach((s, si) => {
      PRIVATE_RANGES.forEach((cidr, ci) => {
        const r = new ec2.CfnRoute(this, `TgwFront${si}${ci}`, {
          routeTableId: s.routeTable.routeTableId,
          destinationCidrBlock: cidr,
          transitGatewayId: tgw.ref,
        });
        r.node.addDependency(attachment);
      });
    });
    managementAcls(this, vpc);
    interfaceEndpoints(this, vpc, MANAGEMENT_CIDR, 'application', { 'aws:PrincipalOrgID': 'o-exampleorgid' });
    // On-premises over a site-to-site VPN into the Transit Gateway.
    const cgw = new ec2.CfnCustomerGateway(this, 'OnPremises', { bgpAsn: 65000, ipAddress: '198.51.100.10', type: 'ipsec.1' });
    new ec2.CfnVPNConnection(this, 'Vpn', { customerGatewayId: cgw.ref, transitGatewayId: tgw.ref, type: 'ipsec.1', staticRoutesOnly: false });
    // Flow logs copied to the log-archive bucket as well.
    vpc.addFlowLog('ArchiveFlowLogs', {
      destination: ec2.FlowLogDestination.toS3(s3.Bucket.fromBucketName(this, 'Archive', `${STUDIO}-log-archive-${MANAGEMENT}`), 'flow-logs/'),
      trafficType: ec2.FlowLogTrafficType.ALL,
    });
    // The scheduler's instance role, and a deploy-time look-up of the share.
    const schedulerRole = new iam.Role(this, 'SchedulerRole', {
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      managedPolicies: [new iam.ManagedPolicy(this, 'SchedulerPolicy', {
        statements: [new iam.PolicyStatement({ actions: ['ssm:UpdateInstanceInformation', 'ssmmessages:*', 'ec2messages:*'], resources: ['*'] })],
      })],
    });
    new iam.CfnInstanceProfile(this, 'SchedulerProfile', { roles: [schedulerRole.roleName] });
    new cr.AwsCustomResource(this, 'ShareLookup', {
      onUpdate: {
        service: 'RAM',
        action: 'getResourceShares',
        parameters: { resourceOwner: 'SELF', name: `${STUDIO}-tgw` },
        physicalResourceId: cr.PhysicalResourceId.of(`${STUDIO}-tgw-share`),
        outputPaths: ['resourceShares.0.resourceShareArn'],
      },
      policy: cr.AwsCustomResourcePolicy.fromStatements([
        new iam.PolicyStatement({ actions: ['ram:GetResourceShares'], resources: ['*'] }),
      ]),
      installLatestAwsSdk: false,
    });
    new CfnOutput(this, 'TransitGatewayId', { value: tgw.ref });
  }
}

// interfaceEndpoints adds the 7 interface endpoints to vpc's subnet group,
// behind one security group that admits HTTPS from cidr, each with a
// policy that admits the principals matching condition.
function interfaceEndpoints(scope: Construct, vpc: ec2.Vpc, cidr: string, group: string, condition: Record<string, string>) {
  const endpointSg = new ec2.SecurityGroup(scope, 'EndpointSg', { vpc, allowAllOutbound: false, description: 'Interface endpoints' });
  endpointSg.addIngressRule(ec2.Peer.ipv4(cidr), ec2.Port.tcp(443), 'HTTPS from the VPC');
  for (const svc of ['ec2messages', 'kms', 'logs', 'ssm', 'ssmmessages', 'sts', 'ecr.api']) {
    const ep = vpc.addInterfaceEndpoint(`Endpoint-${svc}`, {
      service: new ec2.InterfaceVpcEndpointAwsService(svc),
      privateDnsEnabled: true,
      securityGroups: [endpointSg],
      subnets: { subnetGroupName: group },
      open: false,
    });
    ep.addToPolicy(new iam.PolicyStatement({
      principals: [new iam.AnyPrincipal()],
      actions: ['*'],
      resources: ['*'],
      conditions: { StringEquals: condition },
    }));
  }
}

// managementAcls gives each tier of the management VPC a network ACL: the
// management range, on-premises and the productions' block both ways,
// HTTPS out and replies in; the front end also reaches the license server.
function managementAcls(scope: Construct, vpc: ec2.Vpc) {
  for (const group of ['front-end', 'application', 'data', 'transit']) {
    const acl = new ec2.NetworkAcl(scope, `Acl-${group}`, { vpc, subnetSelection: { subnetGroupName: group } });
    let rule = 100;
    for (const dir of [ec2.TrafficDirection.INGRESS, ec2.TrafficDirection.EGRESS]) {
      rule = 100;
      for (const cidr of [MANAGEMENT_CIDR, ON_PREMISES, '10.16.0.0/12']) {
        acl.addEntry(`Allow${dir}${rule}`, { cidr: ec2.AclCidr.ipv4(cidr), ruleNumber: rule, traffic: ec2.AclTraffic.allTraffic(), direction: dir, ruleAction: ec2.Action.ALLOW });
        rule += 10;
      }
    }
    acl.addEntry('HttpsOut', { cidr: ec2.AclCidr.anyIpv4(), ruleNumber: rule, traffic: ec2.AclTraffic.tcpPort(443), direction: ec2.TrafficDirection.EGRESS, ruleAction: ec2.Action.ALLOW });
    acl.addEntry('Replies', { cidr: ec2.AclCidr.anyIpv4(), ruleNumber: rule, traffic: ec2.AclTraffic.tcpPortRange(1024, 65535), direction: ec2.TrafficDirection.INGRESS, ruleAction: ec2.Action.ALLOW });
    if (group === 'front-end') {
      acl.addEntry('License', { cidr: ec2.AclCidr.ipv4('203.0.113.50/32'), ruleNumber: rule + 10, traffic: ec2.AclTraffic.tcpPort(LICENSE_PORT), direction: ec2.TrafficDirection.EGRESS, ruleAction: ec2.Action.ALLOW });
    }
  }
}

// The events the logging stack raises an alarm on: CloudTrail metric
// filters in the manner of the CIS AWS Foundations Benchmark.
const ALARMS: Record<string, string> = {
  UnauthorizedApiCalls: '{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") }',
  ConsoleWithoutMfa: '{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") }',
  RootUse: '{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }',
  IamPolicyChanges: '{ ($.eventSource = "iam.amazonaws.com") && ($.eventName = "Put*Policy" || $.eventName = "Attach*Policy") }',
  TrailChanges: '{ ($.eventName = "CreateTrail") || ($.eventName = "UpdateTrail") || ($.eventName = "DeleteTrail") || ($.eventName = "StopLogging") }',
  ConsoleFailures: '{ ($.eventName = "ConsoleLogin") && ($.errorMessage = "Failed authentication") }',
  KeyDeletion: '{ ($.eventSource = "kms.amazonaws.com") && (($.eventName = "DisableKey") || ($.eventName = "ScheduleKeyDeletion")) }',
  BucketPolicyChanges: '{ ($.eventSource = "s3.amazonaws.com") && ($.eventName = "PutBucketPolicy" || $.eventName = "DeleteBucketPolicy") }',
  ConfigChanges: '{ ($.eventSource = "config.amazonaws.com") && ($.eventName = "StopConfigurationRecorder") }',
  SecurityGroupChanges: '{ ($.eventName = "AuthorizeSecurityGroupIngress") || ($.eventName = "RevokeSecurityGroupIngress") }',
  NaclChanges: '{ ($.eventName = "CreateNetworkAclEntry") || ($.eventName = "DeleteNetworkAclEntry") }',
  GatewayChanges: '{ ($.eventName = "CreateCustomerGateway") || ($.eventName = "AttachInternetGateway") }',
  RouteChanges: '{ ($.eventName = "CreateRoute") || ($.eventName = "ReplaceRoute") || ($.eventName = "DeleteRoute") }',
  VpcChanges: '{ ($.eventName = "CreateVpc") || ($.eventName = "DeleteVpc") || ($.eventName = "ModifyVpcAttribute") }',
};

// LoggingStack is the studio's central, encrypted, validated trail with its
// buckets, the log-archive bucket, and alarms on the trail's events.
class LoggingStack extends Stack {
  constructor(scope: Construct, id: string, props: StackProps) {
    super(scope, id, props);
    const trailKey = key(this, 'TrailKey', `${STUDIO}/trail`, 'CloudTrail and its log group');
    trailKey.grantEncryptDecrypt(new iam.ServicePrincipal('cloudtrail.amazonaws.com'));
    const hardened = {
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: true,
      removalPolicy: RemovalPolicy.RETAIN,
    };
    const accessLogs = new s3.Bucket(this, 'AccessLogs', { ...hardened, encryption: s3.BucketEncryption.S3_MANAGED });
    const trailBucket = new s3.Bucket(this, 'TrailBucket', {
      ...hardened, encryption: s3.BucketEncryption.KMS, encryptionKey: trailKey, serverAccessLogsBucket: accessLogs, serverAccessLogsPrefix: 'trail/',
    });
    const archive = new s3.Bucket(this, 'ArchiveBucket', {
      ...hardened, bucketName: `${STUDIO}-log-archive-${MANAGEMENT}`, encryption: s3.BucketEncryption.KMS, encryptionKey: trailKey,
      serverAccessLogsBucket: accessLogs, serverAccessLogsPrefix: 'archive/', objectLockEnabled: true,
    });
    archive.addToResourcePolicy(new iam.PolicyStatement({
      principals: [new iam.ServicePrincipal('delivery.logs.amazonaws.com')],
      actions: ['s3:PutObject'],
      resources: [archive.arnForObjects('flow-logs/AWSLogs/${aws:SourceAccount}/*')],
      conditions: { StringEquals: { 'aws:SourceOrgID': 'o-exampleorgid', 's3:x-amz-acl': 'bucket-owner-full-control' } },
    }));
    const trailLogs = encryptedLogGroup(this, 'TrailLogs', trailKey, REGION);
    new cloudtrail.Trail(this, 'Trail', {
      bucket: trailBucket,
      encryptionKey: trailKey,
      cloudWatchLogGroup: trailLogs,
      sendToCloudWatchLogs: true,
      enableFileValidation: true,
      isMultiRegionTrail: true,
      includeGlobalServiceEvents: true,
    });
    const topic = new sns.Topic(this, 'Alarms', { masterKey: trailKey, enforceSSL: true });
    topic.addSubscription(new subscriptions.EmailSubscription('security@acme.example'));
    for (const [name, pattern] of Object.entries(ALARMS)) {
      const filter = new logs.MetricFilter(this, `Filter-${name}`, {
        logGroup: trailLogs,
        filterPattern: logs.FilterPattern.literal(pattern),
        metricNamespace: `${STUDIO}/Security`,
        metricName: name,
        metricValue: '1',
      });
      new cloudwatch.Alarm(this, `Alarm-${name}`, {
        metric: filter.metric({ statistic: 'Sum', period: Duration.minutes(5) }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }).addAlarmAction({ bind: () => ({ alarmActionArn: topic.topicArn }) });
    }
    const reader = new iam.Role(this, 'AuditReader', { assumedBy: new iam.AccountPrincipal(MANAGEMENT) });
    trailBucket.grantRead(reader);
    archive.grantRead(reader);
  }
}

class ProductionStack extends Stack {
  constructor(scope: Construct, id: string, p: Production, props: StackProps) {
    super(scope, id, props);
    const prefix = `${STUDIO}-${p.name}`;
    const rootKey = key(this, 'RootVolumeKey', `${prefix}/root`, 'Render root volumes');
    const assetKey = key(this, 'AssetKey', `${prefix}/assets`, 'Content assets');
    const logKey = key(this, 'LoggingKey', `${prefix}/logging`, 'Flow and session logs');

    const flowLogs = encryptedLogGroup(this, 'FlowLogs', logKey, REGION);
    const vpc = new ec2.Vpc(this, 'Vpc', {
      ipAddresses: ec2.IpAddresses.cidr(p.cidr),
      availabilityZones: AZS,
      natGateways: 0,
      createInternetGateway: false,
      subnetConfiguration: ['render', 'storage', 'endpoints', 'transit'].map((name) => ({
        name,
        subnetType: ec2.SubnetType.PRIVATE_ISOLATED,
        cidrMask: 25,
      })),
      flowLogs: {
        all: { destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogs), trafficType: ec2.FlowLogTrafficType.ALL },
      },
    });

    // Network ACL: the VPC, management and on-premises; deny every other
    // private range; HTTPS out to AWS for the S3 gateway endpoint.
    const nacl = new ec2.NetworkAcl(this, 'Acl', { vpc, subnetSelection: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED } });
    const allow = [p.cidr, MANAGEMENT_CIDR, ON_PREMISES];
    let rule = 100;
    for (const dir of [ec2.TrafficDirection.INGRESS, ec2.TrafficDirection.EGRESS]) {
      rule = 100;
      for (const cidr of allow) {
        nacl.addEntry(`Allow${dir}${rule}`, { cidr: ec2.AclCidr.ipv4(cidr), ruleNumber: rule, traffic: ec2.AclTraffic.allTraffic(), direction: dir, ruleAction: ec2.Action.ALLOW });
        rule += 10;
      }
      for (const cidr of PRIVATE_RANGES) {
        nacl.addEntry(`Deny${dir}${rule}`, { cidr: ec2.AclCidr.ipv4(cidr), ruleNumber: rule, traffic: ec2.AclTraffic.allTraffic(), direction: dir, ruleAction: ec2.Action.DENY });
        rule += 10;
      }
    }
    nacl.addEntry('HttpsOut', { cidr: ec2.AclCidr.anyIpv4(), ruleNumber: rule, traffic: ec2.AclTraffic.tcpPort(443), direction: ec2.TrafficDirection.EGRESS, ruleAction: ec2.Action.ALLOW });
    nacl.addEntry('Replies', { cidr: ec2.AclCidr.anyIpv4(), ruleNumber: rule, traffic: ec2.AclTraffic.tcpPortRange(1024, 65535), direction: ec2.TrafficDirection.INGRESS, ruleAction: ec2.Action.ALLOW });

    // Access logs, then the asset bucket.
    const accessLogs = new s3.Bucket(this, 'AccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: true,
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [{ expiration: Duration.days(365) }],
    });
    const assets = new s3.Bucket(this, 'Assets', {
      bucketName: `${prefix}-assets-${p.account}-${REGION}`,
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: assetKey,
      bucketKeyEnabled: true,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: true,
      removalPolicy: RemovalPolicy.RETAIN,
      serverAccessLogsBucket: accessLogs,
      serverAccessLogsPrefix: 'assets/',
    });
    assets.addToResourcePolicy(new iam.PolicyStatement({
      effect: iam.Effect.DENY,
      principals: [new iam.AnyPrincipal()],
      actions: ['s3:PutObject'],
      resources: [assets.arnForObjects('*')],
      conditions: { StringNotEqualsIfExists: { 's3:x-amz-server-side-encryption-aws-kms-key-id': assetKey.keyArn } },
    }));

    // Endpoints: the S3 gateway and the interface endpoints, each with a policy.
    const s3ep = vpc.addGatewayEndpoint('S3', {
      service: ec2.GatewayVpcEndpointAwsService.S3,
      subnets: [{ subnetGroupName: 'render' }, { subnetGroupName: 'storage' }],
    });
    s3ep.addToPolicy(new iam.PolicyStatement({
      principals: [new iam.AnyPrincipal()],
      actions: ['s3:GetObject', 's3:PutObject', 's3:ListBucket'],
      resources: [assets.bucketArn, assets.arnForObjects('*')],
      conditions: { StringEquals: { 'aws:PrincipalAccount': p.account } },
    }));
    s3ep.addToPolicy(new iam.PolicyStatement({
      principals: [new iam.AnyPrincipal()],
      actions: ['s3:GetObject'],
      resources: [`arn:aws:s3:::aws-ssm-${REGION}/*`, `arn:aws:s3:::amazon-ssm-${REGION}/*`, `arn:aws:s3:::al2023-repos-${REGION}-*/*`],
    }));
    interfaceEndpoints(this, vpc, p.cidr, 'endpoints', { 'aws:PrincipalAccount': p.account });

    // Roles: render nodes, the launcher, an administrator and a log reader.
    const boundary = new iam.ManagedPolicy(this, 'RenderBoundary', {
      statements: [
        new iam.PolicyStatement({ actions: ['ssm:UpdateInstanceInformation', 'ssmmessages:*', 'ec2messages:*'], resources: ['*'] }),
        new iam.PolicyStatement({ actions: ['s3:GetObject', 's3:PutObject'], resources: [assets.arnForObjects('*')] }),
        new iam.PolicyStatement({ actions: ['kms:Decrypt', 'kms:GenerateDataKey'], resources: [assetKey.keyArn, rootKey.keyArn] }),
      ],
    });
    const renderRole = new iam.Role(this, 'RenderRole', {
      roleName: `${prefix}-render`,
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      permissionsBoundary: boundary,
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('AmazonSSMManagedInstanceCore')],
    });
    assets.grantReadWrite(renderRole);
    rootKey.grantEncryptDecrypt(renderRole);
    const sessionLogs = encryptedLogGroup(this, 'SessionLogs', logKey, REGION);
    sessionLogs.grantWrite(renderRole);
    const people = new iam.AccountPrincipal(MANAGEMENT).withConditions({ IpAddress: { 'aws:SourceIp': ['198.51.100.0/24'] } });
    const admin = new iam.Role(this, 'AdminRole', { roleName: `${prefix}-admin`, assumedBy: people });
    admin.addToPolicy(new iam.PolicyStatement({ actions: ['ec2:Describe*', 'ssm:StartSession'], resources: ['*'] }));
    const reader = new iam.Role(this, 'LogReader', { roleName: `${prefix}-log-reader`, assumedBy: people });
    flowLogs.grantRead(reader);
    sessionLogs.grantRead(reader);
    const launcher = new iam.Role(this, 'Launcher', { roleName: `${prefix}-launcher`, assumedBy: people });

    // Render launch templates: default and big-memory profiles.
    const renderSg = new ec2.SecurityGroup(this, 'RenderSg', { vpc, allowAllOutbound: false, description: 'Render nodes' });
    renderSg.addEgressRule(ec2.Peer.ipv4(MANAGEMENT_CIDR), ec2.Port.tcp(SCHEDULER_PORT), 'scheduler');
    renderSg.addEgressRule(ec2.Peer.ipv4(p.cidr), ec2.Port.tcp(443), 'endpoints');
    for (const [profile, type] of [['default', 'c6i.32xlarge'], ['bigmem', 'r6i.32xlarge']]) {
      const lt = new ec2.LaunchTemplate(this, `Render-${profile}`, {
        launchTemplateName: `${prefix}-${profile}`,
        machineImage: ec2.MachineImage.fromSsmParameter(`/${STUDIO}/render/ami`),
        instanceType: new ec2.InstanceType(type),
        role: renderRole,
        securityGroup: renderSg,
        requireImdsv2: true,
        associatePublicIpAddress: false,
        blockDevices: [
          { deviceName: '/dev/xvda', volume: ec2.BlockDeviceVolume.ebs(100, { encrypted: true, kmsKey: rootKey, volumeType: ec2.EbsDeviceVolumeType.GP3, deleteOnTermination: true }) },
          { deviceName: '/dev/sdb', volume: ec2.BlockDeviceVolume.ebs(500, { encrypted: true, kmsKey: rootKey, volumeType: ec2.EbsDeviceVolumeType.GP3, deleteOnTermination: true }) },
        ],
      });
      launcher.addToPolicy(new iam.PolicyStatement({
        actions: ['ec2:RunInstances'],
        resources: ['*'],
        conditions: { ArnLike: { 'ec2:LaunchTemplate': `arn:aws:ec2:${REGION}:${p.account}:launch-template/${lt.launchTemplateId}` } },
      }));
    }
    launcher.addToPolicy(new iam.PolicyStatement({ actions: ['iam:PassRole'], resources: [renderRole.roleArn] }));

    // Transit Gateway: look the shared gateway up at deploy time, attach the
    // transit subnets and route management and on-premises to it.
    const lookup = new cr.AwsCustomResource(this, 'TgwLookup', {
      onUpdate: {
        service: 'EC2',
        action: 'describeTransitGateways',
        parameters: { Filters: [{ Name: 'owner-id', Values: [MANAGEMENT] }, { Name: 'options.amazon-side-asn', Values: [String(TGW_ASN)] }] },
        physicalResourceId: cr.PhysicalResourceId.of(`${prefix}-tgw`),
        outputPaths: ['TransitGateways.0.TransitGatewayId'],
      },
      policy: cr.AwsCustomResourcePolicy.fromSdkCalls({ resources: cr.AwsCustomResourcePolicy.ANY_RESOURCE }),
      installLatestAwsSdk: false,
    });
    const tgwId = lookup.getResponseField('TransitGateways.0.TransitGatewayId');
    const attachment = new ec2.CfnTransitGatewayAttachment(this, 'Attachment', {
      transitGatewayId: tgwId,
      vpcId: vpc.vpcId,
      subnetIds: vpc.selectSubnets({ subnetGroupName: 'transit' }).subnetIds,
      tags: [{ key: 'renderenv:network', value: prefix }],
    });
    for (const group of ['render', 'storage']) {
      vpc.selectSubnets({ subnetGroupName: group }).subnets.forEach((s, si) => {
        [MANAGEMENT_CIDR, ON_PREMISES].forEach((cidr, ci) => {
          const r = new ec2.CfnRoute(this, `Tgw-${group}${si}${ci}`, {
            routeTableId: s.routeTable.routeTableId,
            destinationCidrBlock: cidr,
            transitGatewayId: tgwId,
          });
          r.node.addDependency(attachment);
        });
      });
    }
    new iam.Role(this, 'TgwReader', {
      roleName: `${prefix}-tgw-reader`,
      assumedBy: new iam.AccountPrincipal(MANAGEMENT),
      inlinePolicies: {
        describe: new iam.PolicyDocument({
          statements: [new iam.PolicyStatement({ actions: ['ec2:DescribeTransitGatewayAttachments'], resources: ['*'] })],
        }),
      },
    });
  }
}

class LinkStack extends Stack {
  constructor(scope: Construct, id: string, p: Production, props: StackProps) {
    super(scope, id, props);
    const prefix = `${STUDIO}-${p.name}`;
    const find = new cr.AwsCustomResource(this, 'Attachment', {
      onUpdate: {
        service: 'EC2',
        action: 'describeTransitGatewayAttachments',
        parameters: { Filters: [{ Name: 'tag:renderenv:network', Values: [prefix] }] },
        physicalResourceId: cr.PhysicalResourceId.of(`${prefix}-attachment`),
        outputPaths: ['TransitGatewayAttachments.0.TransitGatewayAttachmentId'],
        assumedRoleArn: `arn:aws:iam::${p.account}:role/${prefix}-tgw-reader`,
      },
      policy: cr.AwsCustomResourcePolicy.fromStatements([
        new iam.PolicyStatement({ actions: ['sts:AssumeRole'], resources: [`arn:aws:iam::${p.account}:role/${prefix}-tgw-reader`] }),
      ]),
      installLatestAwsSdk: false,
    });
    const attachmentId = find.getResponseField('TransitGatewayAttachments.0.TransitGatewayAttachmentId');
    const param = (name: string) => ssm.StringParameter.valueForStringParameter(this, `${PARAM_PREFIX}/${name}`);
    new ec2.CfnTransitGatewayRouteTableAssociation(this, 'Association', {
      transitGatewayAttachmentId: attachmentId,
      transitGatewayRouteTableId: param('production-table'),
    });
    new ec2.CfnTransitGatewayRouteTablePropagation(this, 'Propagation', {
      transitGatewayAttachmentId: attachmentId,
      transitGatewayRouteTableId: param('management-table'),
    });
    new ec2.CfnSecurityGroupIngress(this, 'Scheduler', {
      groupId: param('scheduler-sg'),
      ipProtocol: 'tcp',
      fromPort: SCHEDULER_PORT,
      toPort: SCHEDULER_PORT,
      cidrIp: p.cidr,
      description: `scheduler from ${p.name}`,
    });
    new ec2.CfnSecurityGroupIngress(this, 'License', {
      groupId: param('license-sg'),
      ipProtocol: 'tcp',
      fromPort: LICENSE_PORT,
      toPort: LICENSE_PORT,
      cidrIp: p.cidr,
      description: `license servers from ${p.name}`,
    });
  }
}

function featureFlags(): Record<string, unknown> {
  const file = process.env.TSREF_CDK_JSON ?? path.resolve(__dirname, '..', '..', '..', 'cdk.json');
  return JSON.parse(fs.readFileSync(file, 'utf8')).context ?? {};
}

function main() {
  const started = process.uptime();
  const t0 = performance.now();
  const n = Number.parseInt(process.env.TSREF_PRODUCTIONS ?? '1', 10);
  if (!Number.isInteger(n) || n < 0 || n > 1000) {
    throw new Error(`TSREF_PRODUCTIONS=${process.env.TSREF_PRODUCTIONS}: want 0 to 1000`);
  }
  const app = new App({ context: featureFlags() });
  const prods = productions(n);
  const shared = { Studio: STUDIO, Tier: 'shared', CostCentre: 'shared', ResourceGroup: 'network' };
  const network = new NetworkStack(app, `${STUDIO}-network`, prods, {
    stackName: `${STUDIO}-network`,
    env: { account: MANAGEMENT, region: REGION },
    terminationProtection: true,
  });
  tag(network, shared);
  const logging = new LoggingStack(app, `${STUDIO}-logging`, {
    stackName: `${STUDIO}-logging`,
    env: { account: MANAGEMENT, region: REGION },
    terminationProtection: true,
  });
  tag(logging, { ...shared, ResourceGroup: 'logging' });
  for (const p of prods) {
    const st = new ProductionStack(app, `${STUDIO}-${p.name}`, p, {
      stackName: `${STUDIO}-${p.name}`,
      env: { account: p.account, region: REGION },
      terminationProtection: true,
    });
    tag(st, { Studio: STUDIO, Production: p.name, Tier: String(p.tier), CostCentre: `CC-${p.name}`, ResourceGroup: 'render-instance' });
    const link = new LinkStack(app, `${STUDIO}-${p.name}-link`, p, {
      stackName: `${STUDIO}-${p.name}-link`,
      env: { account: MANAGEMENT, region: REGION },
      terminationProtection: true,
    });
    tag(link, { Studio: STUDIO, Production: p.name, Tier: String(p.tier), CostCentre: `CC-${p.name}`, ResourceGroup: 'network' });
  }
  if (process.env.TSREF_NAG !== '0') {
    const props = { verbose: true, reports: false };
    Aspects.of(app).add(new AwsSolutionsChecks(props));
    Aspects.of(app).add(new NIST80053R5Checks(props));
  }
  const t1 = performance.now();
  app.synth();
  const t2 = performance.now();
  const phases = process.env.TSREF_PHASES;
  if (phases) {
    const ns = (ms: number) => Math.round(ms * 1e6);
    fs.writeFileSync(phases, JSON.stringify({ start: ns(started * 1000), build: ns(t1 - t0), synth: ns(t2 - t1) }));
  }
}

main();
