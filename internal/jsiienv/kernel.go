package jsiienv

// The jsii runtime that jsii-runtime-go embeds is two Node.js processes: its
// entry point (bin/jsii-runtime.js) starts the kernel (lib/program.js) as a
// child and copies every message between the Go app and the child's channel.
// In a synthesis that copying takes about a sixth of the CPU, and every
// round trip between Go and the kernel waits for two more process switches.
//
// jsii-runtime-go runs the entry point with the program JSII_NODE names
// (node by default). This package sets JSII_NODE to a small shell script
// that runs kernel.js, which loads the runtime's own lib/program.js in the
// same process with its channel on standard input and output. The runtime,
// its version and its messages are unchanged; only the copier is gone.
//
// The script and kernel.js are written once per version of kernel.js into
// the user's cache folder (os.UserCacheDir()/renderenv), beside the jsii
// package cache and as trusted as it, and rewritten whenever their content
// is not what this binary holds. If they cannot be written or run (a
// noexec mount), or on Windows, the runtime starts as jsii-runtime-go starts
// it.

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

//go:embed kernel.js
var kernelJS []byte

const (
	// nodeEnv names the program jsii-runtime-go runs the runtime's entry
	// point with.
	nodeEnv = "JSII_NODE"
	// runtimeEnv names a command that replaces the embedded runtime.
	runtimeEnv = "JSII_RUNTIME"
)

// install writes the launcher and returns the path to give JSII_NODE, or
// false where the runtime should start as jsii-runtime-go starts it.
func install() (string, bool) {
	if runtime.GOOS == "windows" || os.Getenv(nodeEnv) != "" || os.Getenv(runtimeEnv) != "" {
		return "", false
	}
	root, err := os.UserCacheDir()
	if err != nil {
		return "", false
	}
	sum := sha256.Sum256(kernelJS)
	dir := filepath.Join(root, "renderenv", "jsii-kernel-"+hex.EncodeToString(sum[:6]))
	script := filepath.Join(dir, "kernel.js")
	node := filepath.Join(dir, "node")
	// Only this user may change what the kernel runs.
	if os.MkdirAll(dir, 0o700) != nil || os.Chmod(dir, 0o700) != nil {
		return "", false
	}
	if put(dir, script, kernelJS, 0o644) != nil || put(dir, node, launcher(script), 0o755) != nil {
		return "", false
	}
	// A cache folder on a file system mounted noexec would stop the kernel
	// from starting at all.
	if !executable(node) {
		return "", false
	}
	return node, true
}

// launcher is the shell script JSII_NODE names. --preserve-symlinks is the
// flag the runtime's entry point gives its child: the package cache links
// libraries into place, and each must load once.
func launcher(script string) []byte {
	quoted := "'" + strings.ReplaceAll(script, "'", `'\''`) + "'"
	return []byte("#!/bin/sh\n" +
		"# renderenv (internal/jsiienv): the jsii kernel in one Node.js process.\n" +
		"exec node --preserve-symlinks " + quoted + " \"$@\"\n")
}

// put makes path hold content with mode, writing it only if it does not
// already, through a temporary file renamed into place so that a process
// starting at the same time never reads half a file.
func put(dir, path string, content []byte, mode os.FileMode) error {
	if have, err := os.ReadFile(path); err == nil && bytes.Equal(have, content) {
		if info, err := os.Stat(path); err == nil && info.Mode().Perm() == mode {
			return nil
		}
	}
	tmp, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(content); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
