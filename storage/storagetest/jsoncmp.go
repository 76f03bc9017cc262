package storagetest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"reflect"
)

// jsonEqual reports whether a and b are the same JSON document: object key
// order and number spelling (10, 10.0, 1e1) do not matter, numbers are
// compared exactly.
func jsonEqual(a, b []byte) (bool, error) {
	va, err := canonJSON(a)
	if err != nil {
		return false, fmt.Errorf("invalid JSON %q: %w", a, err)
	}
	vb, err := canonJSON(b)
	if err != nil {
		return false, fmt.Errorf("invalid expected JSON %q: %w", b, err)
	}
	return reflect.DeepEqual(va, vb), nil
}

// jsonNumber is a number in canonical rational form.
type jsonNumber string

func canonJSON(doc []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("trailing data")
	}
	return canonValue(v), nil
}

func canonValue(v any) any {
	switch x := v.(type) {
	case json.Number:
		r, ok := new(big.Rat).SetString(string(x))
		if !ok {
			return x
		}
		return jsonNumber(r.RatString())
	case []any:
		for i := range x {
			x[i] = canonValue(x[i])
		}
	case map[string]any:
		for k, e := range x {
			x[k] = canonValue(e)
		}
	}
	return v
}

// mustJSON marshals v.
func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
