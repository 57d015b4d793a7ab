package estate_test

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/renderenv/renderenv/internal/estate"
)

// pipelineAction is one action of the synthesized pipeline.
type pipelineAction struct {
	Stage, Name, Category string
	RunOrder              float64
	Configuration         map[string]any
}

// pipelineTemplate is the acme pipeline stack's template, decoded.
func pipelineTemplate(t *testing.T) map[string]map[string]any {
	t.Helper()
	pipelineEstate(t)
	var tpl struct {
		Resources map[string]map[string]any
	}
	if err := json.Unmarshal(withPipeline.template, &tpl); err != nil {
		t.Fatal(err)
	}
	return tpl.Resources
}

func ofType(resources map[string]map[string]any, typ string) map[string]map[string]any {
	out := map[string]map[string]any{}
	for id, r := range resources {
		if r["Type"] == typ {
			out[id] = r["Properties"].(map[string]any)
		}
	}
	return out
}

// pipelineStages are the stage names in order and their actions.
func pipelineStages(t *testing.T) ([]string, map[string][]pipelineAction) {
	t.Helper()
	var order []string
	stages := map[string][]pipelineAction{}
	for _, p := range ofType(pipelineTemplate(t), "AWS::CodePipeline::Pipeline") {
		for _, s := range p["Stages"].([]any) {
			stage := s.(map[string]any)
			name := stage["Name"].(string)
			order = append(order, name)
			for _, a := range stage["Actions"].([]any) {
				action := a.(map[string]any)
				conf, _ := action["Configuration"].(map[string]any)
				stages[name] = append(stages[name], pipelineAction{
					Stage: name, Name: action["Name"].(string),
					Category: action["ActionTypeId"].(map[string]any)["Category"].(string),
					RunOrder: action["RunOrder"].(float64), Configuration: conf,
				})
			}
		}
	}
	return order, stages
}

// find is the action of stage whose name ends with suffix.
func find(actions []pipelineAction, suffix string) (pipelineAction, bool) {
	for _, a := range actions {
		if strings.HasSuffix(a.Name, suffix) {
			return a, true
		}
	}
	return pipelineAction{}, false
}

func asJSON(v any) string {
	data, _ := json.Marshal(v)
	return string(data)
}

func TestPipelineInstallsExactlyTheLockFilesToolVersions(t *testing.T) {
	tools, err := estate.ReadTools("../..")
	if err != nil {
		t.Fatal(err)
	}
	install := regexp.MustCompile(`npm install -g ([a-z-]+)@([^\s"\\]+)`)
	want := map[string]string{"aws-cdk": tools.CLI, "cdk-assets": tools.Assets}
	seen := map[string]int{}
	for id, p := range ofType(pipelineTemplate(t), "AWS::CodeBuild::Project") {
		spec := asJSON(p["Source"])
		for _, m := range install.FindAllStringSubmatch(spec, -1) {
			seen[m[1]]++
			if want[m[1]] != m[2] {
				t.Errorf("%s installs %s@%s; package-lock.json pins %q", id, m[1], m[2], want[m[1]])
			}
		}
		if strings.Contains(spec, "npm install") && !install.MatchString(spec) || strings.Contains(spec, "npx -y") {
			t.Errorf("%s installs a tool without an exact version: %s", id, spec)
		}
		if img := asJSON(p["Environment"].(map[string]any)["Image"]); img != `"aws/codebuild/standard:7.0"` {
			t.Errorf("%s runs on %s, not the documented image", id, img)
		}
	}
	// Self-mutation and the pipeline diff install the CLI; each asset
	// project installs cdk-assets.
	if seen["aws-cdk"] < 2 || seen["cdk-assets"] < 1 {
		t.Errorf("installs seen %v: want the CLI in SelfMutate and PipelineDiff, cdk-assets in every asset project", seen)
	}
}

func TestSelfMutationWaitsForAnApprovedDiffOfThePipeline(t *testing.T) {
	order, stages := pipelineStages(t)
	review, update := -1, -1
	for i, n := range order {
		switch n {
		case "ReviewPipeline":
			review = i
		case "UpdatePipeline":
			update = i
		}
	}
	if review < 0 || review+1 != update {
		t.Fatalf("stage order %v: want ReviewPipeline right before UpdatePipeline", order)
	}
	diff, _ := find(stages["ReviewPipeline"], "PipelineDiff")
	approve, _ := find(stages["ReviewPipeline"], "Approve-pipeline")
	check, _ := find(stages["ReviewPipeline"], "CheckPipelineApprover")
	if diff.Category != "Build" || approve.Category != "Approval" || check.Category != "Build" ||
		!(diff.RunOrder < approve.RunOrder && approve.RunOrder < check.RunOrder) {
		t.Errorf("ReviewPipeline must run the diff, then the approval, then the approver check: %+v", stages["ReviewPipeline"])
	}
	var found bool
	for _, p := range ofType(pipelineTemplate(t), "AWS::CodeBuild::Project") {
		if strings.Contains(asJSON(p["Source"]), "cdk -a . diff --no-change-set acme-pipeline") {
			found = true
		}
	}
	if !found {
		t.Error("no project prints the diff of the acme-pipeline stack")
	}
}

// changeSetOrder checks that every stack of stage deploys by a change set
// and, when approved, that its approval and approver check come between
// the preparation and the execution.
func changeSetOrder(t *testing.T, stage string, actions []pipelineAction, approved bool) {
	t.Helper()
	stacks := 0
	for _, prepare := range actions {
		stack, ok := strings.CutSuffix(prepare.Name, ".Prepare")
		if !ok {
			continue
		}
		stacks++
		name := stack[strings.LastIndex(stack, ".")+1:]
		execute, ok := find(actions, stack+".Deploy")
		if !ok || prepare.Configuration["ActionMode"] != "CHANGE_SET_REPLACE" || execute.Configuration["ActionMode"] != "CHANGE_SET_EXECUTE" {
			t.Errorf("%s: %s does not deploy through a change set", stage, name)
			continue
		}
		approve, hasApproval := find(actions, "Approve-"+name)
		check, hasCheck := find(actions, "CheckApprover-"+name)
		switch {
		case !approved && hasApproval:
			t.Errorf("%s: %s waits for an approval", stage, name)
		case approved && (!hasApproval || !hasCheck):
			t.Errorf("%s: %s has no approval and approver check", stage, name)
		case approved && !(prepare.RunOrder < approve.RunOrder && approve.RunOrder < check.RunOrder && check.RunOrder < execute.RunOrder):
			t.Errorf("%s: %s runs prepare %v, approval %v, check %v, execute %v: want them in that order", stage, name, prepare.RunOrder, approve.RunOrder, check.RunOrder, execute.RunOrder)
		}
	}
	if stacks == 0 {
		t.Errorf("%s prepares no change set", stage)
	}
}

func TestSharedStacksAndTier1DeployChangeSetsApprovedBeforeExecution(t *testing.T) {
	_, stages := pipelineStages(t)
	changeSetOrder(t, "shared", stages["shared"], true)
	changeSetOrder(t, "nightfall", stages["nightfall"], true)
	changeSetOrder(t, "harbour", stages["harbour"], false)
	changeSetOrder(t, "tier-3-1", stages["tier-3-1"], false)
}

func TestEveryDeployStageConfirmsPermissionsBroadening(t *testing.T) {
	order, stages := pipelineStages(t)
	checked := 0
	for _, name := range order {
		// A production's actions in a wave of several are prefixed with
		// its stage's name.
		groups := map[string]float64{}
		for _, a := range stages[name] {
			if a.Category != "Deploy" {
				continue
			}
			group := name
			if parts := strings.Split(a.Name, "."); len(parts) == 3 {
				group = parts[0]
			}
			if first, ok := groups[group]; !ok || a.RunOrder < first {
				groups[group] = a.RunOrder
			}
		}
		for group, first := range groups {
			checked++
			check, hasCheck := find(stages[name], "Broadening-"+group+".Check")
			confirm, hasConfirm := find(stages[name], "Broadening-"+group+".Confirm")
			if !hasCheck || !hasConfirm || confirm.Category != "Approval" || !(check.RunOrder < confirm.RunOrder && confirm.RunOrder < first) {
				t.Errorf("stage %s (%s) does not confirm broadened permissions before it deploys: %v", name, group, stages[name])
			}
		}
	}
	// shared, nightfall, harbour, brightside and lighthouse.
	if checked != 5 {
		t.Errorf("checked %d deploying stages, want 5", checked)
	}
}

func TestApprovalsNotifyAndOnlyNamedApproversCount(t *testing.T) {
	resources := pipelineTemplate(t)
	_, stages := pipelineStages(t)
	topics := ofType(resources, "AWS::SNS::Topic")
	var topicID string
	for id, p := range topics {
		if p["TopicName"] == "acme-pipeline-approvals" {
			topicID = id
			if asJSON(p["KmsMasterKeyId"]) != `{"Fn::GetAtt":["PipelineArtifactsBucketEncryptionKeyF5BF0670","Arn"]}` {
				t.Errorf("the approval topic is not encrypted with the artifact key: %v", p["KmsMasterKeyId"])
			}
		}
	}
	if topicID == "" {
		t.Fatal("no acme-pipeline-approvals topic")
	}
	var subscribed bool
	for _, p := range ofType(resources, "AWS::SNS::Subscription") {
		subscribed = subscribed || asJSON(p["TopicArn"]) == fmt.Sprintf(`{"Ref":%q}`, topicID) && p["Protocol"] == "email"
	}
	if !subscribed {
		t.Error("nobody of alerts.emails is subscribed to the approval topic")
	}
	projects := ofType(resources, "AWS::CodeBuild::Project")
	approvals := 0
	for stage, actions := range stages {
		for _, a := range actions {
			if a.Category != "Approval" {
				continue
			}
			approvals++
			notifies := asJSON(a.Configuration["NotificationArn"]) == fmt.Sprintf(`{"Ref":%q}`, topicID)
			if group, ok := strings.CutSuffix(a.Name, ".Confirm"); ok {
				// The broadening check publishes when it waits for one.
				check, _ := find(actions, group+".Check")
				notifies = strings.Contains(asJSON(check.Configuration["EnvironmentVariables"]), fmt.Sprintf(`NOTIFICATION_ARN\",\"type\":\"PLAINTEXT\",\"value\":\"",{"Ref":%q}`, topicID))
			}
			if !notifies {
				t.Errorf("%s/%s does not notify the approval topic", stage, a.Name)
			}
			name, ok := strings.CutPrefix(a.Name[strings.LastIndex(a.Name, ".")+1:], "Approve-")
			check := "CheckApprover-" + name
			switch {
			case name == "pipeline":
				check = "CheckPipelineApprover"
			case !ok && (stage == "shared" || stage == "nightfall"):
				continue // a broadening confirmation before approved change sets
			case !ok:
				check = "CheckApprover-" + strings.TrimSuffix(a.Name[strings.Index(a.Name, "Broadening-"):], ".Confirm")
			}
			c, found := find(actions, check)
			if !found || c.RunOrder <= a.RunOrder {
				t.Errorf("%s/%s is not followed by %s", stage, a.Name, check)
				continue
			}
			project := projects[c.Configuration["ProjectName"].(map[string]any)["Ref"].(string)]
			spec := asJSON(project["Source"])
			want := []string{"ends_with(actionName, '" + a.Name[strings.LastIndex(a.Name, ".Approve-")+1:] + "')", "assumed-role/AWSReservedSSO_acme-PipelineApprovers_????????????????/*"}
			if !ok {
				// CDK Pipelines' function confirms when nothing widens.
				want = []string{"ends_with(actionName, '" + a.Name[strings.Index(a.Name, "Broadening-"):] + "')", want[1], "assumed-role/$AUTO_CONFIRMER/*"}
				env := asJSON(project["Environment"])
				if !strings.Contains(env, `{"Name":"AUTO_CONFIRMER","Type":"PLAINTEXT","Value":{"Ref":"PipelinePipelinesSecurityCheckCDKPipelinesAutoApproveServiceRole`) {
					t.Errorf("%s does not know the broadening function's role: %s", check, env)
				}
			}
			for _, w := range want {
				if !strings.Contains(spec, w) {
					t.Errorf("%s checks the wrong approval or approvers: %s lacks %s", check, spec, w)
				}
			}
		}
	}
	if approvals < 8 {
		t.Errorf("only %d approvals", approvals)
	}
}

func TestArtifactBucketIsWritableOnlyByThePipelineRoles(t *testing.T) {
	resources := pipelineTemplate(t)
	for _, b := range ofType(resources, "AWS::S3::Bucket") {
		if asJSON(b["VersioningConfiguration"]) != `{"Status":"Enabled"}` {
			t.Errorf("the artifact bucket is not versioned")
		}
	}
	var denied bool
	for _, p := range ofType(resources, "AWS::S3::BucketPolicy") {
		for _, s := range p["PolicyDocument"].(map[string]any)["Statement"].([]any) {
			st := asJSON(s)
			denied = denied || strings.Contains(st, `"Effect":"Deny"`) && strings.Contains(st, `"s3:PutObject"`) &&
				strings.Contains(st, `"ArnNotLike":{"aws:PrincipalArn":"arn:aws:iam::111111111111:role/acme-pipeline-*"}`)
		}
	}
	if !denied {
		t.Error("the artifact bucket policy does not refuse writes from roles outside the pipeline stack")
	}
	for _, k := range ofType(resources, "AWS::KMS::Key") {
		if !strings.Contains(asJSON(k["KeyPolicy"]), "arn:aws:iam::111111111111:role/acme-pipeline-*") {
			t.Error("the artifact key's policy does not name the pipeline roles")
		}
	}
}

func TestNoPipelineRoleStartsBuildsOrApprovesEverywhere(t *testing.T) {
	for id, p := range ofType(pipelineTemplate(t), "AWS::IAM::Policy") {
		for _, s := range p["PolicyDocument"].(map[string]any)["Statement"].([]any) {
			st := s.(map[string]any)
			actions := asJSON(st["Action"])
			if (strings.Contains(actions, "codebuild:StartBuild") || strings.Contains(actions, "codepipeline:PutApprovalResult")) && asJSON(st["Resource"]) == `"*"` {
				t.Errorf("%s allows %s on every resource", id, actions)
			}
		}
	}
}

func TestEveryPipelineStageFitsCodePipelinesActionLimit(t *testing.T) {
	_, stages := pipelineStages(t)
	for name, actions := range stages {
		if len(actions) > 50 {
			t.Errorf("stage %s has %d actions; CodePipeline allows 50", name, len(actions))
		}
	}
	// The wave sizes leave room for their productions' actions: Tier 1
	// runs 10 per production (broadening 2, two stacks of prepare,
	// approval, check and execute), the others 7 (broadening 2 and its
	// check, two stacks of prepare and execute).
	if estate.Tier1WaveSize*10 > 50 || estate.WaveSize*7 > 50 {
		t.Errorf("wave sizes %d and %d overflow a stage", estate.Tier1WaveSize, estate.WaveSize)
	}
}

// Before the shared stacks deploy, a build reads every account's deployed
// stacks through its read-only CDK lookup role and fails on a stack of the
// studio the manifests no longer produce (renderenv drift); it may assume
// those lookup roles and nothing else.
func TestDriftCheckRunsBeforeTheSharedStacksDeploy(t *testing.T) {
	_, stages := pipelineStages(t)
	drift, ok := find(stages["shared"], "Drift")
	if !ok {
		t.Fatal("the shared stage has no Drift action")
	}
	for _, a := range stages["shared"] {
		if a.Category == "Deploy" && a.RunOrder <= drift.RunOrder {
			t.Errorf("%s deploys before the drift check", a.Name)
		}
	}
	accounts := []string{"111111111111", "222222222222", "333333333333", "444444444444", "555555555555"}
	var spec string
	for _, p := range ofType(pipelineTemplate(t), "AWS::CodeBuild::Project") {
		if s := asJSON(p["Source"]); strings.Contains(s, "renderenv drift") {
			spec = s
		}
	}
	for _, acct := range accounts {
		if role := fmt.Sprintf("arn:aws:iam::%s:role/cdk-acme-lookup-role-%s-us-west-2", acct, acct); !strings.Contains(spec, role) {
			t.Errorf("the drift build does not read account %s", acct)
		}
	}
	if !strings.Contains(spec, "go run ./bin/renderenv drift --dir productions drift/111111111111-us-west-2.json") {
		t.Errorf("the drift build does not run renderenv drift over what it read: %s", spec)
	}
	var assumes []string
	for _, p := range ofType(pipelineTemplate(t), "AWS::IAM::Policy") {
		doc := p["PolicyDocument"].(map[string]any)
		for _, s := range doc["Statement"].([]any) {
			st := s.(map[string]any)
			if st["Action"] == "sts:AssumeRole" && strings.Contains(asJSON(st["Resource"]), "lookup-role") {
				assumes = append(assumes, asJSON(st["Resource"]))
				if strings.Contains(asJSON(st["Resource"]), "*") {
					t.Errorf("the drift role may assume %s", asJSON(st["Resource"]))
				}
			}
		}
	}
	if len(assumes) == 0 {
		t.Error("no policy lets the drift build assume the lookup roles")
	}
}
