// Package jsiicache turns on the jsii runtime's package cache for the
// process that imports it, unless the environment already says.
//
// Without it, every jsii runtime extracts the tarballs of the libraries it
// loads (aws-cdk-lib is large) into a temporary folder when it starts:
// seconds of CPU for each `cdk synth`, each worker of a sharded synthesis
// and each test binary. With it, the runtime extracts each library version
// once into $HOME/.cache/aws/jsii/package-cache (JSII_RUNTIME_PACKAGE_CACHE_ROOT
// moves it) and loads it from there, as trusted as the Go module cache and
// node_modules beside it. JSII_RUNTIME_PACKAGE_CACHE=disabled turns it off.
package jsiicache

import "os"

// Env is the jsii runtime's switch for its package cache.
const Env = "JSII_RUNTIME_PACKAGE_CACHE"

func init() {
	if _, set := os.LookupEnv(Env); !set {
		_ = os.Setenv(Env, "enabled")
	}
}
