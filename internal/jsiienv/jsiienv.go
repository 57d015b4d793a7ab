// Package jsiienv sets, for the process that imports it, what the jsii
// runtime reads from the environment when it starts, that is before the
// first jsii call. Anything the environment already says is left alone.
//
// The package cache: without it, every jsii runtime extracts the tarballs of
// the libraries it loads (aws-cdk-lib is large) into a temporary folder when
// it starts: seconds of CPU for each `cdk synth`, each worker of a sharded
// synthesis and each test binary. With it, the runtime extracts each library
// version once into $HOME/.cache/aws/jsii/package-cache
// (JSII_RUNTIME_PACKAGE_CACHE_ROOT moves it) and loads it from there, as
// trusted as the Go module cache and node_modules beside it.
// JSII_RUNTIME_PACKAGE_CACHE=disabled turns it off.
//
// The kernel without its relay: see kernel.go. RENDERENV_JSII_KERNEL=relay
// keeps the runtime's own start.
package jsiienv

import (
	"fmt"
	"os"
)

// CacheEnv is the jsii runtime's switch for its package cache.
const CacheEnv = "JSII_RUNTIME_PACKAGE_CACHE"

// KernelEnv chooses how the jsii kernel starts: KernelDirect (the default)
// or KernelRelay.
const KernelEnv = "RENDERENV_JSII_KERNEL"

const (
	// KernelDirect runs the kernel in one Node.js process (kernel.go).
	KernelDirect = "direct"
	// KernelRelay runs it as jsii-runtime-go does: two processes, one of
	// them copying every message to the other.
	KernelRelay = "relay"
)

// settingErr is a KernelEnv value that is neither choice, reported by Err.
var settingErr error

func init() {
	if _, set := os.LookupEnv(CacheEnv); !set {
		_ = os.Setenv(CacheEnv, "enabled")
	}
	switch kernel := os.Getenv(KernelEnv); kernel {
	case "", KernelDirect:
		if node, ok := install(); ok {
			_ = os.Setenv(nodeEnv, node)
		}
	case KernelRelay:
	default:
		settingErr = fmt.Errorf("%s=%q: want %q (the default) or %q", KernelEnv, kernel, KernelDirect, KernelRelay)
	}
}

// Err reports a KernelEnv setting that is neither choice. The runtime then
// starts as jsii-runtime-go starts it; a command reports the error before it
// synthesizes anything.
func Err() error { return settingErr }
