package parsetest_test

import (
	"context"
	"testing"

	"github.com/parsego/parse"
	"github.com/parsego/parse/parsetest"
)

// The host program under test: it awards a bonus by updating a score with
// Parse's Increment operator.
func awardBonus(ctx context.Context, app *parse.App, scoreID string, bonus float64) (float64, error) {
	o, err := app.Objects.Update(ctx, "GameScore", scoreID, map[string]any{"score": parse.Increment(bonus)})
	if err != nil {
		return 0, err
	}
	return o.Fields["score"].(float64), nil
}

// A host program's unit test: an App with nothing to set up.
func TestAwardBonus(t *testing.T) {
	app := parsetest.NewApp(t)
	ctx := t.Context()
	score, err := app.Objects.Create(ctx, "GameScore", map[string]any{"score": 1000})
	if err != nil {
		t.Fatal(err)
	}
	got, err := awardBonus(ctx, app, score.ID, 337)
	if err != nil {
		t.Fatal(err)
	}
	if got != 1337 {
		t.Errorf("score after the bonus: %v, want 1337", got)
	}
}

// The same over HTTP, as a Parse SDK would reach it.
func TestAwardBonusOverHTTP(t *testing.T) {
	srv := parsetest.NewServer(t)
	status, created := srv.Do(t, "POST", "/classes/GameScore", map[string]any{"score": 1000})
	if status != 201 {
		t.Fatalf("create: %d %v", status, created)
	}
	id := created["objectId"].(string)
	if _, err := awardBonus(t.Context(), srv.App, id, 337); err != nil {
		t.Fatal(err)
	}
	status, got := srv.Do(t, "GET", "/classes/GameScore/"+id, nil)
	if status != 200 || got["score"] != 1337.0 {
		t.Errorf("GET: %d %v, want 200 with score 1337", status, got)
	}
}
