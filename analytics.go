package parse

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"time"

	"github.com/parsego/parse/storage"
)

// Analytics records the events apps send (POST /events/AppOpened,
// POST /events/<name>) and counts them per day.
//
// Each event is stored as an object of the class _EventLog (name,
// dimensions, at), which the master key can query like any class; a
// second class, _EventCount, holds one counter per event name and UTC
// day, incremented in the same transaction, so that Counts reads one
// small row per event and day however many events there were. Both
// classes are the master key's only.
type Analytics struct{ app *App }

// The classes analytics events are kept in.
const (
	ClassEventLog   = "_EventLog"
	ClassEventCount = "_EventCount"
)

// MaxEventDimensions is how many dimensions of an event are kept: the
// first eight, as Parse always did.
const MaxEventDimensions = 8

// maxEventNameBytes bounds an event's name.
const maxEventNameBytes = 256

// Dimension is one of an event's segmenting key and value pairs.
type Dimension struct {
	Key, Value string
}

// EventCount is how many times an event was recorded on one UTC day.
type EventCount struct {
	Name  string
	Day   time.Time // midnight UTC
	Count int64
}

// Track records an event. at is when it happened (zero: now); only the
// first MaxEventDimensions dimensions are kept, and a later one with the
// key of a kept one is dropped.
func (s *Analytics) Track(ctx context.Context, name string, at time.Time, dims ...Dimension) error {
	a := s.app
	if name == "" || len(name) > maxEventNameBytes {
		return NewError(InvalidEventName, "Invalid event name.")
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	if at.IsZero() {
		at = now
	}
	at = at.UTC().Truncate(time.Millisecond)
	kept := make(map[string]any, min(len(dims), MaxEventDimensions))
	for _, d := range dims {
		if len(kept) == MaxEventDimensions {
			break
		}
		if _, dup := kept[d.Key]; !dup {
			kept[d.Key] = d.Value
		}
	}
	if err := checkNestedKeys(kept); err != nil {
		return err
	}
	for _, class := range []string{ClassEventLog, ClassEventCount} {
		if _, err := a.ensureClass(ctx, class); err != nil {
			return err
		}
	}
	event := storage.Object{ID: newObjectID(), CreatedAt: now, UpdatedAt: now, ReadPerm: []string{}, WritePerm: []string{},
		Data: appendStored(nil, map[string]any{"name": name, "dimensions": kept, "at": at})}
	day := at.Truncate(24 * time.Hour)
	counter := eventCounterID(name, day)
	bump := storage.Update{
		Ops:       []storage.Op{{Field: "count", Kind: storage.OpIncrement, Value: json.RawMessage("1")}},
		Where:     storage.Cmp{Field: "name", Op: storage.Eq, Value: name},
		UpdatedAt: now,
	}
	record := func(st storage.Store) error {
		if err := st.Insert(ctx, ClassEventLog, event); err != nil {
			return err
		}
		_, err := st.Update(ctx, ClassEventCount, counter, bump)
		return err
	}
	err := a.storeFor(ctx).Tx(ctx, record)
	if errors.Is(err, storage.ErrNotFound) {
		// The day's first event of this name: make its counter at 0 (a
		// concurrent writer may have made it first), then record again.
		zero := storage.Object{ID: counter, CreatedAt: now, UpdatedAt: now, ReadPerm: []string{}, WritePerm: []string{},
			Data: appendStored(nil, map[string]any{"name": name, "day": day, "count": 0.0})}
		if err := a.storeFor(ctx).Insert(ctx, ClassEventCount, zero); err != nil && !errors.Is(err, storage.ErrDuplicateValue) {
			return a.storeError(err)
		}
		err = a.storeFor(ctx).Tx(ctx, record)
	}
	return a.storeError(err)
}

// eventCounterID is the objectId of the counter of an event name on a
// day: derived from both, so that every instance increments the same row.
func eventCounterID(name string, day time.Time) string {
	sum := sha256.Sum256([]byte(day.Format(time.DateOnly) + "\x00" + name))
	id := make([]byte, 10)
	for i := range id {
		id[i] = idAlphabet[int(sum[i])%len(idAlphabet)]
	}
	return string(id)
}

// Counts returns how many times each event was recorded per UTC day, for
// the days from from's to to's (both included), ordered by day and then
// name. It needs the master key.
func (s *Analytics) Counts(ctx context.Context, from, to time.Time) ([]EventCount, error) {
	a := s.app
	if !AuthFrom(ctx).Master {
		return nil, ErrMasterKeyRequired
	}
	q := storage.Query{
		Where: storage.And{
			storage.Cmp{Field: "day", Op: storage.Gte, Value: from.UTC().Truncate(24 * time.Hour)},
			storage.Cmp{Field: "day", Op: storage.Lte, Value: to.UTC().Truncate(24 * time.Hour)},
		},
		Order: []storage.Sort{{Field: "day"}, {Field: "name"}},
	}
	objs, err := a.storeFor(ctx).Find(ctx, ClassEventCount, q)
	if err != nil {
		return nil, a.storeError(err)
	}
	out := make([]EventCount, 0, len(objs))
	for _, o := range objs {
		var doc struct {
			Name string `json:"name"`
			Day  struct {
				Iso string `json:"iso"`
			} `json:"day"`
			Count float64 `json:"count"`
		}
		if err := json.Unmarshal(o.Data, &doc); err != nil {
			return nil, a.storeError(err)
		}
		day, err := ParseDate(doc.Day.Iso)
		if err != nil {
			return nil, a.storeError(err)
		}
		if doc.Count > 0 {
			out = append(out, EventCount{Name: doc.Name, Day: day, Count: int64(doc.Count)})
		}
	}
	return out, nil
}
