package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// storageLock is held by the serve process that owns --storage.path, so that
// a second one cannot delete or overwrite state that the first is using. The
// kernel releases it when the process ends, however it ends.
type storageLock struct{ file *os.File }

// lockStorage creates the storage directory if needed and locks it.
func lockStorage(dir string) (*storageLock, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("--storage.path: %w", err)
	}
	path := filepath.Join(dir, "lock")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("--storage.path: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		_ = f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("--storage.path %s is in use by another stratus serve "+
				"(%s is locked); give each one its own directory", dir, path)
		}
		return nil, fmt.Errorf("--storage.path: locking %s: %w", path, err)
	}
	return &storageLock{file: f}, nil
}

// release unlocks the storage directory.
func (l *storageLock) release() error {
	return l.file.Close()
}
