package fsblob

import (
	"os"
	"sync"
)

// dirSyncer makes the entries of one directory durable for many writers
// at once. fsync of a directory holds its lock while the disk flushes, so
// one per upload serializes concurrent uploads behind each other; instead
// a caller waits for a sync that starts after its change, and one sync
// serves every caller that arrived while the previous one ran, as a
// database's group commit does.
type dirSyncer struct {
	dir  string
	sync func(dir string) error // syncDir; tests count the calls

	mu      sync.Mutex
	cond    sync.Cond
	running bool
	started uint64 // generation of the last sync begun
	done    uint64 // generation of the last sync finished
	err     error  // its result
}

func newDirSyncer(dir string) *dirSyncer {
	d := &dirSyncer{dir: dir, sync: syncDir}
	d.cond.L = &d.mu
	return d
}

// wait returns once a sync of the directory that began after the call has
// finished, with its error.
func (d *dirSyncer) wait() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	// A running sync may have begun before the caller's change: only the
	// next generation is sure to include it.
	want := d.started + 1
	for d.done < want {
		if d.running {
			d.cond.Wait()
			continue
		}
		d.running = true
		d.started++
		gen := d.started
		d.mu.Unlock()
		err := d.sync(d.dir)
		d.mu.Lock()
		d.running = false
		d.done, d.err = gen, err
		d.cond.Broadcast()
	}
	return d.err
}

// syncDir fsyncs a directory.
func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}
