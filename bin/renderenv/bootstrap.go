package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/renderenv/renderenv/internal/bootstrap"
	"github.com/renderenv/renderenv/internal/manifest"
)

// runCommand runs one command of `renderenv bootstrap --apply`; the tests
// replace it.
var runCommand = func(argv []string, stdout, stderr io.Writer) error {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, stdout, stderr
	return cmd.Run()
}

// bootstrapCmd is `renderenv bootstrap [--apply] [--template FILE] [DIR]`:
// it writes renderenv's bootstrap template (internal/bootstrap) for the
// estate of DIR (default: the embedded productions) and prints, or with
// --apply runs, the `cdk bootstrap` of every account and region of the
// estate with it. It refuses an estate whose studio.yaml names no
// deployers: the bootstrap roles would trust nobody, or, with the CDK's
// defaults, a whole account.
//
// Exit status: 0 on success, 1 when the manifests are invalid, name no
// deployers, or a command fails, 2 on bad usage.
func bootstrapCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bootstrap", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	apply := fs.Bool("apply", false, "run the commands instead of printing them")
	tpl := fs.String("template", filepath.Join("cdk.out", bootstrap.TemplateFile), "where to write the bootstrap template")
	dirs, code, done := parseFlags(fs, args, stdout, stderr)
	if done {
		return code
	}
	if len(dirs) > 1 {
		return badUsage(stderr, "bootstrap", "one folder at most")
	}
	dir := ""
	if len(dirs) == 1 {
		dir = dirs[0]
	}
	e, errs := manifest.LoadDir(dir)
	if len(errs) > 0 {
		for _, err := range errs {
			fmt.Fprintln(stderr, err.Error())
		}
		return 1
	}
	if len(e.Studio.Deployers) == 0 {
		refusal := manifest.Error{File: e.StudioSource.Name, Field: "deployers",
			Message: "names nobody: list the management account's roles that may deploy (arn:aws:iam::" + e.Studio.ManagementAccount +
				":role/<name>); renderenv bootstraps no account whose bootstrap roles would trust a whole account"}
		if e.StudioSource.Has("deployers") {
			refusal.Line = e.StudioSource.Line("deployers")
		}
		fmt.Fprintln(stderr, refusal.Error())
		return 1
	}
	o := bootstrap.OptionsOf(e)
	if err := writeTemplate(o, *tpl); err != nil {
		fmt.Fprintf(stderr, "renderenv bootstrap: %v\n", err)
		return 1
	}
	envs := bootstrap.Envs(e)
	fmt.Fprintf(stdout, "# %s: renderenv's CDK bootstrap of studio %s's %d environments, trusting %s\n",
		*tpl, e.Studio.Studio, len(envs), strings.Join(bootstrap.Trust(o), ", "))
	// With the pipeline, the log-archive account (holding the trail, and
	// nothing else) trusts the pipeline's roles only.
	archive, archiveTpl := bootstrap.Env{}, ""
	if o.Pipeline && e.Studio.LogArchive() != e.Studio.ManagementAccount {
		only := o
		only.PipelineOnly = true
		archiveTpl = strings.TrimSuffix(*tpl, ".json") + "-log-archive.json"
		if err := writeTemplate(only, archiveTpl); err != nil {
			fmt.Fprintf(stderr, "renderenv bootstrap: %v\n", err)
			return 1
		}
		archive = bootstrap.Env{Account: e.Studio.LogArchive(), Region: e.Studio.Region}
		fmt.Fprintf(stdout, "# %s: the log-archive account's, trusting %s only\n", archiveTpl, strings.Join(bootstrap.Trust(only), ", "))
	}
	for _, env := range envs {
		path := *tpl
		if archiveTpl != "" && env.Account == archive.Account && env.Region == archive.Region && len(env.For) == 1 {
			path = archiveTpl
		}
		argv := bootstrap.Command(o, env, path)
		fmt.Fprintf(stdout, "# %s: %s\n%s\n", env, strings.Join(env.For, ", "), shellJoin(argv))
		if !*apply {
			continue
		}
		if err := runCommand(argv, stdout, stderr); err != nil {
			fmt.Fprintf(stderr, "renderenv bootstrap: %s: %v\n", env, err)
			return 1
		}
	}
	return 0
}

var shellSafe = regexp.MustCompile(`^[A-Za-z0-9@%+=:,./_-]+$`)

// shellJoin quotes what a POSIX shell would split or expand.
func shellJoin(argv []string) string {
	out := make([]string, len(argv))
	for i, a := range argv {
		out[i] = a
		if !shellSafe.MatchString(a) {
			out[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
	}
	return strings.Join(out, " ")
}

// writeTemplate writes the bootstrap template of o to path.
func writeTemplate(o bootstrap.Options, path string) error {
	body, err := bootstrap.Template(o)
	if err == nil {
		err = os.MkdirAll(filepath.Dir(path), 0o755)
	}
	if err == nil {
		err = os.WriteFile(path, append(body, '\n'), 0o644)
	}
	return err
}
