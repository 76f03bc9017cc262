package jsonx

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

var jsonSeeds = []string{
	`{}`, `[]`, `{"a":1}`, ` {"a" : [1, -2.5e3, "x", true, false, null, {"b": {}}]} `,
	`{"score":1337,"playerName":"Sean Plott","cheatMode":false}`,
	`"\u00e9\ud83c\udf1e\"\\\/\b\f\n\r\t"`, `"\ud800"`, `"\ud800\u0041"`, `"\udc00\ud800"`, `"\ud800\uzzzz"`,
	"\"\xff\xfe a \xc3\"", "\"\xef\xbf\xbd\"", `"ctl` + "\x01" + `"`, `"unterminated`, `"bad \q escape"`,
	`0`, `-0`, `01`, `1.`, `.5`, `1e`, `1e+`, `1E-7`, `123456789012345`, `1234567890123456789`, `-9007199254740993`,
	`1e400`, `-1e400`, `1e-400`, `0.1`, `1.0e2`, `-`, `+1`,
	`true`, `tru`, `nul`, `null x`, `{"a":1,}`, `[1,]`, `{"a" 1}`, `{1:2}`, `{"a":1}{"b":2}`, ``, ` `,
	`{"a":1,"a":2}`, `[[[[[[]]]]]]`, strings.Repeat("[", 10000) + strings.Repeat("]", 10000),
	strings.Repeat("[", 10001) + strings.Repeat("]", 10001),
}

// FuzzDecode holds Decode to encoding/json: the same documents are
// valid, and decode to the same values.
func FuzzDecode(f *testing.F) {
	for _, s := range jsonSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		checkAgainstStdlib(t, b)
	})
}

func TestDecode(t *testing.T) {
	for _, s := range jsonSeeds {
		checkAgainstStdlib(t, []byte(s))
	}
}

func checkAgainstStdlib(t *testing.T, b []byte) {
	t.Helper()
	var want any
	wantErr := json.Unmarshal(b, &want)
	got, err := Decode(b)
	if (err != nil) != (wantErr != nil) {
		t.Fatalf("%q: error %v, encoding/json %v", b, err, wantErr)
	}
	if err == nil && !reflect.DeepEqual(got, want) {
		t.Fatalf("%q: got %#v, encoding/json %#v", b, got, want)
	}
}

func BenchmarkDecodeBody(b *testing.B) {
	body := []byte(`{"score":1337,"playerName":"Sean Plott","cheatMode":false,"tags":["a","b"],"when":{"__type":"Date","iso":"2011-08-21T18:02:52.249Z"}}`)
	b.Run("Decode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := Decode(body); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding/json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var m map[string]any
			if err := json.Unmarshal(body, &m); err != nil {
				b.Fatal(err)
			}
		}
	})
}
