package httpapi

import (
	"context"
	"encoding/json"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/parsego/parse"
)

// maxLogLines caps the lines one GET /scriptlog returns.
const maxLogLines = 1000

// scriptLog answers GET /scriptlog (the master key's only): the App's
// recent log lines, newest first, as the reference's winston transport
// shows them ([{"level","message","timestamp",...attributes}]). Query
// parameters: level (info or error), size or n (default 10), order (asc
// or desc), from and until (dates). The lines are this instance's
// (parse.App.Logs).
func (h *handler) scriptLog(ctx context.Context, c *call, b []byte) ([]byte, error) {
	if !parse.AuthFrom(ctx).Master {
		return b, errPermissionDenied()
	}
	p := c.params()
	q := parse.LogQuery{Level: jsString(p["level"]), Ascending: jsString(p["order"]) == "asc"}
	size := p["size"]
	if n, ok := p["n"]; ok {
		size = n
	}
	if n, err := strconv.Atoi(jsString(size)); err == nil {
		q.Size = min(n, maxLogLines)
	}
	q.From, q.Until = logTime(p["from"]), logTime(p["until"])
	lines, err := h.app.Logs(ctx, q)
	if err != nil {
		return b, err
	}
	return appendArray(b, lines, appendLogEntry), nil
}

// logTime reads a from or until parameter: an ISO date or epoch
// milliseconds; anything else is no bound, as the reference ignores it.
func logTime(v any) time.Time {
	s := jsString(v)
	if t, err := parse.ParseDate(s); err == nil {
		return t
	}
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.UnixMilli(ms)
	}
	return time.Time{}
}

// appendLogEntry appends a line as winston writes it: its attributes,
// then level, message and timestamp.
func appendLogEntry(b []byte, e parse.LogEntry) []byte {
	b = append(b, '{')
	for _, a := range e.Attrs {
		if a.Key == "level" || a.Key == "message" || a.Key == "timestamp" {
			continue
		}
		b = parse.AppendJSON(b, a.Key)
		b = append(b, ':')
		b = appendLogValue(b, a.Value)
		b = append(b, ',')
	}
	b = append(b, `"level":`...)
	b = parse.AppendJSON(b, strings.ToLower(e.Level.String()))
	b = append(b, `,"message":`...)
	b = parse.AppendJSON(b, e.Message)
	b = append(b, `,"timestamp":`...)
	b = parse.AppendJSON(b, parse.FormatDate(e.Time))
	return append(b, '}')
}

func appendLogValue(b []byte, v slog.Value) []byte {
	switch v.Kind() {
	case slog.KindBool:
		return strconv.AppendBool(b, v.Bool())
	case slog.KindInt64:
		return strconv.AppendInt(b, v.Int64(), 10)
	case slog.KindUint64:
		return strconv.AppendUint(b, v.Uint64(), 10)
	case slog.KindFloat64:
		return parse.AppendJSON(b, v.Float64())
	case slog.KindTime:
		return parse.AppendJSON(b, parse.FormatDate(v.Time()))
	case slog.KindAny:
		switch x := v.Any().(type) {
		case error:
			return parse.AppendJSON(b, x.Error())
		case json.RawMessage:
			if json.Valid(x) {
				return append(b, x...)
			}
		}
	}
	return parse.AppendJSON(b, v.String())
}
