// Command renderenv checks manifests and reports on the estate. It needs no
// AWS credentials.
//
//	renderenv validate [DIR]      pure Go: no Node.js needed
//	renderenv controls [flags]    the ISE evidence pack; synthesizes through
//	                              jsii, so it needs Node.js
//	renderenv check [flags] [DIR] every security rule over a cloud assembly
//	                              (default cdk.out); pure Go
//	renderenv drift [flags] FILE  deployed stacks the manifests no longer
//	                              produce; pure Go
//	renderenv plan --base OLD     what a change does to each stack; pure Go
//	renderenv cost [flags]        the fixed monthly cost; pure Go
//	renderenv bootstrap [flags] [DIR]
//	                              the CDK bootstrap of every account of the
//	                              estate: printed, or run with --apply
//	renderenv close NAME          the steps that close a production; pure Go
//	renderenv status              every production's life-cycle state; pure Go
//
// Exit status: 0 on success, 1 when any manifest is invalid (or synthesis
// fails, or check finds a rule broken), 2 on bad usage.
package main

import (
	"fmt"
	"io"
	"os"
)

const usage = `usage:
  renderenv validate [DIR]   check a manifest folder (default: the shipped examples)
  renderenv controls [--dir DIR] [--production NAME] [--format md|json] [--out DIR]
                             report every ISE control (1.1 to 10.11) per production,
                             derived from the templates; synthesizes in-process, so it
                             needs Node.js (no AWS credentials)
  renderenv check [--format text|json] [--rules] [ASSEMBLY_DIR]
                             run every security rule over a synthesized cloud assembly
                             (default: cdk.out); prints stack/LogicalId: RULE-ID: message
                             and exits 1 on a finding; --rules lists the rules
  renderenv new NAME --tier N --account ID --cost-centre CC [--region R] [--size /20]
                [--owner EMAIL] [--ami AMI] [--dir DIR]
                             write DIR/NAME.yaml (default productions/): the first free
                             range, the studio's defaults, a commented manifest that
                             validates with the folder; nothing is written otherwise
  renderenv diagram [--dir DIR] [--assembly cdk.out] [--production NAME]
                    [--format svg|png|dot] [--out FILE]
                             draw the estate, or one production, from the synthesized
                             templates: subnet tiers, endpoints, keys, ports, and the
                             Transit Gateway's route tables as who reaches whom
  renderenv drift [--dir DIR] DESCRIBE_STACKS.json...
                             list the deployed stacks tagged with the studio that the
                             manifests no longer produce (each file: the output of
                             aws cloudformation describe-stacks in one account and region);
                             exits 1 when there is one
  renderenv plan --base OLD_DIR [--assembly NEW_DIR] [--production NAME] [--color auto|always|never]
                             what deploying NEW_DIR (default: cdk.out) does to each stack of
                             OLD_DIR: resources added, changed, replaced, removed, and the
                             monthly cost; exits 2 when a bucket, key, VPC, log group or
                             trail is replaced or removed, 1 on unreadable input
  renderenv cost [--assembly DIR] [--production NAME]
                             the fixed monthly cost of the stacks at list prices, per stack
                             and in total, naming the costs that depend on use
  renderenv bootstrap [--apply] [--template FILE] [DIR]
                             write renderenv's CDK bootstrap template (default
                             cdk.out/bootstrap-template.json) and print, or with --apply
                             run, the cdk bootstrap of every account and region of the
                             estate; refuses until studio.yaml names its deployers
  renderenv close NAME [--dir DIR]
                             print the reviewed steps that close a production, with the
                             ISE controls they serve; runs and deletes nothing
  renderenv status [--dir DIR] [--assembly DIR]
                             one line per production: tier, account, dates, monthly
                             fixed cost (with an assembly), life-cycle
                             state; warns when an ended production is still active
`

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "validate":
		return validate(args[1:], stdout, stderr)
	case "controls":
		return controls(args[1:], stdout, stderr)
	case "check":
		return check(args[1:], stdout, stderr)
	case "drift":
		return drift(args[1:], stdout, stderr)
	case "new":
		return newProduction(args[1:], stdout, stderr)
	case "diagram":
		return diagramCommand(args[1:], stdout, stderr)
	case "plan":
		return planCommand(args[1:], stdout, stderr)
	case "cost":
		return costCommand(args[1:], stdout, stderr)
	case "bootstrap":
		return bootstrapCmd(args[1:], stdout, stderr)
	case "close":
		return closeProduction(args[1:], stdout, stderr)
	case "status":
		return status(args[1:], stdout, stderr)
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "renderenv: unknown command %q\n%s", args[0], usage)
		return 2
	}
}
