package httpapi

import "github.com/parsego/parse"

// appendArray appends items as a JSON array, each written by appendItem.
func appendArray[T any](b []byte, items []T, appendItem func([]byte, T) []byte) []byte {
	b = append(b, '[')
	for i, x := range items {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendItem(b, x)
	}
	return append(b, ']')
}

// appendObject appends o's JSON form, for appendArray.
func appendObject(b []byte, o *parse.Object) []byte { return o.AppendJSON(b) }
