package parse

import (
	"context"
	"encoding/json"
	"time"
)

// Audiences are the saved push audiences Parse Dashboard offers when a push
// is composed (/push_audiences): _Audience objects with a name, a query on
// _Installation, lastUsed and timesUsed. As the reference, the query is
// stored as a JSON string and handed out decoded. Only the master key reads
// or writes them; they are written through Objects like any class.
type Audiences struct{ app *App }

// Find runs q, a query on _Audience, and returns the audiences with their
// query decoded.
func (s *Audiences) Find(ctx context.Context, q *Query) ([]*Object, error) {
	objs, err := q.Find(ctx)
	if err != nil {
		return nil, err
	}
	for _, o := range objs {
		decodeAudienceQuery(o)
	}
	return objs, nil
}

// Get returns one audience found by q, a query on _Audience, with its query
// decoded; 101 when there is none.
func (s *Audiences) Get(ctx context.Context, q *Query, id string) (*Object, error) {
	o, err := q.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	decodeAudienceQuery(o)
	return o, nil
}

// decodeAudienceQuery replaces the stored query string with the object it
// holds. One that doesn't hold a JSON object (written before this check,
// or by another server) stays a string: the reference answers 500 for the
// whole list.
func decodeAudienceQuery(o *Object) {
	s, ok := o.Fields["query"].(string)
	if !ok {
		return
	}
	var where map[string]any
	if json.Unmarshal([]byte(s), &where) == nil && where != nil {
		o.Fields["query"] = where
	}
}

// checkAudienceWrite refuses fields _Audience doesn't have, as the
// reference, and a query string that is not a JSON object, which the
// reference stores and then cannot list (500). A query of another type
// fails the schema's String check.
func checkAudienceWrite(fields map[string]any) error {
	for k := range fields {
		switch k {
		case "objectId", "createdAt", "updatedAt", "ACL", "name", "query", "lastUsed", "timesUsed":
		default:
			return NewError(InvalidJSON, "Could not add field %s", k)
		}
	}
	s, ok := fields["query"].(string)
	if !ok {
		return nil
	}
	var where map[string]any
	if json.Unmarshal([]byte(s), &where) != nil || where == nil {
		return NewError(InvalidJSON, "query must be a JSON object encoded as a string")
	}
	return nil
}

// audienceUsed records that a push went to the audience id, as the
// reference does for a push's audience_id: lastUsed now, timesUsed plus
// one. A missing audience doesn't fail the push, which is already queued.
func (a *App) audienceUsed(ctx context.Context, id string) {
	_, err := a.Objects.Update(WithAuth(ctx, masterAuth), ClassAudience, id, map[string]any{
		"lastUsed":  time.Now().UTC().Truncate(time.Millisecond),
		"timesUsed": Increment(1),
	})
	if err != nil {
		a.log.WarnContext(ctx, "push: could not record the audience's use", "audience", id, "error", err)
	}
}
