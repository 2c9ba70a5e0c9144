// Command storegen adds synthetic entries to an existing cacheprog local store, in the store's
// own on-disk format, for the store-size benchmark (bench/store-scale.sh): entries whose
// ActionIDs are random, so that no go build ever looks them up, i.e. pure extra store size.
//
// It appends N records of 128 bytes to DIR/v1/index (see Sources/CASBridge/LocalStore/Index/IndexRecord.swift)
// and writes the blobs they name under DIR/v1/blobs/xx/<sha256 hex> (mode 0444, through a
// temporary file in the same directory and a rename, like the helper). K of the entries get a
// distinct small blob each (100-2000 random bytes); the other N-K all name one shared blob.
// Put and last-use times lie 2 to 72 hours in the past, so nothing counts as recently used.
// Everything random comes from -seed: the same seed on the same store repeats the same
// ActionIDs (later records win), so use another seed to add more.
//
// Usage: storegen -dir DIR -n N [-blobs K] [-seed S]
package main

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
	"time"
)

const (
	recordSize = 128
	magic      = 0x31584243 // "CBX1"
	// records per write: 8 MiB
	batchRecords = 65536
)

// stamp is what the index records of a blob file: size, change time, inode.
type stamp struct {
	digest [32]byte
	size   int64
	ctime  int64
	inode  uint64
}

func checksum(b []byte) uint64 {
	h := uint64(0xcbf29ce484222325)
	for i := 0; i+8 <= len(b); i += 8 {
		h ^= binary.LittleEndian.Uint64(b[i:])
		h *= 0x100000001b3
		h ^= h >> 29
	}
	return h
}

func encode(rec []byte, action, output *[32]byte, size, putTime, lastUse int64, s *stamp) {
	clear(rec)
	binary.LittleEndian.PutUint32(rec[0:], magic)
	copy(rec[8:40], action[:])
	copy(rec[40:72], output[:])
	binary.LittleEndian.PutUint64(rec[72:], uint64(size))
	binary.LittleEndian.PutUint64(rec[80:], uint64(putTime))
	binary.LittleEndian.PutUint64(rec[88:], uint64(lastUse))
	binary.LittleEndian.PutUint64(rec[96:], uint64(s.ctime))
	binary.LittleEndian.PutUint64(rec[104:], s.inode)
	binary.LittleEndian.PutUint64(rec[120:], checksum(rec[:120]))
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "storegen: "+format+"\n", args...)
	os.Exit(1)
}

// content returns the deterministic content of blob number i (i < 0: the shared blob).
func content(seed uint64, i int) []byte {
	r := rand.New(rand.NewPCG(seed, 0x5eed_b10b_0000_0000^uint64(int64(i))))
	n := 1000
	if i >= 0 {
		n = 100 + r.IntN(1901)
	}
	b := make([]byte, (n+7)&^7)
	for j := 0; j < len(b); j += 8 {
		binary.LittleEndian.PutUint64(b[j:], r.Uint64())
	}
	return b[:n]
}

// writeBlob publishes data under blobs (unless a blob of that digest and size is there already)
// and returns its stamp as it is on disk.
func writeBlob(blobs string, data []byte, tag int) (stamp, bool, error) {
	s := stamp{digest: sha256.Sum256(data), size: int64(len(data))}
	name := hex.EncodeToString(s.digest[:])
	dir := filepath.Join(blobs, name[:2])
	path := filepath.Join(dir, name)
	var st syscall.Stat_t
	wrote := false
	if err := syscall.Stat(path, &st); err != nil || st.Size != s.size {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return s, false, err
		}
		tmp := filepath.Join(dir, fmt.Sprintf(".tmp-storegen-%d-%d", os.Getpid(), tag))
		if err := os.WriteFile(tmp, data, 0o644); err != nil {
			return s, false, err
		}
		if err := os.Chmod(tmp, 0o444); err != nil {
			return s, false, err
		}
		if err := os.Rename(tmp, path); err != nil {
			os.Remove(tmp)
			return s, false, err
		}
		if err := syscall.Stat(path, &st); err != nil {
			return s, false, err
		}
		wrote = true
	}
	s.ctime = st.Ctim.Sec*1e9 + st.Ctim.Nsec
	s.inode = st.Ino
	return s, wrote, nil
}

func main() {
	dir := flag.String("dir", "", "the cacheprog local store directory (must hold v1/, made by cacheprog)")
	n := flag.Int("n", 0, "entries to add")
	k := flag.Int("blobs", -1, "how many of the entries get a distinct small blob of their own (default min(n, 100000)); the rest share one blob")
	seed := flag.Uint64("seed", 1, "seed of everything random (ActionIDs, blob contents, times)")
	flag.Parse()
	if *dir == "" || flag.NArg() != 0 {
		flag.Usage()
		os.Exit(2)
	}
	if *n < 0 {
		fail("-n must be at least 0")
	}
	if *k < 0 {
		*k = min(*n, 100000)
	}
	if *k > *n {
		fail("-blobs (%d) must not exceed -n (%d)", *k, *n)
	}
	root := filepath.Join(*dir, "v1")
	if st, err := os.Stat(root); err != nil || !st.IsDir() {
		fail("%s does not exist: create the store with cacheprog first (e.g. a go build with GOCACHEPROG=\"cacheprog --dir %s\")", root, *dir)
	}
	blobs := filepath.Join(root, "blobs")
	start := time.Now()

	// The blobs, written in parallel; each one's content depends only on (seed, its number).
	stamps := make([]stamp, *k)
	var written, writtenBytes int64
	var mu sync.Mutex
	var firstErr error
	jobs := make(chan int, 1024)
	var wg sync.WaitGroup
	for w := 0; w < 2*runtime.NumCPU(); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				data := content(*seed, i)
				s, wrote, err := writeBlob(blobs, data, i)
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
				}
				if wrote {
					written++
					writtenBytes += s.size
				}
				mu.Unlock()
				stamps[i] = s
			}
		}()
	}
	for i := 0; i < *k; i++ {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	var shared stamp
	if *n > *k && firstErr == nil {
		var wrote bool
		shared, wrote, firstErr = writeBlob(blobs, content(*seed, -1), -1)
		if wrote {
			written++
			writtenBytes += shared.size
		}
	}
	if firstErr != nil {
		fail("writing blobs: %v", firstErr)
	}
	blobTime := time.Since(start)

	// The index: shared lock while appending, as the helper does (a trim takes it exclusively).
	lock, err := os.OpenFile(filepath.Join(root, "lock"), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		fail("%v", err)
	}
	for {
		if err = syscall.Flock(int(lock.Fd()), syscall.LOCK_SH); err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		fail("flock %s: %v", lock.Name(), err)
	}
	indexPath := filepath.Join(root, "index")
	index, err := os.OpenFile(indexPath, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		fail("%v", err)
	}
	if st, err := index.Stat(); err == nil && st.Size()%recordSize != 0 {
		fmt.Fprintf(os.Stderr, "storegen: warning: %s is %d bytes, not a whole number of records (a torn record; the helper resynchronises past it)\n", indexPath, st.Size())
	}
	indexStart := time.Now()
	now := time.Now().UnixNano()
	const hour = int64(time.Hour)
	oldest := now - 72*hour
	r := rand.New(rand.NewPCG(*seed, 0xac7_10e5))
	buf := make([]byte, 0, batchRecords*recordSize)
	var action [32]byte
	j := 0
	for i := 0; i < *n; i++ {
		for w := 0; w < 32; w += 8 {
			binary.LittleEndian.PutUint64(action[w:], r.Uint64())
		}
		lastUse := now - 2*hour - r.Int64N(70*hour)
		putTime := oldest + r.Int64N(lastUse-oldest+1)
		// Entries with a blob of their own are spread evenly among the others.
		s := &shared
		if (uint64(i)+1)*uint64(*k)/uint64(*n) > uint64(i)*uint64(*k)/uint64(*n) {
			s = &stamps[j]
			j++
		}
		buf = buf[:len(buf)+recordSize]
		encode(buf[len(buf)-recordSize:], &action, &s.digest, s.size, putTime, lastUse, s)
		if len(buf) == cap(buf) || i == *n-1 {
			if _, err := index.Write(buf); err != nil {
				fail("appending to %s: %v", indexPath, err)
			}
			buf = buf[:0]
		}
	}
	if err := index.Close(); err != nil {
		fail("%v", err)
	}
	lock.Close()
	total := int64(0)
	if st, err := os.Stat(indexPath); err == nil {
		total = st.Size() / recordSize
	}
	sharedNote := ""
	if *n > *k {
		sharedNote = fmt.Sprintf(", %d sharing blob %x…", *n-*k, shared.digest[:6])
	}
	fmt.Fprintf(os.Stderr, "storegen: added %d entries to %s (%d with a blob of their own%s; %d new blob files, %.1f MB) in %.2f s (blobs %.2f s, index %.2f s); %s now holds %d records\n",
		*n, *dir, *k, sharedNote, written, float64(writtenBytes)/1e6, time.Since(start).Seconds(), blobTime.Seconds(), time.Since(indexStart).Seconds(), indexPath, total)
}
