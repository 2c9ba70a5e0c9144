// Command floorprog is the "protocol floor" of the store-size benchmark (bench/store-scale.sh):
// a minimal GOCACHEPROG helper that answers every get from an in-memory map prepared before the
// timed runs, with no file system access while serving. What a warm no-op build costs through
// it is what the GOCACHEPROG protocol itself costs; cacheprog is compared with it.
//
//	floorprog -prepare -gocache DIR -out MAPFILE   # map a populated built-in GOCACHE
//	GOCACHEPROG="floorprog -map MAPFILE" go build std
//
// The map file (this program's own format) is "floormap1\n" followed by one record per
// action: the 32-byte ActionID, a little-endian uint32 length, and that many bytes of the
// get response's JSON after its ID (`,"OutputID":…,"Size":…,"Time":…,"DiskPath":…}` and a
// newline), so a hit is a map lookup and two copies. DiskPath is the built-in cache's own
// `-d` file. A put (which a warm no-op build never sends) is answered with an error and
// reported on stderr.
//
// Protocol: cmd/go/internal/cacheprog (types) and cmd/go/internal/cache/prog.go (the go
// command's side): JSON requests one per line (each followed by an empty line), a put with
// BodySize > 0 followed by a line holding the body as a base64 JSON string; JSON responses
// one per line, the first `{"ID":0,"KnownCommands":["get","put","close"]}`.
package main

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"time"
)

const mapMagic = "floormap1\n"

// The go command's action entry file, cmd/go/internal/cache/cache.go:
// "v1 <hex id> <hex out> <decimal size space-padded to 20 bytes> <unixnano space-padded to 20 bytes>\n".
const (
	hexSize   = 64
	entrySize = 2 + 1 + hexSize + 1 + hexSize + 1 + 20 + 1 + 20 + 1
)

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "floorprog: "+format+"\n", args...)
	os.Exit(1)
}

// parseEntry parses an action entry file as cmd/go's DiskCache.get does.
func parseEntry(b []byte) (action, output [32]byte, size, tm int64, err error) {
	if len(b) != entrySize || b[0] != 'v' || b[1] != '1' || b[2] != ' ' || b[3+hexSize] != ' ' ||
		b[3+2*hexSize+1] != ' ' || b[3+2*hexSize+2+20] != ' ' || b[entrySize-1] != '\n' {
		err = errors.New("invalid entry")
		return
	}
	if _, err = hex.Decode(action[:], b[3:3+hexSize]); err != nil {
		return
	}
	if _, err = hex.Decode(output[:], b[4+hexSize:4+2*hexSize]); err != nil {
		return
	}
	num := func(f []byte) (int64, error) {
		return strconv.ParseInt(string(bytes.TrimLeft(f, " ")), 10, 64)
	}
	f := b[5+2*hexSize:]
	if size, err = num(f[:20]); err != nil {
		return
	}
	tm, err = num(f[21:41])
	return
}

// prepare writes the map file of every entry of the built-in cache gocache whose output file exists.
func prepare(gocache, out string) {
	gocache, err := filepath.Abs(gocache)
	if err != nil {
		fail("%v", err)
	}
	var buf bytes.Buffer
	buf.WriteString(mapMagic)
	var n, bad, missing int
	for i := 0; i < 256; i++ {
		sub := filepath.Join(gocache, fmt.Sprintf("%02x", i))
		names, err := os.ReadDir(sub)
		if err != nil {
			if os.IsNotExist(err) {
				continue
			}
			fail("%v", err)
		}
		for _, e := range names {
			if !strings.HasSuffix(e.Name(), "-a") {
				continue
			}
			data, err := os.ReadFile(filepath.Join(sub, e.Name()))
			if err != nil {
				fail("%v", err)
			}
			action, output, size, tm, err := parseEntry(data)
			if err != nil || hex.EncodeToString(action[:])+"-a" != e.Name() || size < 0 || tm < 0 {
				bad++
				continue
			}
			outHex := hex.EncodeToString(output[:])
			diskPath := filepath.Join(gocache, outHex[:2], outHex+"-d")
			if st, err := os.Stat(diskPath); err != nil || st.Size() != size {
				missing++
				continue
			}
			// The response after its ID, as encoding/json writes cacheprog.Response.
			t := time.Unix(0, tm).UTC()
			outJSON, _ := json.Marshal(output[:])
			timeJSON, _ := json.Marshal(t)
			pathJSON, _ := json.Marshal(diskPath)
			tail := fmt.Sprintf(`,"OutputID":%s,"Size":%d,"Time":%s,"DiskPath":%s}`+"\n", outJSON, size, timeJSON, pathJSON)
			buf.Write(action[:])
			buf.Write(binary.LittleEndian.AppendUint32(nil, uint32(len(tail))))
			buf.WriteString(tail)
			n++
		}
	}
	if n == 0 {
		fail("no usable entries in %s (not a populated GOCACHE?)", gocache)
	}
	tmp := out + ".tmp"
	if err := os.WriteFile(tmp, buf.Bytes(), 0o644); err != nil {
		fail("%v", err)
	}
	if err := os.Rename(tmp, out); err != nil {
		fail("%v", err)
	}
	fmt.Fprintf(os.Stderr, "floorprog: mapped %d actions of %s into %s (%d bytes); skipped %d invalid entries, %d without their output file\n",
		n, gocache, out, buf.Len(), bad, missing)
}

// loadMap reads the map file once; the responses are slices of its bytes.
func loadMap(path string) map[[32]byte][]byte {
	data, err := os.ReadFile(path)
	if err != nil {
		fail("%v", err)
	}
	if !bytes.HasPrefix(data, []byte(mapMagic)) {
		fail("%s is not a floorprog map file", path)
	}
	m := make(map[[32]byte][]byte, len(data)/300)
	for p := data[len(mapMagic):]; len(p) > 0; {
		if len(p) < 36 {
			fail("%s: truncated", path)
		}
		var a [32]byte
		copy(a[:], p)
		l := int(binary.LittleEndian.Uint32(p[32:]))
		if len(p) < 36+l {
			fail("%s: truncated", path)
		}
		m[a] = p[36 : 36+l : 36+l]
		p = p[36+l:]
	}
	return m
}

// request holds the fields of a request this helper uses.
type request struct {
	ID       int64
	Command  string
	ActionID []byte
	BodySize int64
	buf      [48]byte // ActionID's bytes when parsed by parseFast
}

// parseFast parses a request line as encoding/json writes cacheprog.Request: a flat object
// whose values are integers or strings without escapes. ok is false for anything else.
func parseFast(line []byte, r *request) (ok bool) {
	p := bytes.TrimRight(line, "\r\n ")
	if len(p) < 2 || p[0] != '{' || p[len(p)-1] != '}' {
		return false
	}
	p = p[1 : len(p)-1]
	for len(p) > 0 {
		if p[0] != '"' {
			return false
		}
		end := bytes.IndexByte(p[1:], '"')
		if end < 0 || len(p) < end+3 || p[end+2] != ':' {
			return false
		}
		key := p[1 : end+1]
		p = p[end+3:]
		var val []byte
		isString := len(p) > 0 && p[0] == '"'
		if isString {
			end = bytes.IndexByte(p[1:], '"')
			if end < 0 || bytes.IndexByte(p[1:end+1], '\\') >= 0 {
				return false
			}
			val = p[1 : end+1]
			p = p[end+2:]
		} else {
			end = bytes.IndexByte(p, ',')
			if end < 0 {
				end = len(p)
			}
			val = p[:end]
			p = p[end:]
			if len(val) == 0 || val[0] == '{' || val[0] == '[' {
				return false // an object or array: leave it to encoding/json
			}
		}
		if len(p) > 0 {
			if p[0] != ',' {
				return false
			}
			p = p[1:]
		}
		var err error
		switch string(key) {
		case "ID":
			r.ID, err = strconv.ParseInt(string(val), 10, 64)
		case "Command":
			r.Command = string(val)
		case "ActionID", "ObjectID": // ObjectID: Go 1.21-1.23's name
			if !isString || base64.StdEncoding.DecodedLen(len(val)) > len(r.buf) {
				return false
			}
			var n int
			n, err = base64.StdEncoding.Decode(r.buf[:], val)
			r.ActionID = r.buf[:n]
		case "BodySize":
			r.BodySize, err = strconv.ParseInt(string(val), 10, 64)
		default:
			// OutputID, or a field of a later protocol version: not needed here.
		}
		if err != nil {
			return false
		}
	}
	return true
}

func parseRequest(line []byte, r *request) error {
	*r = request{}
	if parseFast(line, r) {
		return nil
	}
	*r = request{}
	var full struct {
		ID       int64
		Command  string
		ActionID []byte
		ObjectID []byte // Go 1.21-1.23's name of ActionID
		BodySize int64
	}
	if err := json.Unmarshal(line, &full); err != nil {
		return err
	}
	r.ID, r.Command, r.ActionID, r.BodySize = full.ID, full.Command, full.ActionID, full.BodySize
	if r.ActionID == nil {
		r.ActionID = full.ObjectID
	}
	return nil
}

// server holds the connection to the go command.
type server struct {
	in   *bufio.Reader
	out  *bufio.Writer
	m    map[[32]byte][]byte
	puts int
	num  []byte
}

// readLine returns the next line (including its newline), flushing the responses written so
// far before any read that would block: the go command waits for them.
func (s *server) readLine() ([]byte, error) {
	if s.in.Buffered() == 0 {
		if err := s.out.Flush(); err != nil {
			return nil, err
		}
	}
	line, err := s.in.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		// A long line (only a put body can be one): gather it.
		long := append([]byte(nil), line...)
		for err == bufio.ErrBufferFull {
			line, err = s.in.ReadSlice('\n')
			long = append(long, line...)
		}
		line = long
	}
	return line, err
}

// skipLine discards the rest of a line, however long (a put body).
func (s *server) skipLine() error {
	for {
		if s.in.Buffered() == 0 {
			if err := s.out.Flush(); err != nil {
				return err
			}
		}
		_, err := s.in.ReadSlice('\n')
		if err != bufio.ErrBufferFull {
			return err
		}
	}
}

func (s *server) writeID(id int64) {
	s.num = strconv.AppendInt(s.num[:0], id, 10)
	s.out.WriteString(`{"ID":`)
	s.out.Write(s.num)
}

func (s *server) writeErr(id int64, msg string) {
	s.writeID(id)
	s.out.WriteString(`,"Err":`)
	b, _ := json.Marshal(msg)
	s.out.Write(b)
	s.out.WriteString("}\n")
}

func (s *server) serve() error {
	var r request
	for {
		line, err := s.readLine()
		if len(bytes.TrimSpace(line)) == 0 {
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return err
			}
			continue // the empty line after each request
		}
		if perr := parseRequest(line, &r); perr != nil {
			return fmt.Errorf("malformed request %q: %v", bytes.TrimSpace(line), perr)
		}
		switch r.Command {
		case "get":
			var a [32]byte
			if len(r.ActionID) == 32 {
				copy(a[:], r.ActionID)
				if tail, ok := s.m[a]; ok {
					s.writeID(r.ID)
					s.out.Write(tail)
					break
				}
			}
			s.writeID(r.ID)
			s.out.WriteString(",\"Miss\":true}\n")
		case "put":
			if r.BodySize > 0 {
				if err := s.skipLine(); err != nil {
					return fmt.Errorf("reading the body of put %d: %v", r.ID, err)
				}
			}
			s.puts++
			if s.puts == 1 {
				fmt.Fprintf(os.Stderr, "floorprog: warning: put of action %x (%d bytes) in what should be a warm no-op build; answered with an error\n", r.ActionID, r.BodySize)
			}
			s.writeErr(r.ID, "floorprog serves a prepared map only: put is not supported")
		case "close":
			s.writeID(r.ID)
			s.out.WriteString("}\n")
			return s.out.Flush()
		default:
			s.writeErr(r.ID, "floorprog: unknown command "+strconv.Quote(r.Command))
		}
		if err == io.EOF {
			return nil
		}
	}
}

func main() {
	prep := flag.Bool("prepare", false, "write the map file of a populated built-in GOCACHE (-gocache, -out)")
	gocache := flag.String("gocache", "", "with -prepare: the built-in cache directory to map")
	out := flag.String("out", "", "with -prepare: the map file to write")
	mapFile := flag.String("map", "", "serve gets from this map file (the GOCACHEPROG mode)")
	flag.Parse()
	if *prep {
		if *gocache == "" || *out == "" {
			fail("-prepare needs -gocache DIR and -out FILE")
		}
		prepare(*gocache, *out)
		return
	}
	if *mapFile == "" {
		flag.Usage()
		os.Exit(2)
	}
	// A helper process lives for one go command and allocates little: no collections.
	debug.SetGCPercent(-1)
	s := &server{
		in:  bufio.NewReaderSize(os.Stdin, 64<<10),
		out: bufio.NewWriterSize(os.Stdout, 64<<10),
		num: make([]byte, 0, 24),
	}
	// The capabilities first (the go command waits for them), then the map.
	s.out.WriteString(`{"ID":0,"KnownCommands":["get","put","close"]}` + "\n")
	if err := s.out.Flush(); err != nil {
		fail("%v", err)
	}
	s.m = loadMap(*mapFile)
	err := s.serve()
	if s.puts > 0 {
		fmt.Fprintf(os.Stderr, "floorprog: warning: %d puts answered with an error (the map should cover a warm no-op build)\n", s.puts)
	}
	if err != nil {
		fail("%v", err)
	}
}
