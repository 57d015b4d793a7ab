//go:build !unix

package jsiienv

// executable is never asked outside Unix: install stops before.
func executable(string) bool { return false }
