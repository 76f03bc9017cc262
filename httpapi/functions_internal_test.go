package httpapi

import (
	"encoding/json"
	"testing"
)

// TestFormParams: the query strings of function calls decode as the
// reference's (Express's qs) do; the wants are its answers.
func TestFormParams(t *testing.T) {
	t.Parallel()
	tests := []struct{ query, want string }{
		{"x=1&y=true&w=%7B%22a%22%3A1%7D", `{"w":"{\"a\":1}","x":"1","y":"true"}`},
		{"r=1&r=2&r=3", `{"r":["1","2","3"]}`},
		{"a[]=1&a[]=2&b[1]=x&b[0]=y&c[a][b]=1&d[25]=z&e=1&e[k]=2&f.g=1&h=&i", `{"a":["1","2"],"b":["y","x"],"c":{"a":{"b":"1"}},` +
			`"d":{"25":"z"},"e":["1",{"k":"2"}],"f.g":"1","h":"","i":""}`},
		{"a[b][c][d][e][f][g]=1", `{"a":{"b":{"c":{"d":{"e":{"f":{"[g]":"1"}}}}}}}`},
		{"q[0][x]=1&q[0][y]=2&u[]=1&u[0]=2", `{"q":[{"x":"1","y":"2"}],"u":["1","2"]}`},
		{"plus=a+b&pct=%zz&&=v&k[=1&m[a=2", `{"k":{"[":"1"},"m":{"[a":"2"},"pct":"%zz","plus":"a b"}`},
		{"o[a]=1&o=2", `{"o":[{"a":"1"},"2"]}`},
		{"o[]=1&o[a]=2", `{"o":{"0":"1","a":"2"}}`},
		{"o[a]=1&o[]=2", `{"o":{"0":"2","a":"1"}}`},
		{"o=1&o[]=2", `{"o":["1","2"]}`},
		{"o[]=1&o=2", `{"o":["1","2"]}`},
		{"o[0]=1&o[a]=2", `{"o":{"0":"1","a":"2"}}`},
		{"s[1]=a&s[x]=b", `{"s":{"1":"a","x":"b"}}`},
	}
	for _, tt := range tests {
		got, _ := json.Marshal(formParams(tt.query))
		if string(got) != tt.want {
			t.Errorf("formParams(%q)\n got %s\nwant %s", tt.query, got, tt.want)
		}
	}
}
