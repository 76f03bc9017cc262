package parse

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"time"
)

// DefaultLogLines is how many recent log lines an App keeps for Logs
// (GET /scriptlog) unless Config.LogLines says otherwise.
const DefaultLogLines = 1000

// LogEntry is one line of the App's log, as GET /scriptlog shows it.
type LogEntry struct {
	Time    time.Time
	Level   slog.Level
	Message string
	// Attrs are the record's attributes, groups flattened into dotted
	// keys ("req.method").
	Attrs []slog.Attr
}

// LogQuery selects recent log lines, as the reference's /scriptlog does.
type LogQuery struct {
	// Level "error" selects the errors; anything else every line at info
	// level or above.
	Level string
	// From and Until bound the lines' times (zero: unbounded).
	From, Until time.Time
	// Size caps how many lines are returned (default 10).
	Size int
	// Ascending returns the oldest first; by default the newest come first.
	Ascending bool
}

// Logs returns the App's recent log lines at info level and above, from
// the bounded ring this instance keeps in memory (Config.LogLines): lines
// logged by other instances are not in it, and the oldest are dropped
// first. It needs the master key.
func (a *App) Logs(ctx context.Context, q LogQuery) ([]LogEntry, error) {
	if !AuthFrom(ctx).Master {
		return nil, ErrMasterKeyRequired
	}
	least := slog.LevelInfo
	if q.Level == "error" {
		least = slog.LevelError
	}
	size := q.Size
	if size <= 0 {
		size = 10
	}
	return a.logRing.query(least, q.From, q.Until, size, q.Ascending), nil
}

// logRing keeps the last lines an App logged at info level and above.
type logRing struct {
	mu    sync.Mutex
	lines []LogEntry // a circular buffer: next is the oldest once full
	next  int
	full  bool
}

func newLogRing(n int) *logRing { return &logRing{lines: make([]LogEntry, n)} }

func (r *logRing) add(e LogEntry) {
	r.mu.Lock()
	r.lines[r.next] = e
	r.next++
	if r.next == len(r.lines) {
		r.next, r.full = 0, true
	}
	r.mu.Unlock()
}

// query returns up to size lines at least level or above within the
// times, newest first unless ascending.
func (r *logRing) query(least slog.Level, from, until time.Time, size int, ascending bool) []LogEntry {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := r.next
	if r.full {
		n = len(r.lines)
	}
	var out []LogEntry
	for i := range n {
		// i-th newest, or i-th oldest when ascending.
		idx := (r.next - 1 - i + len(r.lines)) % len(r.lines)
		if ascending {
			idx = (r.next - n + i + len(r.lines)) % len(r.lines)
		}
		e := r.lines[idx]
		if e.Level < least || !from.IsZero() && e.Time.Before(from) || !until.IsZero() && e.Time.After(until) {
			continue
		}
		out = append(out, e)
		if len(out) == size {
			break
		}
	}
	return out
}

// ringHandler is the App's slog.Handler: it passes every record to the
// host program's handler and keeps those at info level and above in the
// ring.
type ringHandler struct {
	next   slog.Handler
	ring   *logRing
	attrs  []slog.Attr // from WithAttrs, keys already prefixed
	prefix string      // from WithGroup: "group."
}

func (h *ringHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelInfo || h.next.Enabled(ctx, l)
}

func (h *ringHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Level >= slog.LevelInfo {
		e := LogEntry{Time: r.Time, Level: r.Level, Message: r.Message, Attrs: slices.Clone(h.attrs)}
		r.Attrs(func(a slog.Attr) bool {
			e.Attrs = appendFlat(e.Attrs, h.prefix, a)
			return true
		})
		h.ring.add(e)
	}
	if h.next.Enabled(ctx, r.Level) {
		return h.next.Handle(ctx, r)
	}
	return nil
}

func (h *ringHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	c := *h
	c.next = h.next.WithAttrs(attrs)
	c.attrs = slices.Clone(h.attrs)
	for _, a := range attrs {
		c.attrs = appendFlat(c.attrs, h.prefix, a)
	}
	return &c
}

func (h *ringHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	c := *h
	c.next = h.next.WithGroup(name)
	c.prefix = h.prefix + name + "."
	return &c
}

// appendFlat appends an attribute, its groups flattened into dotted keys.
func appendFlat(out []slog.Attr, prefix string, a slog.Attr) []slog.Attr {
	v := a.Value.Resolve()
	if v.Kind() == slog.KindGroup {
		p := prefix
		if a.Key != "" {
			p += a.Key + "."
		}
		for _, g := range v.Group() {
			out = appendFlat(out, p, g)
		}
		return out
	}
	if a.Key == "" {
		return out
	}
	return append(out, slog.Attr{Key: prefix + a.Key, Value: v})
}
