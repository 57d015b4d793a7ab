package main

// Kernel traffic: with JSII_DEBUG=1 the jsii kernel (node) writes every
// message it reads from the Go process to its standard error as a line
// "> {json}" and every answer as "< {json}". An answer that starts with
// {"callback" asks the Go process to run Go code (an aspect's visit, a
// method a Go struct overrides) before the kernel can go on.

// KernelTraffic counts the messages between the Go process and the jsii
// kernel in one run.
type KernelTraffic struct {
	// Requests are the messages the Go process sent: calls, property
	// reads, object creations and the completions of callbacks.
	Requests int
	// Callbacks are the times the kernel called back into Go.
	Callbacks int
}

// kernelCounter is an io.Writer that counts the kernel's debug lines as
// they stream past, without keeping them: a synthesis writes hundreds of
// megabytes of them. It keeps the last tailSize bytes for error messages.
type kernelCounter struct {
	KernelTraffic
	// start holds the first bytes of the current line, up to len(callbackPrefix).
	start   []byte
	midLine bool // the current line's start has been classified
	tail    []byte
}

const (
	requestPrefix  = "> "
	callbackPrefix = `< {"callback"`
	tailSize       = 64 << 10
)

func (k *kernelCounter) Write(p []byte) (int, error) {
	for _, c := range p {
		if c == '\n' {
			k.classify()
			k.start, k.midLine = k.start[:0], false
			continue
		}
		if !k.midLine {
			k.start = append(k.start, c)
			if len(k.start) == len(callbackPrefix) {
				k.classify()
				k.midLine = true
			}
		}
	}
	k.tail = append(k.tail, p...)
	if len(k.tail) > tailSize {
		k.tail = append(k.tail[:0], k.tail[len(k.tail)-tailSize:]...)
	}
	return len(p), nil
}

// classify counts the current line once, when its start is known or the
// line ends before that.
func (k *kernelCounter) classify() {
	if k.midLine {
		return
	}
	s := string(k.start)
	switch {
	case len(s) >= len(requestPrefix) && s[:len(requestPrefix)] == requestPrefix:
		k.Requests++
	case s == callbackPrefix:
		k.Callbacks++
	}
}
