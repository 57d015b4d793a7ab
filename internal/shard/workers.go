package shard

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Worker is one worker process synthesizing a part of the estate.
type Worker struct {
	// Productions are the productions it builds.
	Productions []string
	// Dir is its assembly folder: outdir for the first worker, a folder
	// of its own beside outdir for the others.
	Dir    string
	temp   bool // Dir is the worker's own, removed by Discard
	cmd    *exec.Cmd
	stderr bytes.Buffer
}

// Start starts one worker per part: exe (the app itself) with the
// environment of this process and the part's productions in
// EnvProductions. The first builds the shared stacks too (EnvShared) and
// writes into outdir; the others each into a folder of their own beside
// it (CDK_OUTDIR).
func Start(exe, outdir string, parts [][]string) ([]*Worker, error) {
	var ws []*Worker
	for i, names := range parts {
		w := &Worker{Productions: names, Dir: outdir, cmd: exec.Command(exe)}
		env := []string{EnvProductions + "=" + strings.Join(names, ",")}
		if i == 0 {
			env = append(env, EnvShared+"=1")
		} else {
			dir, err := os.MkdirTemp(filepath.Dir(outdir), ".renderenv-part-")
			if err != nil {
				Discard(ws)
				return nil, fmt.Errorf("starting a synthesis worker: %w", err)
			}
			w.Dir, w.temp = dir, true
		}
		w.cmd.Env = append(append(os.Environ(), EnvOutdir+"="+w.Dir), env...)
		w.cmd.Stderr = &w.stderr
		ws = append(ws, w)
		if err := w.cmd.Start(); err != nil {
			Discard(ws)
			return nil, fmt.Errorf("starting a synthesis worker: %w", err)
		}
	}
	return ws, nil
}

// Wait waits for every worker and returns what they wrote on stderr
// (warnings, findings) and the first failure.
func Wait(ws []*Worker) (string, error) {
	var out strings.Builder
	var first error
	for _, w := range ws {
		err := w.cmd.Wait()
		out.Write(w.stderr.Bytes())
		if err != nil && first == nil {
			first = fmt.Errorf("the synthesis worker of %s: %w", describe(w.Productions), err)
		}
	}
	return out.String(), first
}

// Discard stops the workers still running and removes their own folders.
func Discard(ws []*Worker) {
	for _, w := range ws {
		if w.cmd.ProcessState == nil && w.cmd.Process != nil {
			_ = w.cmd.Process.Kill()
			_ = w.cmd.Wait()
		}
		if w.temp {
			_ = os.RemoveAll(w.Dir)
		}
	}
}

// Dirs are the workers' assembly folders.
func Dirs(ws []*Worker) []string {
	out := make([]string, len(ws))
	for i, w := range ws {
		out[i] = w.Dir
	}
	return out
}

func describe(names []string) string {
	if len(names) <= 3 {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(names[:3], ", "), len(names)-3)
}
