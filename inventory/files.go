package inventory

import (
	"fmt"
	"log/slog"
	"maps"
	"os"
	"sync"
)

// ReadFiles reads several inventory files as one inventory. A resource listed
// in two files (same cloud and id) is an error naming both places.
func ReadFiles(paths []string) ([]Resource, error) {
	var out []Resource
	where := map[[2]string]string{}
	for _, path := range paths {
		resources, err := ReadFile(path)
		if err != nil {
			return nil, err
		}
		for _, r := range resources {
			k := [2]string{r.Cloud, r.ID}
			if first, dup := where[k]; dup {
				return nil, fmt.Errorf("%s: resource %q of cloud %q is listed already at %s",
					r.Where(), r.ID, r.Cloud, first)
			}
			where[k] = r.Where()
		}
		out = append(out, resources...)
	}
	return out, nil
}

// Files is a set of inventory files that is read again whenever one of them
// changes (its size or modification time), so that an edited inventory takes
// effect at the next cost cycle without a restart. It is safe for concurrent
// use.
type Files struct {
	paths  []string
	logger *slog.Logger

	mu        sync.Mutex
	stamps    map[string]string
	resources []Resource
	// failed are the stamps of the files that could not be read, and err why:
	// they are not read again until one changes.
	failed map[string]string
	err    error
	status func(error)
}

// OpenFiles reads the files once; an error here is an error of the
// configuration, for the caller to refuse to start with.
func OpenFiles(paths []string, logger *slog.Logger) (*Files, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	f := &Files{paths: paths, logger: logger}
	stamps, err := f.stat()
	if err != nil {
		return nil, err
	}
	resources, err := ReadFiles(paths)
	if err != nil {
		return nil, err
	}
	f.stamps, f.resources = stamps, resources
	return f, nil
}

// OnStatus makes each call of Resources report whether the inventory in use
// is the files as they are (nil) or the last good one kept because they cannot
// be read (the error), for a source health gauge.
func (f *Files) OnStatus(status func(err error)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.status = status
	f.report(f.err) // the files were read when opened
}

// Resources returns the inventory, reading the files again first if one has
// changed. A file that has become unreadable or invalid is logged (once, until
// it changes again) and the last good inventory kept: a typo in an edit must
// not make every resource vanish from the cost figures.
func (f *Files) Resources() []Resource {
	f.mu.Lock()
	defer f.mu.Unlock()
	stamps, err := f.stat()
	switch {
	case err == nil && maps.Equal(stamps, f.stamps):
		f.report(nil)
		return f.resources
	case err == nil && f.failed != nil && maps.Equal(stamps, f.failed):
		f.report(f.err)
		return f.resources
	}
	var resources []Resource
	if err == nil {
		resources, err = ReadFiles(f.paths)
	}
	if err != nil {
		if f.err == nil || err.Error() != f.err.Error() {
			f.logger.Warn("inventory not read again; keeping the last good one",
				"source", "inventory", "err", err)
		}
		f.failed, f.err = stamps, err
		f.report(err)
		return f.resources
	}
	f.logger.Info("inventory read again", "source", "inventory", "resources", len(resources))
	f.stamps, f.resources, f.failed, f.err = stamps, resources, nil, nil
	f.report(nil)
	return f.resources
}

// report tells the status callback, if any.
func (f *Files) report(err error) {
	if f.status != nil {
		f.status(err)
	}
}

// stat returns the size and modification time of every file.
func (f *Files) stat() (map[string]string, error) {
	stamps := make(map[string]string, len(f.paths))
	for _, p := range f.paths {
		info, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("inventory: %w", err)
		}
		stamps[p] = fmt.Sprintf("%d/%d", info.Size(), info.ModTime().UnixNano())
	}
	return stamps, nil
}
