// Command protobench drives a GOCACHEPROG helper exactly as the go command does
// (cmd/go/internal/cache/prog.go) and measures get-hit round trips, put throughput
// and the helper's peak RSS while a large put streams through.
package main

import (
	"bufio"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand"
	"os"
	"os/exec"
	"sort"
	"strings"
	"time"
)

type request struct {
	ID       int64
	Command  string
	ActionID []byte `json:",omitempty"`
	OutputID []byte `json:",omitempty"`
	BodySize int64  `json:",omitempty"`
}

type response struct {
	ID            int64
	Err           string   `json:",omitempty"`
	KnownCommands []string `json:",omitempty"`
	Miss          bool     `json:",omitempty"`
	OutputID      []byte   `json:",omitempty"`
	Size          int64    `json:",omitempty"`
	Time          *time.Time
	DiskPath      string `json:",omitempty"`
}

type helper struct {
	cmd  *exec.Cmd
	bw   *bufio.Writer
	enc  *json.Encoder
	dec  *json.Decoder
	next int64
}

func start(prog string, args ...string) *helper {
	cmd := exec.Command(prog, args...)
	cmd.Stderr = os.Stderr
	in, _ := cmd.StdinPipe()
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		panic(err)
	}
	h := &helper{cmd: cmd, bw: bufio.NewWriter(in), dec: json.NewDecoder(out)}
	h.enc = json.NewEncoder(h.bw)
	var caps response
	if err := h.dec.Decode(&caps); err != nil {
		panic(err)
	}
	return h
}

func (h *helper) send(req *request, body io.Reader) response {
	h.next++
	req.ID = h.next
	h.enc.Encode(req)
	h.bw.WriteByte('\n')
	if body != nil && req.BodySize > 0 {
		h.bw.WriteByte('"')
		e := base64.NewEncoder(base64.StdEncoding, h.bw)
		io.Copy(e, body)
		e.Close()
		h.bw.WriteString("\"\n")
	}
	h.bw.Flush()
	var res response
	if err := h.dec.Decode(&res); err != nil {
		panic(err)
	}
	if res.Err != "" {
		panic(res.Err)
	}
	return res
}

func (h *helper) close() {
	h.send(&request{Command: "close"}, nil)
	h.cmd.Wait()
}

func peakRSS(pid int) int64 {
	data, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			var kb int64
			fmt.Sscanf(strings.TrimSpace(strings.TrimPrefix(line, "VmHWM:")), "%d", &kb)
			return kb * 1024
		}
	}
	return 0
}

type randReader struct{ r *rand.Rand }

func (r randReader) Read(p []byte) (int, error) { return r.r.Read(p) }

func main() {
	prog := flag.String("prog", "", "helper binary")
	dir := flag.String("dir", "", "store directory")
	entries := flag.Int("entries", 1100, "entries to put, then get")
	rounds := flag.Int("rounds", 5, "get rounds over all entries")
	bigMiB := flag.Int64("big", 256, "size of the large put in MiB")
	flag.Parse()

	h := start(*prog, "--dir", *dir, "--trim-interval", "0")
	rng := rand.New(rand.NewSource(1))
	ids := make([][]byte, *entries)
	var putBytes int64
	putStart := time.Now()
	for i := range ids {
		body := make([]byte, 512+rng.Intn(64<<10))
		rng.Read(body)
		sum := sha256.Sum256(body)
		a := sha256.Sum256([]byte(fmt.Sprintf("action-%d-%d", time.Now().UnixNano(), i)))
		ids[i] = a[:]
		h.send(&request{Command: "put", ActionID: a[:], OutputID: sum[:], BodySize: int64(len(body))}, strings.NewReader(string(body)))
		putBytes += int64(len(body))
	}
	putSmall := time.Since(putStart)
	h.close()

	// Gets from a fresh process, as a warm build does.
	h = start(*prog, "--dir", *dir, "--trim-interval", "0")
	var lat []time.Duration
	for r := 0; r < *rounds; r++ {
		for _, a := range ids {
			t := time.Now()
			res := h.send(&request{Command: "get", ActionID: a}, nil)
			lat = append(lat, time.Since(t))
			if res.Miss {
				panic("unexpected miss")
			}
		}
	}
	h.close()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	pct := func(p float64) time.Duration { return lat[int(float64(len(lat)-1)*p)] }

	// A large put, streamed.
	h = start(*prog, "--dir", *dir, "--trim-interval", "0")
	size := *bigMiB << 20
	hasher := sha256.New()
	io.CopyN(hasher, randReader{rand.New(rand.NewSource(2))}, size)
	var out [32]byte
	copy(out[:], hasher.Sum(nil))
	a := sha256.Sum256([]byte(fmt.Sprintf("big-%d", time.Now().UnixNano())))
	bigStart := time.Now()
	h.send(&request{Command: "put", ActionID: a[:], OutputID: out[:], BodySize: size},
		io.LimitReader(randReader{rand.New(rand.NewSource(2))}, size))
	bigTime := time.Since(bigStart)
	rss := peakRSS(h.cmd.Process.Pid)
	h.close()

	fmt.Printf("get-hit round trip: p50 %.1f µs, p99 %.1f µs over %d gets\n",
		float64(pct(0.50).Nanoseconds())/1e3, float64(pct(0.99).Nanoseconds())/1e3, len(lat))
	fmt.Printf("small puts: %d puts, %.1f MB/s (%.1f µs per put)\n", *entries,
		float64(putBytes)/putSmall.Seconds()/1e6, float64(putSmall.Microseconds())/float64(*entries))
	fmt.Printf("large put: %d MiB in %.2f s = %.0f MB/s; helper peak RSS %.1f MB\n",
		*bigMiB, bigTime.Seconds(), float64(size)/bigTime.Seconds()/1e6, float64(rss)/1e6)
}
