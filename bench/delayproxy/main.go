// Command delayproxy is a TCP proxy on loopback that adds a fixed one-way delay in each direction: the
// Go replacement for bench/delay-proxy.py, used by bench/latency.sh to put a far remote in front of a
// local server (nginx, the S3 gateway of SeaweedFS, BuildGrid's gRPC port: anything over plain TCP).
//
//	delayproxy -listen 8081 -target 8080 -delay 25    # 25 ms each way: 50 ms RTT
//	delayproxy -map 8081:8080 -map 8082:8080:75       # several pairs in one process; DELAY_MS defaults to -delay
//	delayproxy -selftest [-bytes N] [-python bench/delay-proxy.py]
//
// Same model as the Python proxy: every byte takes -delay ms more each way, and a new connection first
// pays one round trip (the handshake a real link would cost) before any of its data moves. Data is
// delayed, not throttled: each read (up to 256 KiB) is timestamped on arrival and forwarded in order once
// its delay has passed, everything then due in one write, so a pipelined transfer keeps its bandwidth. A
// direction holds at most 64 MiB in flight (enough for 400 MB/s at 150 ms one way) before it stops
// reading, which TCP's own flow control then passes on to the sender. A clean end of stream is passed on
// as a half-close after the same delay; a reset or failed write closes both sides.
//
// -selftest measures the proxy's own capacity, so that a benchmark can show the proxy is not what it
// measures: a sink server on loopback, then the same transfers straight to it, through this proxy at
// 0 ms (a child process, as a benchmark runs it) and through the Python proxy at 0 ms: -bytes (2 GiB)
// up in one connection, down in one connection, down in 4 connections at once, and 2,000 round trips of
// 64 bytes (a request/response's cost). The proxies' CPU time is reported too.
package main

import (
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

const (
	readSize  = 256 << 10 // bytes per read
	minRead   = 64 << 10  // a read buffer with less room left is replaced by a new one
	maxQueued = 64 << 20  // bytes in flight per direction before the reader waits
)

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "delayproxy: "+format+"\n", args...)
	os.Exit(1)
}

// A chunk is one read's data and when it is due at the other side; eof marks the end of the stream (a
// reset when err is set).
type chunk struct {
	due  time.Time
	data []byte
	eof  bool
	err  bool
}

// A queue carries one direction's chunks from its reader to its writer, holding at most maxQueued bytes.
type queue struct {
	mu      sync.Mutex
	canPush *sync.Cond
	canTake *sync.Cond
	items   []chunk
	spare   []chunk
	bytes   int
	dead    bool
}

func newQueue() *queue {
	q := &queue{}
	q.canPush = sync.NewCond(&q.mu)
	q.canTake = sync.NewCond(&q.mu)
	return q
}

// push appends c, waiting while the queue is full; false once the queue is dead.
func (q *queue) push(c chunk) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	for q.bytes >= maxQueued && !q.dead {
		q.canPush.Wait()
	}
	if q.dead {
		return false
	}
	q.items = append(q.items, c)
	q.bytes += len(c.data)
	q.canTake.Signal()
	return true
}

// take waits for at least one chunk and returns all queued ones, in order; false once the queue is dead.
// The slice is the queue's until the next take.
func (q *queue) take() ([]chunk, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.items) == 0 && !q.dead {
		q.canTake.Wait()
	}
	if q.dead {
		return nil, false
	}
	items := q.items
	clear(q.spare)
	q.items, q.spare = q.spare[:0], items
	return items, true
}

// release returns n written bytes to the queue's budget.
func (q *queue) release(n int) {
	q.mu.Lock()
	q.bytes -= n
	q.mu.Unlock()
	q.canPush.Signal()
}

func (q *queue) kill() {
	q.mu.Lock()
	q.dead = true
	q.mu.Unlock()
	q.canPush.Broadcast()
	q.canTake.Broadcast()
}

// read timestamps everything src sends and queues it, until the end of the stream or a dead queue.
func read(src *net.TCPConn, q *queue, delay time.Duration) {
	buf := make([]byte, readSize)
	for {
		if len(buf) < minRead {
			buf = make([]byte, readSize)
		}
		n, err := src.Read(buf)
		if n > 0 {
			if !q.push(chunk{due: time.Now().Add(delay), data: buf[:n:n]}) {
				return
			}
			buf = buf[n:]
		}
		if err != nil {
			q.push(chunk{due: time.Now().Add(delay), eof: true, err: !errors.Is(err, io.EOF)})
			return
		}
	}
}

// write forwards q's chunks to dst as they fall due, each run of due chunks in one write.
func write(dst *net.TCPConn, q *queue, abort func()) {
	var backing [][]byte
	for {
		items, ok := q.take()
		if !ok {
			return
		}
		for i := 0; i < len(items); {
			if d := time.Until(items[i].due); d > 0 {
				time.Sleep(d)
			}
			if items[i].eof {
				if items[i].err {
					abort()
				} else {
					dst.CloseWrite()
				}
				return
			}
			now := time.Now()
			backing = backing[:0]
			n, j := 0, i
			for ; j < len(items) && !items[j].eof && !items[j].due.After(now); j++ {
				backing = append(backing, items[j].data)
				n += len(items[j].data)
			}
			bufs := net.Buffers(backing)
			if _, err := bufs.WriteTo(dst); err != nil {
				abort()
				return
			}
			q.release(n)
			i = j
		}
	}
}

func handle(client *net.TCPConn, target string, delay time.Duration) {
	defer client.Close()
	c, err := net.Dial("tcp", target)
	if err != nil {
		fmt.Fprintf(os.Stderr, "delayproxy: %v\n", err)
		return
	}
	upstream := c.(*net.TCPConn)
	defer upstream.Close()
	// The connection set-up also pays the round trip.
	time.Sleep(2 * delay)
	up, down := newQueue(), newQueue()
	var once sync.Once
	abort := func() {
		once.Do(func() {
			up.kill()
			down.kill()
			client.Close()
			upstream.Close()
		})
	}
	var wg sync.WaitGroup
	wg.Add(4)
	go func() { defer wg.Done(); read(client, up, delay) }()
	go func() { defer wg.Done(); write(upstream, up, abort) }()
	go func() { defer wg.Done(); read(upstream, down, delay) }()
	go func() { defer wg.Done(); write(client, down, abort) }()
	wg.Wait()
}

func serve(listen, target int, delay time.Duration) error {
	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", listen))
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "delayproxy: 127.0.0.1:%d -> 127.0.0.1:%d, %v each way\n", listen, target, delay)
	addr := fmt.Sprintf("127.0.0.1:%d", target)
	for {
		c, err := l.Accept()
		if err != nil {
			return err
		}
		go handle(c.(*net.TCPConn), addr, delay)
	}
}

type mapping struct {
	listen, target int
	delay          time.Duration
	hasDelay       bool
}

type mappings []mapping

func (m *mappings) String() string { return fmt.Sprint(*m) }

func (m *mappings) Set(s string) error {
	f := strings.Split(s, ":")
	if len(f) < 2 || len(f) > 3 {
		return errors.New("want LISTEN:TARGET[:DELAY_MS]")
	}
	var p mapping
	var err error
	if p.listen, err = strconv.Atoi(f[0]); err != nil {
		return err
	}
	if p.target, err = strconv.Atoi(f[1]); err != nil {
		return err
	}
	if len(f) == 3 {
		ms, err := strconv.ParseFloat(f[2], 64)
		if err != nil {
			return err
		}
		p.delay, p.hasDelay = milliseconds(ms), true
	}
	*m = append(*m, p)
	return nil
}

func milliseconds(ms float64) time.Duration { return time.Duration(ms * float64(time.Millisecond)) }

func main() {
	listen := flag.Int("listen", 0, "port to listen on (127.0.0.1)")
	target := flag.Int("target", 0, "port to forward to (127.0.0.1)")
	delay := flag.Float64("delay", 25, "one-way delay in ms (the round trip is twice this)")
	var maps mappings
	flag.Var(&maps, "map", "LISTEN:TARGET[:DELAY_MS], repeatable: more pairs in one process")
	self := flag.Bool("selftest", false, "measure the proxy's own throughput and exit")
	total := flag.Int64("bytes", 2<<30, "selftest: bytes per transfer")
	python := flag.String("python", "bench/delay-proxy.py", "selftest: the Python proxy to compare with (empty: none)")
	flag.Parse()
	if *self {
		selftest(*total, *python)
		return
	}
	if *listen != 0 || *target != 0 {
		if *listen == 0 || *target == 0 {
			fail("-listen and -target go together")
		}
		maps = append(maps, mapping{listen: *listen, target: *target})
	}
	if len(maps) == 0 {
		fail("nothing to do: give -listen and -target, -map, or -selftest")
	}
	errs := make(chan error)
	for _, m := range maps {
		if !m.hasDelay {
			m.delay = milliseconds(*delay)
		}
		go func() { errs <- serve(m.listen, m.target, m.delay) }()
	}
	fail("%v", <-errs)
}

// Self-test.

// The sink's protocol: a 9-byte request (mode, size as big-endian uint64), then for 'U' the client sends
// size bytes and the sink answers with the 8-byte count it received; for 'D' the sink sends size bytes
// and half-closes; for 'E' the sink echoes everything until the end of the stream.
func sink(c net.Conn) {
	defer c.Close()
	var h [9]byte
	if _, err := io.ReadFull(c, h[:]); err != nil {
		return
	}
	size := int64(binary.BigEndian.Uint64(h[1:]))
	buf := make([]byte, readSize)
	switch h[0] {
	case 'U':
		var got int64
		for got < size {
			n, err := c.Read(buf)
			got += int64(n)
			if err != nil {
				break
			}
		}
		binary.BigEndian.PutUint64(h[1:], uint64(got))
		c.Write(h[1:])
		io.Copy(io.Discard, c)
	case 'D':
		for sent := int64(0); sent < size; {
			n := min(int64(len(buf)), size-sent)
			if _, err := c.Write(buf[:n]); err != nil {
				return
			}
			sent += n
		}
		c.(*net.TCPConn).CloseWrite()
		io.Copy(io.Discard, c)
	case 'E':
		io.CopyBuffer(c, struct{ io.Reader }{c}, buf)
	}
}

func dial(port int, mode byte, size int64) net.Conn {
	c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		fail("selftest: %v", err)
	}
	var h [9]byte
	h[0] = mode
	binary.BigEndian.PutUint64(h[1:], uint64(size))
	if _, err := c.Write(h[:]); err != nil {
		fail("selftest: %v", err)
	}
	return c
}

// upload sends size bytes in one connection; MB/s.
func upload(port int, size int64) float64 {
	t := time.Now()
	c := dial(port, 'U', size)
	defer c.Close()
	buf := make([]byte, readSize)
	for sent := int64(0); sent < size; {
		n := min(int64(len(buf)), size-sent)
		if _, err := c.Write(buf[:n]); err != nil {
			fail("selftest: upload: %v", err)
		}
		sent += n
	}
	var r [8]byte
	if _, err := io.ReadFull(c, r[:]); err != nil || int64(binary.BigEndian.Uint64(r[:])) != size {
		fail("selftest: upload: the sink did not receive everything (%v)", err)
	}
	return float64(size) / time.Since(t).Seconds() / 1e6
}

// download receives size bytes split over streams connections at once; MB/s of all of them.
func download(port int, size int64, streams int) float64 {
	t := time.Now()
	var wg sync.WaitGroup
	for i := 0; i < streams; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			part := size / int64(streams)
			c := dial(port, 'D', part)
			defer c.Close()
			buf := make([]byte, readSize)
			var got int64
			for {
				n, err := c.Read(buf)
				got += int64(n)
				if err != nil {
					break
				}
			}
			if got != part {
				fail("selftest: download: %d of %d bytes", got, part)
			}
		}()
	}
	wg.Wait()
	return float64(size) / time.Since(t).Seconds() / 1e6
}

// roundTrips sends n requests of 64 bytes one after another, each after the previous one's echo; µs each.
func roundTrips(port, n int) float64 {
	c := dial(port, 'E', 0)
	defer c.Close()
	var b [64]byte
	ping := func() {
		if _, err := c.Write(b[:]); err != nil {
			fail("selftest: round trip: %v", err)
		}
		if _, err := io.ReadFull(c, b[:]); err != nil {
			fail("selftest: round trip: %v", err)
		}
	}
	ping() // the connection's set-up
	t := time.Now()
	for i := 0; i < n; i++ {
		ping()
	}
	return float64(time.Since(t).Microseconds()) / float64(n)
}

func freePort() int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fail("selftest: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func waitPort(port int, cmd *exec.Cmd) {
	for i := 0; i < 500; i++ {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			c.Close()
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	cmd.Process.Kill()
	fail("selftest: %v does not listen on port %d", cmd.Args, port)
}

func selftest(size int64, python string) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fail("selftest: %v", err)
	}
	sinkPort := l.Addr().(*net.TCPAddr).Port
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go sink(c)
		}
	}()
	const pings = 2000
	fmt.Printf("delayproxy selftest: %d MiB per transfer, %d round trips of 64 bytes, proxies at 0 ms\n",
		size>>20, pings)
	measure := func(name string, port int) string {
		return fmt.Sprintf("%-22s up %5.0f MB/s, down %5.0f MB/s, down in 4 streams %5.0f MB/s; round trip %4.0f µs",
			name+":", upload(port, size), download(port, size, 1), download(port, size, 4), roundTrips(port, pings))
	}
	fmt.Println(measure("direct", sinkPort))
	through := func(name string, cmd *exec.Cmd, port int) {
		cmd.Stderr = io.Discard
		if err := cmd.Start(); err != nil {
			fmt.Printf("%-22s not run: %v\n", name+":", err)
			return
		}
		waitPort(port, cmd)
		line := measure(name, port)
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
		user, sys := cmd.ProcessState.UserTime(), cmd.ProcessState.SystemTime()
		moved := float64(3*size) / 1e9
		fmt.Printf("%s; proxy CPU %.2f s (user %.2f, system %.2f; %.2f s per GB moved)\n",
			line, (user + sys).Seconds(), user.Seconds(), sys.Seconds(), (user+sys).Seconds()/moved)
	}
	exe, err := os.Executable()
	if err != nil {
		fail("selftest: %v", err)
	}
	p := freePort()
	through("go delayproxy", exec.Command(exe, "-map", fmt.Sprintf("%d:%d", p, sinkPort), "-delay", "0"), p)
	if python != "" {
		if _, err := os.Stat(python); err != nil {
			fmt.Printf("python proxy: not run: %v\n", err)
			return
		}
		p = freePort()
		through("python delay-proxy.py", exec.Command("python3", python, strconv.Itoa(p), strconv.Itoa(sinkPort), "0"), p)
	}
}
