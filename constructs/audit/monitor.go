package audit

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudtrail"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// MonitorProps configures where one trail's events are watched.
type MonitorProps struct {
	// Prefix names the alarms (<Prefix>-<alarm>) and the topic
	// (<Prefix>-security-alarms); unique in the account.
	Prefix  string
	Account string
	Region  string
	// TrailName is the trail that delivers to the log group.
	TrailName string
	// TrailArns are the ARNs that trail may have (an organization trail
	// created by a delegated administrator is owned by the organization's
	// management account); only they may use the delivery role. Default:
	// the trail's ARN in Account.
	TrailArns    []string
	LogGroupName string
	// Key encrypts the log group and the topic. Its policy must let
	// CloudWatch Logs and CloudWatch alarms of the account use it.
	Key         awskms.IKey
	AlertEmails []string
}

// Monitor is a trail's CloudWatch Logs delivery and the security alarms on
// it (ISE 8.1, 9.4): an encrypted log group, the role CloudTrail delivers
// with, the metric filters and alarms, and an encrypted topic they notify.
type Monitor struct {
	LogGroup awslogs.LogGroup
	Role     awsiam.Role
	Topic    awssns.Topic
}

// TrailArn is the ARN of a trail with a fixed name.
func TrailArn(region, account, name string) string {
	return fmt.Sprintf("arn:aws:cloudtrail:%s:%s:trail/%s", region, account, name)
}

// newMonitor adds the monitor's resources directly to c, so that the
// central trail's logical ids stay what they have always been.
func newMonitor(c constructs.Construct, props MonitorProps) *Monitor {
	m := &Monitor{}
	arns := props.TrailArns
	if len(arns) == 0 {
		arns = []string{TrailArn(props.Region, props.Account, props.TrailName)}
	}
	m.LogGroup = awslogs.NewLogGroup(c, jsii.String("TrailLogGroup"), &awslogs.LogGroupProps{
		LogGroupName:  jsii.String(props.LogGroupName),
		EncryptionKey: props.Key,
		Retention:     awslogs.RetentionDays_ONE_YEAR,
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	})
	// Only this trail may deliver through the role: a trail someone else
	// creates in the account cannot write into the studio's log group.
	m.Role = awsiam.NewRole(c, jsii.String("TrailToLogsRole"), &awsiam.RoleProps{
		AssumedBy: awsiam.NewServicePrincipal(jsii.String("cloudtrail.amazonaws.com"), &awsiam.ServicePrincipalOpts{
			Conditions: &map[string]any{"ArnLike": map[string]any{"aws:SourceArn": arns}},
		}),
		Description: jsii.String("CloudTrail delivers the " + props.TrailName + " trail to its log group"),
	})
	m.Role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("logs:CreateLogStream", "logs:PutLogEvents"),
		Resources: &[]*string{m.LogGroup.LogGroupArn()},
	}))

	m.Topic = awssns.NewTopic(c, jsii.String("SecurityAlarms"), &awssns.TopicProps{
		TopicName:   jsii.String(props.Prefix + "-security-alarms"),
		MasterKey:   props.Key,
		EnforceSSL:  jsii.Bool(true),
		DisplayName: jsii.String(props.Prefix + " security alarms"),
	})
	// EnforceSSL gives the topic a resource policy, which replaces SNS's
	// default one: without this statement no alarm could publish.
	m.Topic.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("CloudWatchAlarmsPublish"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("cloudwatch.amazonaws.com"), nil)},
		Actions:    jsii.Strings("sns:Publish"),
		Resources:  &[]*string{m.Topic.TopicArn()},
		Conditions: &map[string]any{
			"StringEquals": map[string]any{"aws:SourceAccount": props.Account},
			"ArnLike":      map[string]any{"aws:SourceArn": fmt.Sprintf("arn:aws:cloudwatch:%s:%s:alarm:%s-*", props.Region, props.Account, props.Prefix)},
		},
	}))
	for _, e := range props.AlertEmails {
		m.Topic.AddSubscription(awssnssubscriptions.NewEmailSubscription(jsii.String(e), nil))
	}
	namespace := props.Prefix + "/Security"
	for _, al := range Alarms {
		f := awslogs.NewMetricFilter(c, jsii.String(al.Name+"Filter"), &awslogs.MetricFilterProps{
			LogGroup:        m.LogGroup,
			FilterPattern:   awslogs.FilterPattern_Literal(jsii.String(al.Pattern)),
			MetricNamespace: jsii.String(namespace),
			MetricName:      jsii.String(al.Name),
			MetricValue:     jsii.String("1"),
		})
		alarm := awscloudwatch.NewAlarm(c, jsii.String(al.Name+"Alarm"), &awscloudwatch.AlarmProps{
			AlarmName:          jsii.String(props.Prefix + "-" + al.Name),
			Metric:             f.Metric(&awscloudwatch.MetricOptions{Statistic: jsii.String("Sum"), Period: awscdk.Duration_Minutes(jsii.Number(5))}),
			Threshold:          jsii.Number(1),
			EvaluationPeriods:  jsii.Number(1),
			ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
			TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
		})
		alarm.AddAlarmAction(awscloudwatchactions.NewSnsAction(m.Topic))
	}
	return m
}

// AccountTrailProps is the trail of one account outside an organization.
type AccountTrailProps struct {
	MonitorProps
	// Bucket and KeyArn are the central trail bucket and logging key, in
	// the log-archive account.
	Bucket, KeyArn string
	DataEvents     DataEvents
}

// AccountTrail is an account's own trail: delivered to the central bucket,
// where the account's administrators cannot erase it, and to a log group in
// the account with the same security alarms as the central trail.
type AccountTrail struct {
	constructs.Construct
	Monitor *Monitor
	Trail   awscloudtrail.CfnTrail
}

// NewAccountTrail creates an account's trail and its monitor.
func NewAccountTrail(scope constructs.Construct, id string, props AccountTrailProps) *AccountTrail {
	c := constructs.NewConstruct(scope, jsii.String(id))
	m := newMonitor(c, props.MonitorProps)
	t := &AccountTrail{Construct: c, Monitor: m}
	t.Trail = NewTrail(c, "Trail", TrailProps{
		Name:        props.TrailName,
		Bucket:      jsii.String(props.Bucket),
		KeyArn:      jsii.String(props.KeyArn),
		DataEvents:  props.DataEvents,
		LogGroupArn: m.LogGroup.LogGroupArn(),
		LogsRoleArn: m.Role.RoleArn(),
	})
	t.Trail.Node().AddDependency(m.Role)
	return t
}
