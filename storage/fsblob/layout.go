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
	flat, err := flatBlobs(root, changed)
	if err != nil {
		return err
	}
	for i := range shards {
		err := os.Mkdir(shardDir(root, i), 0o750)
		if err == nil {
			changed[root] = true
		} else if !errors.Is(err, fs.ErrExist) {
			return err
		}
	}
	for _, b := range flat {
		dir := shardDir(root, shardOf(b.name))
		if err := os.Rename(filepath.Join(root, b.file), filepath.Join(dir, escapeName(b.name))); err != nil {
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

// movingPrefix renames a flat blob whose file name is that of a shard
// directory, out of the directory's way, before the blob moves.
const movingPrefix = ".move-"

type flatBlob struct{ file, name string }

// flatBlobs lists the blobs of the flat layout in root, their files
// renamed out of the shard directories' way first; a blob an interrupted
// prepare left so renamed is listed too.
func flatBlobs(root string, changed map[string]bool) ([]flatBlob, error) {
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil, err
	}
	var flat []flatBlob
	for _, e := range entries {
		file := e.Name()
		if !e.Type().IsRegular() {
			continue
		}
		escaped, moving := strings.CutPrefix(file, movingPrefix)
		if !moving && strings.HasPrefix(file, ".") {
			continue // a temporary file
		}
		name, ok := unescapeName(escaped)
		if !ok {
			continue // not a blob's file name
		}
		if !moving && isShardName(file) {
			if err := os.Rename(filepath.Join(root, file), filepath.Join(root, movingPrefix+file)); err != nil {
				return nil, err
			}
			file = movingPrefix + file
			changed[root] = true
		}
		flat = append(flat, flatBlob{file: file, name: name})
	}
	return flat, nil
}

// isShardName reports whether file is the name of a shard directory.
func isShardName(file string) bool {
	n, err := strconv.ParseUint(file, 16, 8)
	return err == nil && shardDir("", int(n)) == file
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
