//go:build unix

package jsiienv

import "syscall"

// executable reports whether this process may execute path: access(2) with
// X_OK, which also refuses a file on a file system mounted noexec.
func executable(path string) bool {
	const xOK = 1
	return syscall.Access(path, xOK) == nil
}
