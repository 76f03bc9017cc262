// Package recorder is a push provider that delivers nothing: it reports
// every device as sent and records each call. The fixture app of
// examples/server uses it as the reference's fixture uses its recording
// push adapter, and tests use it as a fake provider.
package recorder

import (
	"context"
	"encoding/json"
	"io"
	"slices"
	"sync"

	"github.com/parsego/parse"
)

var _ parse.PushProvider = (*Recorder)(nil)

// Recorder is a parse.PushProvider that accepts every device. The zero
// value accepts the reference fixture's types (ios, android, osx, tvos,
// web) and records nothing.
type Recorder struct {
	// Types are the deviceTypes accepted; empty: the fixture's.
	Types []string
	// Log, when set, receives a JSON line per call, as the reference's
	// fixture writes them: {"pushStatusId","payload":{"data"},"deviceTokens"}.
	Log io.Writer
	// Keep records the calls in memory, for Calls.
	Keep bool
	// Before, when set, runs before a call is recorded; its error fails
	// the call (a test's failing or slow provider).
	Before func(ctx context.Context, n parse.PushNotification, devices []parse.PushDevice) error

	mu    sync.Mutex
	calls []Call
}

// Call is one recorded Send.
type Call struct {
	Notification parse.PushNotification
	Devices      []parse.PushDevice
}

// PushTypes returns Types, or the fixture's.
func (r *Recorder) PushTypes() []string {
	if len(r.Types) > 0 {
		return r.Types
	}
	return []string{"ios", "android", "osx", "tvos", "web"}
}

// Send records the call and reports every device sent.
func (r *Recorder) Send(ctx context.Context, n parse.PushNotification, devices []parse.PushDevice) ([]parse.PushResult, error) {
	if r.Before != nil {
		if err := r.Before(ctx, n, devices); err != nil {
			return nil, err
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.Keep {
		r.calls = append(r.calls, Call{Notification: n, Devices: slices.Clone(devices)})
	}
	if r.Log != nil {
		tokens := make([]string, len(devices))
		for i, d := range devices {
			tokens[i] = d.DeviceToken
		}
		line, err := json.Marshal(map[string]any{"pushStatusId": n.PushStatusID, "payload": map[string]any{"data": n.Data}, "deviceTokens": tokens})
		if err != nil {
			return nil, err
		}
		if _, err := r.Log.Write(append(line, '\n')); err != nil {
			return nil, err
		}
	}
	out := make([]parse.PushResult, len(devices))
	for i, d := range devices {
		out[i] = parse.PushResult{Device: d, Sent: true}
	}
	return out, nil
}

// Calls returns the calls recorded so far (with Keep).
func (r *Recorder) Calls() []Call {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.calls)
}
