package main

import (
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/renderenv/renderenv/internal/estategen"
)

// BenchmarkNewIn200Productions: `renderenv new` in a folder of 200
// productions (read, validate, allocate, write, validate again). The
// README's figure comes from
// go test ./bin/renderenv -run '^$' -bench NewIn200 -benchtime 10x.
func BenchmarkNewIn200Productions(b *testing.B) {
	dir := b.TempDir()
	for name, data := range estategen.Generate(200, 20) {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	args := []string{"skyfall", "--tier", "2", "--account", "777777777777", "--cost-centre", "CC-1", "--owner", "a@example.com", "--dir", dir}
	b.ResetTimer()
	for range b.N {
		if code := run(append([]string{"new"}, args...), io.Discard, io.Discard); code != 0 {
			b.Fatalf("exit %d", code)
		}
		b.StopTimer()
		os.Remove(filepath.Join(dir, "skyfall.yaml"))
		b.StartTimer()
	}
}
