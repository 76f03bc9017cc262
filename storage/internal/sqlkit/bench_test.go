package sqlkit

import (
	"encoding/json"
	"testing"
)

// BenchmarkValueOf classifies the values of an equality or $in, which
// every condition on a data field goes through once per value.
func BenchmarkValueOf(b *testing.B) {
	vals := []any{
		"alice",
		json.RawMessage(`{"__type":"Pointer","className":"_User","objectId":"a1b2c3d4e5"}`),
		json.RawMessage(`{"__type":"Date","iso":"2024-05-06T07:08:09.010Z"}`),
		json.RawMessage(`42.5`),
	}
	for b.Loop() {
		for _, v := range vals {
			if _, err := ValueOf(v); err != nil {
				b.Fatal(err)
			}
		}
	}
}
