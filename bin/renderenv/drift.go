package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/renderenv/renderenv/internal/manifest"
	"github.com/renderenv/renderenv/internal/names"
)

// drift is `renderenv drift [--dir DIR] DESCRIBE_STACKS.json...`: it lists
// the deployed stacks tagged with the studio that the manifests no longer
// produce, such as a removed production's stack and its link, whose roles
// and routes stay in force until someone deletes them. Each file is the
// output of `aws cloudformation describe-stacks` in one account and region.
// Pure Go: it reads files, and needs no Node.js and no credentials.
//
// Exit status: 0 when every deployed stack of the studio is one the
// manifests produce, 1 on drift (or invalid manifests), 2 on bad usage or
// an unreadable file.
func drift(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("drift", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	dir := fs.String("dir", "", "the manifest folder (default: the shipped examples)")
	files, code, done := parseFlags(fs, args, stdout, stderr)
	if done {
		return code
	}
	if len(files) == 0 {
		return badUsage(stderr, "drift", "name at least one file of `aws cloudformation describe-stacks` output")
	}
	e, errs := manifest.LoadDir(*dir)
	if len(errs) > 0 {
		for _, err := range errs {
			fmt.Fprintln(stderr, err.Error())
		}
		return 1
	}
	expected := e.StackNames()
	retired := map[string]string{}
	n := names.Names{Studio: e.Studio.Studio}
	for _, r := range e.Studio.Retired {
		retired[n.ProductionStack(r.Name)] = r.Name
		retired[n.LinkStack(n.ProductionStack(r.Name))] = r.Name
	}
	var found []string
	deployed := 0
	for _, f := range files {
		stacks, err := readDescribeStacks(f)
		if err != nil {
			fmt.Fprintf(stderr, "renderenv drift: %v\n", err)
			return 2
		}
		for _, s := range stacks {
			if s.tag("Studio") != e.Studio.Studio || s.StackStatus == "DELETE_COMPLETE" {
				continue
			}
			deployed++
			if expected[s.StackName] {
				continue
			}
			line := fmt.Sprintf("%s: %s (%s) is deployed and tagged Studio=%s, but the manifests no longer produce it: its roles, routes and grants stay in force until it is deleted", f, s.StackName, s.StackStatus, e.Studio.Studio)
			if name, ok := retired[s.StackName]; ok {
				line += fmt.Sprintf(" (retired production %s: empty its storage, then delete its link stack before its stack)", name)
			}
			found = append(found, line)
		}
	}
	slices.Sort(found)
	for _, l := range found {
		fmt.Fprintln(stdout, l)
	}
	if len(found) > 0 {
		fmt.Fprintf(stderr, "renderenv drift: %s of studio %s no longer in the manifests\n", plural(len(found), "deployed stack"), e.Studio.Studio)
		return 1
	}
	fmt.Fprintf(stderr, "renderenv drift: %s of studio %s, each produced by the manifests\n", plural(deployed, "deployed stack"), e.Studio.Studio)
	return 0
}

// deployedStack is a stack as describe-stacks reports it.
type deployedStack struct {
	StackName   string `json:"StackName"`
	StackStatus string `json:"StackStatus"`
	Tags        []struct {
		Key   string `json:"Key"`
		Value string `json:"Value"`
	} `json:"Tags"`
}

func (s deployedStack) tag(key string) string {
	for _, t := range s.Tags {
		if t.Key == key {
			return t.Value
		}
	}
	return ""
}

func readDescribeStacks(path string) ([]deployedStack, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out struct {
		Stacks *[]deployedStack `json:"Stacks"`
	}
	if err := json.Unmarshal(b, &out); err != nil || out.Stacks == nil {
		msg := "no Stacks list"
		if err != nil {
			msg = strings.TrimPrefix(err.Error(), "json: ")
		}
		return nil, fmt.Errorf("%s: not the output of `aws cloudformation describe-stacks` (%s)", path, msg)
	}
	return *out.Stacks, nil
}
