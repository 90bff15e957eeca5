package inventory

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func write(t *testing.T, path, content string, mtime time.Time) {
	t.Helper()
	require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
	require.NoError(t, os.Chtimes(path, mtime, mtime))
}

func TestReadFilesDuplicateAcrossFiles(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.yaml"), filepath.Join(dir, "b.yaml")
	vm := "resources:\n  - {id: i-1, type: vm, cloud: aws, instance_type: m5.large}\n"
	write(t, a, vm, time.Now())
	write(t, b, "\n"+vm, time.Now())
	_, err := ReadFiles([]string{a, b})
	require.EqualError(t, err, b+`:3: resource "i-1" of cloud "aws" is listed already at `+a+":2")

	write(t, b, "resources:\n  - {id: i-1, type: vm, cloud: gcp, instance_type: e2-small}\n",
		time.Now())
	got, err := ReadFiles([]string{a, b})
	require.NoError(t, err)
	require.Len(t, got, 2)
}

func TestFilesReload(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "inv.yaml")
	t0 := time.Unix(1_700_000_000, 0)
	write(t, path, "resources:\n  - {id: a, type: vm, cloud: aws, instance_type: m5.large}\n", t0)

	_, err := OpenFiles([]string{filepath.Join(dir, "missing.yaml")}, nil)
	require.ErrorContains(t, err, "inventory: stat ")
	f, err := OpenFiles([]string{path}, nil)
	require.NoError(t, err)
	require.Len(t, f.Resources(), 1)

	// An edit is read at the next call.
	write(t, path, "resources:\n  - {id: a, type: vm, cloud: aws, instance_type: m5.large}\n"+
		"  - {id: b, type: vm, cloud: aws, instance_type: t3.micro}\n", t0.Add(time.Second))
	require.Len(t, f.Resources(), 2)

	// A broken edit, or a removed file, keeps the last good inventory.
	write(t, path, "resources:\n  - {id: a, type: vm}\n", t0.Add(2*time.Second))
	require.Len(t, f.Resources(), 2)
	require.NoError(t, os.Remove(path))
	require.Len(t, f.Resources(), 2)

	// Fixed again, it is read again.
	write(t, path, "resources: []\n", t0.Add(3*time.Second))
	require.Empty(t, f.Resources())

	_, err = OpenFiles([]string{path, path + ".bad"}, nil)
	require.Error(t, err)
	write(t, path+".bad", "resources: {}\n", t0)
	_, err = OpenFiles([]string{path + ".bad"}, nil)
	require.EqualError(t, err, path+".bad:1: resources: want a list")
}

// TestFilesStatus: each call reports whether the files are in use; a broken
// file is logged once, not at every call, and read again only once it changes.
func TestFilesStatus(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "inv.yaml")
	t0 := time.Unix(1_700_000_000, 0)
	write(t, path, "resources: []\n", t0)
	var logs bytes.Buffer
	f, err := OpenFiles([]string{path}, slog.New(slog.NewTextHandler(&logs, nil)))
	require.NoError(t, err)
	var statuses []string
	f.OnStatus(func(err error) {
		if err == nil {
			statuses = append(statuses, "ok")
			return
		}
		statuses = append(statuses, "failed")
	})

	f.Resources()
	write(t, path, "resources: {}\n", t0.Add(time.Second))
	f.Resources()
	f.Resources()
	f.Resources()
	write(t, path, "resources: []\n", t0.Add(2*time.Second))
	f.Resources()
	require.Equal(t, []string{"ok", "ok", "failed", "failed", "failed", "ok"}, statuses,
		"in use from the start, before the first call")
	require.Equal(t, 1, strings.Count(logs.String(), "inventory not read again"), logs.String())
	require.Equal(t, 1, strings.Count(logs.String(), "inventory read again"))
}
