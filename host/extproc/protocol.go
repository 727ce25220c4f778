package extproc

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
)

// Version is the protocol version this bridge speaks.
const Version = 1

// MaxLine bounds one line from the child (16 MiB); a longer line is a
// protocol error of the trial.
const MaxLine = 16 << 20

// quoteMax is how much of a bad line an error quotes.
const quoteMax = 200

// Request is the eval line sent to the child (docs/evaluators.md).
type Request struct {
	Type      string             `json:"type"` // "eval"
	ID        uint64             `json:"id"`
	Trial     int                `json:"trial"`
	Iteration int                `json:"iteration"`
	Candidate int                `json:"candidate"`
	Attempt   int                `json:"attempt"`
	Worker    int                `json:"worker"`
	X         []float64          `json:"x"`
	XNamed    map[string]float64 `json:"x_named"`
	W         []float64          `json:"w"`
	Env       RequestEnv         `json:"env"`
}

// RequestEnv is the environment w of a request: its index in the run's
// environment list (-1 for a continuous w) and its id ("" when the list has
// none).
type RequestEnv struct {
	Index int    `json:"index"`
	ID    string `json:"id"`
}

// args is what host/run puts in worker.Request.Args (run.RequestArgs).
type args struct {
	Trial     *int     `json:"trial"`
	Iteration int      `json:"iteration"`
	Candidate int      `json:"candidate"`
	Attempt   int      `json:"attempt"`
	Names     []string `json:"names"`
}

// reply is a line from the child, checked: Kind is "ready", "result",
// "error" or "phase".
type reply struct {
	Kind      string
	Versioned bool // it said "bohost": Version
	ID        uint64
	HasID     bool
	PID       int
	Y         float64 // result: the value (NaN or ±Inf when the child said so)
	YMissing  bool
	YBad      string         // result: why y is unusable ("" when it is a number)
	Score     map[string]any // result: the score record
	Error     string         // error: the message
	Traceback string
	Phase     string
}

// protocolError is a line that is not a protocol frame.
type protocolError struct{ msg string }

func (e *protocolError) Error() string { return e.msg }

func badLine(format string, a ...any) error { return &protocolError{fmt.Sprintf(format, a...)} }

// quote quotes at most quoteMax bytes of b, saying how long it was.
func quote(b []byte) string {
	if len(b) <= quoteMax {
		return strconv.Quote(string(b))
	}
	return fmt.Sprintf("%s… (%d bytes)", strconv.Quote(string(b[:quoteMax])), len(b))
}

// parseLine checks one line from the child against the protocol. A line
// that is not a frame is a *protocolError.
func parseLine(line []byte) (reply, error) {
	var r reply
	var m map[string]json.RawMessage
	if err := json.Unmarshal(line, &m); err != nil {
		if !json.Valid(line) {
			fixed, ok := fixNonFinite(line)
			if !ok || json.Unmarshal(fixed, &m) != nil {
				return r, badLine("its stdout line is not JSON: %s", quote(line))
			}
		} else {
			return r, badLine("its stdout line is JSON but not an object: %s", quote(line))
		}
	}
	if m == nil {
		return r, badLine("its stdout line is JSON but not an object: %s", quote(line))
	}
	if v, ok := m["bohost"]; ok {
		var n float64
		if json.Unmarshal(v, &n) != nil || n != Version {
			return r, badLine("its line has protocol version %s; this bohost speaks version %d: %s", quote(v), Version, quote(line))
		}
		r.Versioned = true
	}
	t, ok := m["type"]
	if !ok {
		return r, badLine("its stdout line has no \"type\" (a protocol line is {\"type\": \"result\" | \"error\" | \"phase\" | \"ready\", ...}): %s", quote(line))
	}
	if json.Unmarshal(t, &r.Kind) != nil {
		return r, badLine("its line's \"type\" is not a string: %s", quote(line))
	}
	if v, ok := m["id"]; ok {
		var f float64
		if json.Unmarshal(v, &f) != nil || f < 0 || f != math.Trunc(f) {
			return r, badLine("its line's \"id\" is not a request id (a whole number): %s", quote(line))
		}
		r.ID, r.HasID = uint64(f), true
	}
	switch r.Kind {
	case "ready":
		if v, ok := m["pid"]; ok {
			json.Unmarshal(v, &r.PID)
		}
	case "phase":
		if json.Unmarshal(m["phase"], &r.Phase) != nil {
			return r, badLine("its phase line has no \"phase\" string: %s", quote(line))
		}
	case "error":
		if v, ok := m["error"]; ok {
			if json.Unmarshal(v, &r.Error) != nil {
				r.Error = string(v) // not a string: its JSON text
			}
		}
		if r.Error == "" {
			r.Error = "(the evaluator's error line has no message)"
		}
		if v, ok := m["traceback"]; ok {
			json.Unmarshal(v, &r.Traceback)
		}
	case "result":
		if v, ok := m["score"]; ok && string(v) != "null" {
			if err := json.Unmarshal(v, &r.Score); err != nil || r.Score == nil {
				return r, badLine("its result's \"score\" is not a JSON object: %s", quote(line))
			}
		}
		y, ok := m["y"]
		if !ok || string(y) == "null" {
			// The value is the score record's f (or y).
			for _, k := range []string{"f", "y"} {
				if v, ok := r.Score[k]; ok && v != nil {
					y, _ = json.Marshal(v)
					break
				}
			}
		}
		r.Y, r.YMissing, r.YBad = number(y)
	default:
		return r, badLine("its line has an unknown \"type\" %s (expected \"result\", \"error\" or \"phase\"): %s", quote(t), quote(line))
	}
	return r, nil
}

// number reads y: a JSON number, or "NaN", "Infinity", "-Infinity" (how
// JSON writers spell what JSON cannot hold).
func number(y json.RawMessage) (v float64, missing bool, bad string) {
	if len(y) == 0 || string(y) == "null" {
		return math.NaN(), true, ""
	}
	if err := json.Unmarshal(y, &v); err == nil {
		return v, false, ""
	}
	var s string
	if json.Unmarshal(y, &s) == nil {
		switch s {
		case "NaN", "nan":
			return math.NaN(), false, ""
		case "Infinity", "inf":
			return math.Inf(1), false, ""
		case "-Infinity", "-inf":
			return math.Inf(-1), false, ""
		}
	}
	return math.NaN(), false, fmt.Sprintf("y must be a number, got %s", quote(y))
}

// fixNonFinite rewrites the bare tokens NaN, Infinity and -Infinity that
// Python's json module writes by default (outside strings) as the strings
// "NaN", "Infinity", "-Infinity", so that the line parses and the value is
// refused for what it is, not as broken JSON.
func fixNonFinite(line []byte) ([]byte, bool) {
	if !bytes.Contains(line, []byte("NaN")) && !bytes.Contains(line, []byte("Infinity")) {
		return nil, false
	}
	var out bytes.Buffer
	inStr, esc, changed := false, false, false
	for i := 0; i < len(line); i++ {
		c := line[i]
		if inStr {
			out.WriteByte(c)
			switch {
			case esc:
				esc = false
			case c == '\\':
				esc = true
			case c == '"':
				inStr = false
			}
			continue
		}
		if c == '"' {
			inStr = true
			out.WriteByte(c)
			continue
		}
		if tok := nonFiniteToken(line[i:]); tok != "" {
			out.WriteString(strconv.Quote(tok))
			i += len(tok) - 1
			changed = true
			continue
		}
		out.WriteByte(c)
	}
	return out.Bytes(), changed
}

func nonFiniteToken(b []byte) string {
	for _, tok := range []string{"-Infinity", "Infinity", "NaN"} {
		if bytes.HasPrefix(b, []byte(tok)) {
			return tok
		}
	}
	return ""
}

// errTooLong is a line over the limit.
type errTooLong struct {
	head []byte
	max  int
}

func (e *errTooLong) Error() string {
	return fmt.Sprintf("its stdout line is longer than the %d-byte limit (a protocol line is one JSON object): it starts %s", e.max, quote(e.head))
}

// readLine reads one line (without its newline) of at most max bytes. At EOF
// a partial line is returned with io.ErrUnexpectedEOF, nothing with io.EOF.
func readLine(br *bufio.Reader, max int) ([]byte, error) {
	var buf []byte
	for {
		chunk, err := br.ReadSlice('\n')
		if len(buf)+len(chunk) > max+1 {
			head := append(buf, chunk...)
			return nil, &errTooLong{head: head[:min(len(head), quoteMax)], max: max}
		}
		buf = append(buf, chunk...)
		switch {
		case err == nil:
			return bytes.TrimRight(buf[:len(buf)-1], "\r"), nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF) && len(buf) > 0:
			return buf, io.ErrUnexpectedEOF
		default:
			return nil, err
		}
	}
}
