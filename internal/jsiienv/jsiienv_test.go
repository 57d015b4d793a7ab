package jsiienv

import (
	"bytes"
	"encoding/base64"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The fake runtimes below stand for the jsii runtime that jsii-runtime-go
// extracts: bin/jsii-runtime.js, the entry point that would relay, and
// lib/program.js, the kernel, which opens its channel as the real one does
// (readFD:3,writeFD:3) and answers one request line with one response line.

// relayEntry says that the runtime's own entry point ran.
const relayEntry = `process.stdout.write(JSON.stringify({ ran: 'entry point' }) + '\n');`

// kernelProgram reads one line from its channel, prints to standard output
// as a library might, and answers on the channel.
const kernelProgram = `
const fs = require('fs');
const io = {readFD:3,writeFD:3};
const buf = Buffer.alloc(1024);
let line = '';
while (!line.includes('\n')) {
  const n = fs.readSync(io.readFD, buf, 0, buf.length, null);
  if (n === 0) break;
  line += buf.subarray(0, n).toString();
}
console.log('a library printing');
fs.writeSync(io.writeFD, JSON.stringify({ ran: 'kernel', got: JSON.parse(line), file: __filename }) + '\n');
`

// fakeRuntime writes a runtime folder and returns its entry point.
func fakeRuntime(t *testing.T, program string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range map[string]string{"bin/jsii-runtime.js": relayEntry, "lib/program.js": program} {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(dir, "bin", "jsii-runtime.js")
}

// installFresh installs the launcher under a new cache folder, with no
// runtime setting of the user's, and returns its path.
func installFresh(t *testing.T) string {
	t.Helper()
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	t.Setenv(nodeEnv, "")
	t.Setenv(runtimeEnv, "")
	node, ok := install()
	if !ok {
		t.Fatal("install: the launcher was not written")
	}
	return node
}

// launch installs the launcher under a fresh cache folder, runs it as
// jsii-runtime-go runs JSII_NODE (the entry point its one argument), sends
// one request line, and returns standard output and error.
func launch(t *testing.T, entry string) (string, string) {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node is not installed")
	}
	cmd := exec.Command(installFresh(t), entry)
	cmd.Stdin = strings.NewReader(`{"hello":"kernel"}` + "\n")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("running the launcher: %v\n%s", err, stderr.String())
	}
	return stdout.String(), stderr.String()
}

func TestLauncherRunsTheKernelOnStandardInputAndOutput(t *testing.T) {
	entry := fakeRuntime(t, kernelProgram)
	stdout, stderr := launch(t, entry)
	program := filepath.Join(filepath.Dir(filepath.Dir(entry)), "lib", "program.js")
	want := `{"ran":"kernel","got":{"hello":"kernel"},"file":"` + program + `"}` + "\n"
	if stdout != want {
		t.Errorf("the channel carried\n%s\nwant only the kernel's answer\n%s", stdout, want)
	}
	printed := `{"stdout":"` + base64.StdEncoding.EncodeToString([]byte("a library printing\n")) + `"}`
	if !strings.Contains(stderr, printed) {
		t.Errorf("what the kernel printed is not on standard error as jsii-runtime-go expects it (%s):\n%s", printed, stderr)
	}
}

func TestLauncherRunsTheEntryPointForAnUnknownProgram(t *testing.T) {
	for name, program := range map[string]string{
		"no channel":  strings.ReplaceAll(kernelProgram, "{readFD:3,writeFD:3}", "{readFD:4,writeFD:4}"),
		"two of them": kernelProgram + "\n// readFD:3,writeFD:3\n",
	} {
		t.Run(name, func(t *testing.T) {
			stdout, stderr := launch(t, fakeRuntime(t, program))
			if stdout != `{"ran":"entry point"}`+"\n" {
				t.Errorf("stdout %q, want the entry point's; stderr:\n%s", stdout, stderr)
			}
		})
	}
}

func TestInstallLeavesTheUsersRuntimeSettingsAlone(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	for _, env := range []string{nodeEnv, runtimeEnv} {
		t.Run(env, func(t *testing.T) {
			t.Setenv(nodeEnv, "")
			t.Setenv(runtimeEnv, "")
			t.Setenv(env, "/opt/custom")
			if node, ok := install(); ok {
				t.Errorf("with %s set, install wrote %s", env, node)
			}
		})
	}
}

func TestInstallRestoresAChangedLauncher(t *testing.T) {
	node := installFresh(t)
	script := filepath.Join(filepath.Dir(node), "kernel.js")
	if err := os.WriteFile(script, []byte("// changed"), 0o666); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(node, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Dir(node), 0o777); err != nil {
		t.Fatal(err)
	}
	if again, ok := install(); !ok || again != node {
		t.Fatalf("install again: %q %v, want %q", again, ok, node)
	}
	for path, want := range map[string]os.FileMode{script: 0o644, node: 0o755} {
		info, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if info.Mode().Perm() != want {
			t.Errorf("%s has mode %v, want %v", path, info.Mode().Perm(), want)
		}
	}
	if info, err := os.Stat(filepath.Dir(node)); err != nil {
		t.Error(err)
	} else if info.Mode().Perm() != 0o700 {
		t.Errorf("the launcher's folder has mode %v, want 0700", info.Mode().Perm())
	}
	if got, _ := os.ReadFile(script); !bytes.Equal(got, kernelJS) {
		t.Error("install left the changed kernel.js in place")
	}
	if got, _ := os.ReadFile(node); !bytes.Equal(got, launcher(script)) {
		t.Error("the launcher is not the script install writes")
	}
}

func TestLauncherQuotesItsPath(t *testing.T) {
	got := string(launcher("/home/o'neil/.cache/renderenv/kernel.js"))
	if !strings.Contains(got, `exec node --preserve-symlinks '/home/o'\''neil/.cache/renderenv/kernel.js' "$@"`) {
		t.Errorf("launcher:\n%s", got)
	}
}

// TestPinnedRuntimeOpensTheChannelKernelJSExpects: the kernel that the
// pinned jsii-runtime-go embeds opens its channel exactly as kernel.js looks
// for it. After an upgrade that changes it, the runtime would still work
// (kernel.js runs its entry point) but through the relay again, and this
// test says so.
func TestPinnedRuntimeOpensTheChannelKernelJSExpects(t *testing.T) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/aws/jsii-runtime-go").Output()
	if err != nil {
		t.Fatalf("go list the jsii runtime module: %v", err)
	}
	resources := filepath.Join(strings.TrimSpace(string(out)), "internal", "embedded", "resources")
	program, err := os.ReadFile(filepath.Join(resources, "lib", "program.js"))
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(program, []byte("readFD:3,writeFD:3")); n != 1 {
		t.Errorf("the pinned runtime's lib/program.js opens readFD:3,writeFD:3 %d times, want once", n)
	}
	if _, err := os.Stat(filepath.Join(resources, "bin", "jsii-runtime.js")); err != nil {
		t.Errorf("the pinned runtime has no entry point where kernel.js looks for lib/program.js beside it: %v", err)
	}
	if !bytes.Contains(kernelJS, []byte("'readFD:3,writeFD:3'")) {
		t.Error("kernel.js no longer looks for readFD:3,writeFD:3")
	}
}

func TestExecutableRefusesAFileThatCannotRun(t *testing.T) {
	dir := t.TempDir()
	for mode, want := range map[os.FileMode]bool{0o755: true, 0o644: false} {
		path := filepath.Join(dir, mode.String())
		if err := os.WriteFile(path, []byte("#!/bin/sh\n"), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
		if got := executable(path); got != want {
			t.Errorf("executable(%v file) = %v, want %v", mode, got, want)
		}
	}
}
