// Command session-log-peer is the Go reference producer of session.iterate.v1, written the way a
// Go service naturally writes the row: a struct in schema order, encoding/json (standard library
// only) with SetEscapeHTML(false), the artifact as map[string]any.
//
//	session-log-peer                       fixture on stdin -> row on stdout (timestamp pinned)
//	session-log-peer append FILE DAEMON    NDJSON fixtures on stdin -> one write per row to FILE
//
// A fixture it refuses: `bad fixture: …` on stderr, exit status 1.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"syscall"
	"time"
)

// The row caps every producer of the log applies (packages/session-log/README.md, "Row caps").
const (
	maxPromptCodePoints = 4000
	maxErrorCodePoints  = 4000
	maxLabelCodePoints  = 256
	maxAttempts         = 100
	maxArtifactBytes    = 262144
	maxArtifactDepth    = 128
	pinnedTimestamp     = "2026-01-01T00:00:00+00:00"
)

// SessionAttemptRecord is one attempt; error and span_id are omitted when empty.
type SessionAttemptRecord struct {
	Iteration   int    `json:"iteration"`
	VerdictKind string `json:"verdict_kind"`
	Error       string `json:"error,omitempty"`
	SpanID      string `json:"span_id,omitempty"`
}

// SessionRecord is one row, fields in schema order.
type SessionRecord struct {
	Schema           string                 `json:"schema"`
	SessionID        string                 `json:"session_id"`
	Timestamp        string                 `json:"timestamp"`
	Daemon           string                 `json:"daemon"`
	Kind             string                 `json:"kind"`
	Model            string                 `json:"model"`
	Provider         string                 `json:"provider"`
	Prompt           string                 `json:"prompt"`
	Iterations       int                    `json:"iterations"`
	MaxIterations    int                    `json:"max_iterations"`
	FinalVerdict     string                 `json:"final_verdict"`
	Attempts         []SessionAttemptRecord `json:"attempts"`
	Artifact         map[string]any         `json:"artifact,omitempty"`
	GroundedInRoster *bool                  `json:"grounded_in_roster"`
	DurationMs       int64                  `json:"duration_ms"`
}

func truncateCodePoints(s string, max int) string {
	n := 0
	for i := range s {
		if n == max {
			return s[:i]
		}
		n++
	}
	return s
}

func depth(v any) int {
	deepest := 0
	switch t := v.(type) {
	case map[string]any:
		for _, inner := range t {
			deepest = max(deepest, depth(inner))
		}
	case []any:
		for _, inner := range t {
			deepest = max(deepest, depth(inner))
		}
	default:
		return 0
	}
	return deepest + 1
}

func encodeJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// applyCaps bounds every field the row takes from its input.
func applyCaps(r *SessionRecord) {
	r.SessionID = truncateCodePoints(r.SessionID, maxLabelCodePoints)
	r.Kind = truncateCodePoints(r.Kind, maxLabelCodePoints)
	r.Model = truncateCodePoints(r.Model, maxLabelCodePoints)
	r.Provider = truncateCodePoints(r.Provider, maxLabelCodePoints)
	r.Prompt = truncateCodePoints(r.Prompt, maxPromptCodePoints)
	if len(r.Attempts) > maxAttempts {
		r.Attempts = r.Attempts[:maxAttempts]
	}
	for i := range r.Attempts {
		r.Attempts[i].Error = truncateCodePoints(r.Attempts[i].Error, maxErrorCodePoints)
		r.Attempts[i].SpanID = truncateCodePoints(r.Attempts[i].SpanID, maxLabelCodePoints)
	}
	if r.Artifact == nil {
		return
	}
	if depth(r.Artifact) > maxArtifactDepth {
		r.Artifact = map[string]any{"$truncated": map[string]any{"reason": "depth", "cap": maxArtifactDepth}}
		return
	}
	if encoded, err := encodeJSON(r.Artifact); err == nil && len(encoded)-1 > maxArtifactBytes {
		r.Artifact = map[string]any{"$truncated": map[string]any{
			"reason": "size", "bytes": len(encoded) - 1, "cap": maxArtifactBytes,
		}}
	}
}

func decode(data []byte, timestamp, daemon string) (SessionRecord, error) {
	var r SessionRecord
	if err := json.Unmarshal(data, &r); err != nil {
		// The parity script counts a refusal only with this marker (anything else is a crash).
		return r, fmt.Errorf("bad fixture: %w", err)
	}
	r.Schema = "session.iterate.v1"
	r.Timestamp = timestamp
	r.Daemon = daemon
	applyCaps(&r)
	return r, nil
}

func probe() error {
	data, err := io.ReadAll(os.Stdin)
	if err != nil {
		return err
	}
	r, err := decode(data, pinnedTimestamp, "gateway")
	if err != nil {
		return err
	}
	row, err := encodeJSON(r)
	if err != nil {
		return err
	}
	_, err = os.Stdout.Write(row)
	return err
}

func appendRows(path, daemon string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	lines := bufio.NewScanner(os.Stdin)
	lines.Buffer(make([]byte, 1<<20), 64<<20)
	for lines.Scan() {
		if len(bytes.TrimSpace(lines.Bytes())) == 0 {
			continue
		}
		stamp := time.Now().UTC().Format("2006-01-02T15:04:05.000000Z07:00")
		r, err := decode(lines.Bytes(), stamp, daemon)
		if err != nil {
			return err
		}
		row, err := encodeJSON(r)
		if err != nil {
			return err
		}
		// One write per row on the O_APPEND descriptor keeps rows whole across processes; the
		// leading newline keeps a fragment another producer left (killed mid-write) off this row.
		row = append([]byte{'\n'}, row...)
		n, err := writeOnce(f, row)
		if err != nil {
			return err
		}
		if n != len(row) {
			return fmt.Errorf("short write: %d of %d bytes", n, len(row))
		}
	}
	return lines.Err()
}

// writeOnce is one write(2). os.File.Write loops after a short write, and the rest of the row
// would land wherever the file ends by then (after another producer's row): a short count must
// stay short, so the row goes through the raw descriptor.
func writeOnce(f *os.File, row []byte) (int, error) {
	raw, err := f.SyscallConn()
	if err != nil {
		return 0, err
	}
	var n int
	var werr error
	err = raw.Write(func(fd uintptr) bool {
		for {
			n, werr = syscall.Write(int(fd), row)
			if werr != syscall.EINTR {
				return true
			}
		}
	})
	if err == nil {
		err = werr
	}
	return max(n, 0), err
}

func main() {
	var err error
	switch {
	case len(os.Args) == 1:
		err = probe()
	case len(os.Args) == 4 && os.Args[1] == "append":
		err = appendRows(os.Args[2], os.Args[3])
	default:
		err = fmt.Errorf("usage: session-log-peer [append FILE DAEMON]")
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "session-log-peer (go): %v\n", err)
		os.Exit(1)
	}
}
