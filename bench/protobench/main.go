// Command protobench drives a GOCACHEPROG helper exactly as the go command does
// (cmd/go/internal/cache/prog.go) and measures get-hit round trips, put throughput
// and the helper's peak RSS while a large put streams through.
//
// With -startup N -action HEX it measures instead, N times, a helper's start on an existing
// store: from starting `prog --dir DIR` to its capabilities line and to the answer of one get
// (sent at once) for ActionID HEX, which must be a hit (bench/store-scale.sh).
package main

import (
	"bufio"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
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

// startup measures n starts of prog on store dir, each answering one get for action.
func startup(prog, dir string, action []byte, n int) {
	var toCaps, toAnswer []time.Duration
	for i := 0; i < n; i++ {
		cmd := exec.Command(prog, "--dir", dir)
		cmd.Stderr = os.Stderr
		in, _ := cmd.StdinPipe()
		out, _ := cmd.StdoutPipe()
		bw := bufio.NewWriter(in)
		dec := json.NewDecoder(bufio.NewReader(out))
		// The request is encoded before the clock starts and lies in the pipe when the
		// helper first reads it.
		req, _ := json.Marshal(&request{ID: 1, Command: "get", ActionID: action})
		t0 := time.Now()
		if err := cmd.Start(); err != nil {
			panic(err)
		}
		bw.Write(req)
		bw.WriteString("\n\n")
		bw.Flush()
		var caps, res response
		if err := dec.Decode(&caps); err != nil {
			panic(err)
		}
		t1 := time.Now()
		if err := dec.Decode(&res); err != nil {
			panic(err)
		}
		t2 := time.Now()
		if res.Err != "" || res.Miss || res.ID != 1 {
			fmt.Fprintf(os.Stderr, "protobench: the get of %x was not a hit: %+v\n", action, res)
			os.Exit(1)
		}
		toCaps = append(toCaps, t1.Sub(t0))
		toAnswer = append(toAnswer, t2.Sub(t0))
		bw.WriteString(`{"ID":2,"Command":"close"}` + "\n\n")
		bw.Flush()
		dec.Decode(&res)
		in.Close()
		cmd.Wait()
	}
	stats := func(d []time.Duration) string {
		sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
		med := d[len(d)/2]
		if len(d)%2 == 0 {
			med = (d[len(d)/2-1] + d[len(d)/2]) / 2
		}
		ms := func(x time.Duration) float64 { return float64(x.Nanoseconds()) / 1e6 }
		return fmt.Sprintf("min %.2f median %.2f max %.2f ms", ms(d[0]), ms(med), ms(d[len(d)-1]))
	}
	fmt.Printf("start to capabilities: %s (%d starts)\n", stats(toCaps), n)
	fmt.Printf("start to first answer: %s (%d starts)\n", stats(toAnswer), n)
}

func main() {
	prog := flag.String("prog", "", "helper binary")
	dir := flag.String("dir", "", "store directory")
	entries := flag.Int("entries", 1100, "entries to put, then get")
	rounds := flag.Int("rounds", 5, "get rounds over all entries")
	bigMiB := flag.Int64("big", 256, "size of the large put in MiB")
	starts := flag.Int("startup", 0, "measure this many starts on the existing store -dir instead (with -action)")
	actionHex := flag.String("action", "", "with -startup: the ActionID (hex) of an entry of the store")
	flag.Parse()
	if *starts > 0 {
		action, err := hex.DecodeString(*actionHex)
		if err != nil || len(action) != 32 {
			fmt.Fprintln(os.Stderr, "protobench: -startup needs -action with 64 hex digits")
			os.Exit(2)
		}
		startup(*prog, *dir, action, *starts)
		return
	}

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
