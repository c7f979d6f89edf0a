package main

import (
	"bytes"
	"encoding/json"
	"os"
	"sync"
)

// field is one key of a JSON line; lines keep their fields in the order given, so that they
// read like the Python worker's ({"ev":..., ..., "t":...}).
type field struct {
	key   string
	value interface{}
}

// jsonLines appends JSON objects to a file, one line each. Every line is a single write(2) on
// an O_APPEND descriptor, under a mutex: lines from concurrent goroutines never interleave, and
// once emit returns the line is in the kernel, so a SIGKILL right after loses nothing.
type jsonLines struct {
	mu sync.Mutex
	f  *os.File
}

func openJSONLines(path string) (*jsonLines, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	return &jsonLines{f: f}, nil
}

// write appends one line made of fields.
func (j *jsonLines) write(fields ...field) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // keep '&', '<', '>' readable in messages
	b.WriteByte('{')
	for i, f := range fields {
		if i > 0 {
			b.WriteByte(',')
		}
		if err := enc.Encode(f.key); err != nil {
			return err
		}
		b.Truncate(b.Len() - 1) // Encode ends with a newline
		b.WriteByte(':')
		if err := enc.Encode(f.value); err != nil {
			return err
		}
		b.Truncate(b.Len() - 1)
	}
	b.WriteString("}\n")
	j.mu.Lock()
	defer j.mu.Unlock()
	_, err := j.f.Write(b.Bytes())
	return err
}

// countLines counts the newline-terminated lines now in the file at path.
func countLines(path string) (int, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	return bytes.Count(data, []byte{'\n'}), nil
}

func (j *jsonLines) close() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.f.Close()
}
