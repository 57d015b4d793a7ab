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
	// Dir is its assembly folder, beside the parent's.
	Dir    string
	cmd    *exec.Cmd
	stderr bytes.Buffer
}

// Start starts one worker per part: exe (the app itself) with the
// environment of this process, the part's productions in EnvProductions
// and an assembly folder of its own, beside outdir, in CDK_OUTDIR.
func Start(exe, outdir string, parts [][]string) ([]*Worker, error) {
	var ws []*Worker
	for _, names := range parts {
		dir, err := os.MkdirTemp(filepath.Dir(outdir), ".renderenv-part-")
		if err != nil {
			Discard(ws)
			return nil, fmt.Errorf("starting a synthesis worker: %w", err)
		}
		w := &Worker{Productions: names, Dir: dir, cmd: exec.Command(exe)}
		w.cmd.Env = append(os.Environ(), "CDK_OUTDIR="+dir, EnvProductions+"="+strings.Join(names, ","))
		w.cmd.Stderr = &w.stderr
		if err := w.cmd.Start(); err != nil {
			_ = os.RemoveAll(dir)
			Discard(ws)
			return nil, fmt.Errorf("starting a synthesis worker: %w", err)
		}
		ws = append(ws, w)
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

// Discard stops the workers still running and removes their folders.
func Discard(ws []*Worker) {
	for _, w := range ws {
		if w.cmd.ProcessState == nil && w.cmd.Process != nil {
			_ = w.cmd.Process.Kill()
			_ = w.cmd.Wait()
		}
		_ = os.RemoveAll(w.Dir)
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
