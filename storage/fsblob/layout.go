package fsblob

import (
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// The directory holds one subdirectory per shard, named by two lowercase
// hex digits, and each blob lives in the shard of its name. In one flat
// directory every upload's create and rename queue on that directory's
// lock and its inodes crowd one allocation group: sixteen goroutines
// storing 64 KiB blobs into a flat directory of a few thousand took 1.35
// ms a blob with NoSync, against 0.17 ms in shards (BenchmarkPutParallel
// before and after the change, ext4). With fsyncs, which wait for the
// disk, shards gained about a tenth.
const shards = 256

// shardOf returns the shard of a blob name: the low byte of its FNV-1a
// hash, which spreads the random prefixes of Parse names and the ULIDs of
// lifecycle files alike. The layout depends on it: never change it.
func shardOf(name string) int {
	h := fnv.New32a()
	h.Write([]byte(name))
	return int(h.Sum32() % shards)
}

func shardDir(root string, shard int) string {
	return filepath.Join(root, fmt.Sprintf("%02x", shard))
}

// prepare creates the shard directories and moves blobs of the earlier,
// flat layout (files directly in root) into their shards; both are made
// durable when sync is set. Temporary files are left where they are: one
// may be another process's write in progress.
func prepare(root string, sync bool) error {
	changed := map[string]bool{} // directories whose entries changed
	for i := range shards {
		dir := shardDir(root, i)
		err := os.Mkdir(dir, 0o750)
		if err == nil {
			changed[root] = true
		} else if !errors.Is(err, fs.ErrExist) {
			return err
		}
	}
	entries, err := os.ReadDir(root)
	if err != nil {
		return err
	}
	for _, e := range entries {
		name := e.Name()
		if !e.Type().IsRegular() || strings.HasPrefix(name, ".") {
			continue
		}
		blob, ok := unescapeName(name)
		if !ok {
			continue // not a blob's file name
		}
		dir := shardDir(root, shardOf(blob))
		if err := os.Rename(filepath.Join(root, name), filepath.Join(dir, name)); err != nil {
			return err
		}
		changed[root], changed[dir] = true, true
	}
	if !sync {
		return nil
	}
	for dir := range changed {
		if err := syncDir(dir); err != nil {
			return err
		}
	}
	return nil
}

// unescapeName inverts escapeName; false when file is not what escapeName
// makes of any name.
func unescapeName(file string) (string, bool) {
	if file == "%" {
		return "", true
	}
	b := make([]byte, 0, len(file))
	for i := 0; i < len(file); i++ {
		if file[i] != '%' {
			b = append(b, file[i])
			continue
		}
		if i+2 >= len(file) {
			return "", false
		}
		c, err := strconv.ParseUint(file[i+1:i+3], 16, 8)
		if err != nil {
			return "", false
		}
		b = append(b, byte(c))
		i += 2
	}
	name := string(b)
	return name, escapeName(name) == file
}
