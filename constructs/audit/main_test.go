package audit_test

import (
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"

	"github.com/renderenv/renderenv/constructs/audit"
	"github.com/renderenv/renderenv/constructs/keys"
	"github.com/renderenv/renderenv/internal/cdktest"
)

func TestMain(m *testing.M) { cdktest.Main(m) }

const (
	logArchive = "222222222222"
	production = "333333333333"
	region     = "us-west-2"
	orgID      = "o-a1b2c3d4e5"
	orgOwner   = "111111111111"
	trailName  = "acme-audit"
	trailArn   = "arn:aws:cloudtrail:us-west-2:222222222222:trail/acme-audit"
)

var (
	emails     = []string{"soc@example.com", "oncall@example.com"}
	dataEvents = audit.DataEvents{
		StartsWith:    []string{"arn:aws:s3:::acme-"},
		NotStartsWith: []string{"arn:aws:s3:::acme-audit-", "arn:aws:s3:::acme-s3logs-"},
	}
)

func props(org bool) audit.CentralProps {
	p := audit.CentralProps{
		Studio:              "acme",
		Account:             logArchive,
		Region:              region,
		KeyAlias:            "acme/audit",
		BucketName:          "acme-audit-222222222222",
		AccessLogBucketName: "acme-audit-s3logs-222222222222",
		TrailName:           trailName,
		KeyAdmins:           []string{keys.DeploymentRole(keys.DefaultQualifier, logArchive, region)},
		RetentionDays:       400,
	}
	if org {
		p.OrganizationID = orgID
		p.OrganizationOwner = orgOwner
		p.DataEvents = dataEvents
		p.AlertEmails = emails
	} else {
		p.TrailAccounts = []string{production}
	}
	return p
}

// fixture: one App with an organization trail (with data events and alert
// emails) and a trail for an estate outside an organization (with neither).
type fixture struct {
	Org, Plain assertions.Template
}

var shared cdktest.Once[*fixture]

func templates(t *testing.T) *fixture {
	t.Helper()
	return shared.Get(t, func() *fixture {
		env := cdktest.Env{Account: logArchive, Region: region}
		app := cdktest.NewApp(t, env)
		org := cdktest.AddStack(t, app, "Org", env)
		audit.NewCentral(org, "Audit", props(true))
		plain := cdktest.AddStack(t, app, "Plain", env)
		audit.NewCentral(plain, "Audit", props(false))
		return &fixture{Org: cdktest.Template(t, org), Plain: cdktest.Template(t, plain)}
	})
}
