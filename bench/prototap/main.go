// Command prototap sits between the go command and a GOCACHEPROG helper and writes every protocol line it
// passes on, with the milliseconds since it started, to $TAP_LOG: a timeline of when the go command asked
// and when the helper answered, without touching either.
//
//	GOCACHEPROG="prototap /path/to/cacheprog --dir ..." TAP_LOG=/tmp/tap.log go build std
//	python3 bench/prototap/timeline.py /tmp/tap.log
//
// Lines are cut at 90 bytes (put bodies are not needed for timing). The helper's stderr passes through.
package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: prototap HELPER [ARGS...] (with TAP_LOG=FILE)")
		os.Exit(2)
	}
	logFile, err := os.Create(os.Getenv("TAP_LOG"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "prototap: TAP_LOG:", err)
		os.Exit(2)
	}
	start := time.Now()
	var mu sync.Mutex
	note := func(direction string, line []byte) {
		mu.Lock()
		defer mu.Unlock()
		if len(line) > 90 {
			line = line[:90]
		}
		fmt.Fprintf(logFile, "%.3f %s %s\n", float64(time.Since(start).Microseconds())/1000, direction, line)
	}
	helper := exec.Command(os.Args[1], os.Args[2:]...)
	helper.Stderr = os.Stderr
	toHelper, _ := helper.StdinPipe()
	fromHelper, _ := helper.StdoutPipe()
	if err := helper.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "prototap:", err)
		os.Exit(1)
	}
	go func() {
		r := bufio.NewReaderSize(os.Stdin, 1<<20)
		for {
			line, err := r.ReadBytes('\n')
			if len(line) > 0 {
				note(">", line)
				toHelper.Write(line)
			}
			if err != nil {
				toHelper.Close()
				return
			}
		}
	}()
	r := bufio.NewReaderSize(fromHelper, 1<<20)
	for {
		line, err := r.ReadBytes('\n')
		if len(line) > 0 {
			note("<", line)
			os.Stdout.Write(line)
		}
		if err == io.EOF || err != nil {
			break
		}
	}
	helper.Wait()
	mu.Lock()
	logFile.Close()
}
