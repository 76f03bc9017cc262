package parse

import "crypto/rand"

// idAlphabet is the objectId alphabet: letters and digits, as the reference.
const idAlphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// newObjectID returns a 10-character objectId from crypto/rand. Bytes at or
// above the largest multiple of the alphabet's size are drawn again, so
// every character is equally likely.
func newObjectID() string { return randomString(10, idAlphabet) }

func randomString(n int, alphabet string) string {
	limit := byte(256 - 256%len(alphabet))
	out := make([]byte, 0, n)
	buf := make([]byte, n*2)
	for len(out) < n {
		rand.Read(buf) // never fails (crypto/rand panics rather than return short)
		for _, b := range buf {
			if b < limit {
				out = append(out, alphabet[int(b)%len(alphabet)])
				if len(out) == n {
					break
				}
			}
		}
	}
	return string(out)
}
