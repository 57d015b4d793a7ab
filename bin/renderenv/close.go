package main

import (
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/renderenv/renderenv/internal/manifest"
	"github.com/renderenv/renderenv/internal/names"
)

// closeProduction is `renderenv close NAME [--dir DIR]`: it prints the
// reviewed, ordered steps that close a production, each with the ISE
// controls it serves and the exact commands, named from internal/names.
// It runs none of them and deletes nothing: closing destroys data, so a
// person reviews and runs each step.
//
// Exit status: 0 with the steps, 1 when the manifests are invalid or name
// no such production, 2 on bad usage.
func closeProduction(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("close", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	dir := fs.String("dir", "", "the manifest folder (default: the shipped examples)")
	pos, code, done := parseFlags(fs, args, stdout, stderr)
	if done {
		return code
	}
	if len(pos) != 1 {
		return badUsage(stderr, "close", "name one production")
	}
	e, errs := manifest.LoadDir(*dir)
	if len(errs) > 0 {
		for _, err := range errs {
			fmt.Fprintln(stderr, err.Error())
		}
		return 1
	}
	var pf *manifest.ProductionFile
	for i := range e.Productions {
		if e.Productions[i].Name == pos[0] {
			pf = &e.Productions[i]
		}
	}
	if pf == nil {
		fmt.Fprintf(stderr, "renderenv close: %s has no production %q\n", folderName(*dir), pos[0])
		return 1
	}
	for _, s := range closeSteps(e, pf, *dir, manifest.Today()) {
		fmt.Fprintln(stdout, s)
	}
	return 0
}

// folderName is how the commands name the manifest folder.
func folderName(dir string) string {
	if dir == "" {
		return "productions"
	}
	return dir
}

// closeSteps are the steps, as printed paragraphs.
func closeSteps(e *manifest.Estate, pf *manifest.ProductionFile, dir string, today time.Time) []string {
	s := &e.Studio
	r := manifest.Resolve(s, pf.Production)
	n := names.Names{Studio: s.Studio, Region: s.Region, LogArchive: s.LogArchive()}
	stack := n.ProductionStack(r.Name)
	bucket := n.AssetBucket(r.Name, r.Account, r.Region)
	ctx := "-c only=" + r.Name
	if dir != "" {
		ctx = "-c manifests=" + dir + " " + ctx
	}
	file := pf.Source.Name
	keyAdmin := names.Role(stack, names.KeyAdmin)
	dataOp := names.Role(stack, names.DataOperator)
	alias := func(purpose string) string { return "alias/" + n.KeyAlias(r.Name, purpose) }
	keyID := func(purpose string) string {
		return fmt.Sprintf("$(aws kms describe-key --key-id %s --query KeyMetadata.KeyId --output text)", alias(purpose))
	}
	var out []string
	step := 0
	add := func(controls, title string, body ...string) {
		step++
		out = append(out, fmt.Sprintf("%d. %s (ISE %s)\n%s\n", step, title, controls, indent(body)))
	}
	out = append(out, fmt.Sprintf("Closing %s: tier %d, account %s, %s; status %s, %s to %s.\n"+
		"Review and run each step in order; renderenv runs none of them and deletes nothing.\n",
		r.Name, r.Tier, r.Account, r.Region, r.State(), r.StartDate, r.EndDate))

	first := "Remove the compute: set status: closing in " + file + ", then review and deploy"
	if r.Closing() {
		first = "Remove the compute: " + file + " already says status: " + r.State() + "; check the deployed stack is the reviewed one"
	}
	add("6.2, 10.9, 1.6", first,
		"npx cdk diff "+ctx+" "+stack,
		"npx cdk deploy "+ctx+" "+stack,
		"The launch templates, their instance profiles and the launcher role "+names.Role(stack, names.Launcher)+" go, so the",
		"scheduler can no longer start "+r.Name+"'s nodes; the asset bucket refuses every new object (ClosingNoNewWrites).",
		"Buckets, keys and log groups stay. Check nothing still runs (terminate what does; its volumes go with it):",
		"aws ec2 describe-instances --region "+r.Region+" --filters Name=tag:Production,Values="+r.Name+" Name=instance-state-name,Values=pending,running,stopping,stopped --query 'Reservations[].Instances[].InstanceId'")
	add("10.9, 5.1, 9.2", "Hand over the assets, as "+dataOp+" from the studio's ranges (reads still work)",
		"aws s3 sync s3://"+bucket+" <DESTINATION> --region "+r.Region,
		"Record where the content went and who received it.")
	versions := "The bucket is versioned: earlier versions stay, unreadable once the content-asset key is deleted (step 5)."
	if r.PooledAssetKey {
		versions = "The bucket is versioned: earlier versions stay; the retained bucket and its versions are deleted once the stacks are destroyed, as the studio's data policy says."
	}
	add("10.9", "Empty the asset bucket, as "+dataOp,
		"aws s3 rm s3://"+bucket+" --recursive --region "+r.Region, versions)
	if r.PooledAssetKey {
		add("10.9, 9.1", "Leave the content-asset key enabled: it is the pool's",
			"alias/"+n.KeyAlias(names.PoolPrefix+r.Account, "content-asset")+" also encrypts the other pooled productions of "+r.Account+";",
			"the emptied bucket (step 3) is the sanitisation.")
	} else {
		add("10.9, 9.2", "Disable the content-asset key, as "+keyAdmin,
			"aws kms disable-key --region "+r.Region+" --key-id "+keyID("content-asset"),
			"Nothing can decrypt "+r.Name+"'s content from here on; aws kms enable-key undoes it while the key exists.")
	}
	var deletable []string
	for _, k := range []struct {
		purpose string
		pooled  bool
	}{{"content-asset", r.PooledAssetKey}, {"root-volume", r.PooledRootKey}} {
		if !k.pooled {
			deletable = append(deletable, k.purpose)
		}
	}
	if len(deletable) > 0 {
		body := []string{}
		for _, p := range deletable {
			body = append(body, "aws kms schedule-key-deletion --region "+r.Region+" --pending-window-in-days 30 --key-id "+keyID(p))
		}
		body = append(body,
			"Do this before step 6: the aliases and "+keyAdmin+" are deleted with the stack, and the keys",
			"(retained) then have no administrator. aws kms cancel-key-deletion undoes it within the 30 days.")
		if r.Ingest != nil {
			dr := r.Ingest.DrRegion
			body = append(body, fmt.Sprintf("aws kms schedule-key-deletion --region %s --pending-window-in-days 30 --key-id $(aws kms describe-key --region %s --key-id %s --query KeyMetadata.KeyId --output text)",
				dr, dr, alias(names.ReplicaKey)),
				"The replica key leaves the disaster-recovery copy in "+dr+" unreadable once deleted.")
		}
		if !r.PooledLoggingKey {
			body = append(body, alias("logging")+" stays: it encrypts the retained log groups (a year of flow, DNS,",
				"render and session logs); schedule its deletion the same way, before step 6, only once the studio no longer needs them.")
		}
		add("9.1, 9.3, 10.9", "Schedule the deletion of "+r.Name+"'s own keys after the 30-day waiting period, as "+keyAdmin, body...)
	}
	destroy := []string{}
	if len(r.Vendors) > 0 {
		destroy = append(destroy, "npx cdk destroy "+ctx+" "+n.ExchangeStack(r.Name))
	}
	if !r.PooledVpc {
		destroy = append(destroy, "npx cdk destroy "+ctx+" "+n.LinkStack(stack))
	}
	destroy = append(destroy, "npx cdk destroy "+ctx+" "+stack)
	if r.Ingest != nil {
		destroy = append(destroy, "npx cdk destroy "+ctx+" "+n.DrStack(r.Name))
	}
	if len(r.Vendors) > 0 {
		destroy = append(destroy, "The exchange stack first: its vendor roles go; its bucket and key, retained in the exchange account,",
			"hold nothing after 30 days (hand-overs expire); schedule that key's deletion there then.")
	}
	if r.PooledVpc {
		destroy = append(destroy, r.Name+" runs in the pool's VPC: the pool's link stack stays for the other productions.")
	} else {
		destroy = append(destroy, "The link stack first: it routes "+r.Name+"'s VPC through the Transit Gateway.")
	}
	if r.Ingest != nil {
		destroy = append(destroy, "The DR stack last: the production's bucket replicates into it until the production stack goes.")
	}
	destroy = append(destroy, "Its roles and network go; buckets, keys and log groups are retained by design.")
	add("6.2, 9.3, 2.2", "Destroy the production's stacks", destroy...)
	entry := []string{"retired:", "  - name: " + r.Name, "    account: \"" + r.Account + "\""}
	if !r.PooledVpc {
		// A pooled production held no range of its own: the pool's stays
		// in use.
		entry = append(entry, "    vpcCidr: "+r.VpcCidr.String())
	}
	entry = append(entry, "    closed: "+today.Format(time.DateOnly), strings.TrimSpace("go run ./bin/renderenv validate "+dir))
	add("1.6, 6.2", "Retire the manifest: set status: closed in "+file+", move it out of "+folderName(dir)+", and add to studio.yaml", entry...)
	add("6.2, 1.6", "Check nothing of "+r.Name+" is still deployed, in its account and the management account",
		"aws cloudformation describe-stacks --region "+r.Region+" --profile "+r.Name+" > "+r.Name+".json",
		"aws cloudformation describe-stacks --region "+s.Region+" --profile management > management.json",
		strings.TrimSpace("go run ./bin/renderenv drift "+dirFlag(dir)+" "+r.Name+".json management.json"))
	return out
}

func dirFlag(dir string) string {
	if dir == "" {
		return ""
	}
	return "--dir " + dir
}

func indent(lines []string) string {
	for i, l := range lines {
		lines[i] = "   " + l
	}
	return strings.Join(lines, "\n")
}
