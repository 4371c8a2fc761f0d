package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const doc = `{
  "organization": {"id": "acme", "name": "Acme"},
  "projects": [{"name": "A"}, {"name": "F", "description": "f"}],
  "policies": [
    {"name": "p", "application": "app", "rules": [
      {"projects": ["A"], "permission_sets": ["X", "Y"]},
      {"organization": true, "permission_sets": [], "condition": "c"}
    ], "tags": null}
  ]
}`

func TestDecode(t *testing.T) {
	var f File
	keys, err := Decode([]byte(doc), &f)
	require.NoError(t, err)
	want := File{
		Organization: &Organization{ID: "acme", Name: "Acme"},
		Projects:     []Project{{Name: "A"}, {Name: "F", Description: "f"}},
		Policies: []Policy{{Name: "p", Application: "app", Rules: []Rule{
			{Projects: []string{"A"}, PermissionSets: []string{"X", "Y"}},
			{Organization: true, PermissionSets: []string{}, Condition: "c"},
		}}},
	}
	if diff := cmp.Diff(want, f); diff != "" {
		t.Fatalf("Decode (-want +got):\n%s", diff)
	}
	assert.NotNil(t, f.Policies[0].Rules[1].PermissionSets, `"permission_sets": [] decodes to an empty, non-nil slice`)
	assert.Equal(t, []Key{
		{"organization", int64(strings.Index(doc, `"organization"`))},
		{"projects", int64(strings.Index(doc, `"projects"`))},
		{"policies", int64(strings.Index(doc, `"policies"`))},
	}, keys)
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name     string
		data     string
		kind     ErrorKind
		at       string // the text the offset points at
		path     string
		msg      string
		hint     string
		atOffset int // when at is "", the expected offset
	}{
		{name: "unknown field", data: `{"projects": [{"nmae": "A"}]}`, kind: ErrUnknownField, at: `"nmae"`, path: "projects[0].nmae", msg: `unknown field "nmae"`, hint: `did you mean "name"?`},
		{name: "case differs", data: `{"Projects": []}`, kind: ErrUnknownField, at: `"Projects"`, path: "Projects", hint: "case-sensitive"},
		{name: "field hint", data: `{"api_keys": [{"secret": "s"}]}`, kind: ErrUnknownField, at: `"secret"`, path: "api_keys[0].secret", hint: "never carries a plain secret"},
		{name: "odd key", data: `{"a b": 1}`, kind: ErrUnknownField, at: `"a b"`, path: `["a b"]`},
		{name: "duplicate key", data: `{"name": "a", "name": "b"}`, kind: ErrDuplicateKey, at: `"name": "b"`, path: "name", msg: "twice"},
		{name: "string for bool", data: `{"users": [{"locked": "yes"}]}`, kind: ErrType, at: `"yes"`, path: "users[0].locked", msg: `expected true or false, got the string "yes"`},
		{name: "number for string", data: `{"name": 42}`, kind: ErrType, at: `42`, path: "name", msg: "expected a string, got the number 42"},
		{name: "object for list", data: `{"projects": {}}`, kind: ErrType, at: `{}`, path: "projects", msg: "expected an array of objects, got an object"},
		{name: "null in list", data: `{"tags": ["a", null]}`, kind: ErrType, at: `null`, path: "tags[1]", msg: "expected a string, got null"},
		{name: "top-level array", data: ` [1]`, kind: ErrType, at: `[1]`, path: "", msg: "expected an object, got an array"},
		{name: "syntax: double comma", data: "{\"tags\": [\"a\",, \"b\"]}", kind: ErrSyntax, at: `, "b"`, path: "tags[1]", msg: "invalid character ','"},
		{name: "syntax: bad literal", data: `{"users": [{"locked": tru}]}`, kind: ErrSyntax, at: `}]}`, path: "users[0].locked"},
		{name: "syntax: missing colon", data: `{"name" "x"}`, kind: ErrSyntax, at: `"x"`},
		{name: "syntax: cut short", data: `{"name": "x`, kind: ErrSyntax, atOffset: 11, msg: "unexpected end"},
		{name: "empty", data: "  \n", kind: ErrSyntax, atOffset: 3, msg: "empty"},
		{name: "trailing data", data: `{} {}`, kind: ErrTrailingData, at: `{}`, atOffset: 3},
		{name: "trailing garbage", data: "{}\n x", kind: ErrTrailingData, at: "x"},
		{name: "invalid UTF-8", data: "{\"tags\": [\"ok\", \"a\xffb\"]}", kind: ErrEncoding, at: "\xff", path: "tags[1]", msg: "invalid UTF-8 (byte 0xFF)"},
		{name: "invalid UTF-8 in a key", data: "{\"na\xc3me\": 1}", kind: ErrEncoding, at: "\xc3", path: "", msg: "invalid UTF-8"},
		{name: "lone high surrogate", data: `{"name": "a\ud800b"}`, kind: ErrEncoding, at: `\ud800`, path: "name", msg: "lone UTF-16 surrogate"},
		{name: "lone low surrogate", data: `{"name": "\udc00"}`, kind: ErrEncoding, at: `\udc00`, path: "name", msg: "lone UTF-16 surrogate"},
		{name: "two high surrogates", data: `{"name": "\ud800\ud800\udc00"}`, kind: ErrEncoding, at: `\ud800\ud800`, path: "name"},
		{name: "high surrogate then a letter escape", data: `{"name": "\uD83D\u0041"}`, kind: ErrEncoding, at: `\uD83D`, path: "name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var f File
			_, err := Decode([]byte(tt.data), &f)
			var e *Error
			require.True(t, errors.As(err, &e), "got %v", err)
			assert.Equal(t, tt.kind, e.Kind, "%v", e)
			want := int64(tt.atOffset)
			if tt.at != "" && tt.atOffset == 0 {
				want = int64(strings.Index(tt.data, tt.at))
				require.GreaterOrEqual(t, want, int64(0))
			}
			assert.Equal(t, want, e.Offset, "offset of %v", e)
			if tt.path != "" || tt.kind != ErrSyntax {
				assert.Equal(t, tt.path, e.Path)
			}
			assert.Contains(t, e.Msg, tt.msg)
			assert.Contains(t, e.Hint, tt.hint)
		})
	}
}

func TestLocate(t *testing.T) {
	data := []byte(doc)
	tests := []struct {
		path  string
		at    string
		exact bool
	}{
		{"", "{\n", true},
		{"organization", `{"id": "acme"`, true},
		{"organization.name", `"Acme"`, true},
		{"projects[1]", `{"name": "F"`, true},
		{"projects[1].description", `"f"`, true},
		{"policies[0].rules[0].permission_sets[1]", `"Y"`, true},
		{"policies[0].rules[1].condition", `"c"`, true},
		{"policies[0].rules[1]", `{"organization": true`, true},
		{"policies[0].rules[1].projects[0]", `{"organization": true`, false},
		{"policies[0].user", `{"name": "p"`, false},
		{"projects[7].name", `[{"name": "A"}`, false},
		{"nope", "{\n", false},
		{"bad[path", "{\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			off, exact := Locate(data, tt.path)
			assert.Equal(t, tt.exact, exact)
			assert.Equal(t, int64(strings.Index(doc, tt.at)), off, "got %q", doc[off:min(int(off)+20, len(doc))])
		})
	}
	off, exact := LocateKey(data, "policies[0].rules[1].condition")
	assert.True(t, exact)
	assert.Equal(t, int64(strings.Index(doc, `"condition"`)), off)
}

func TestPathRoundTrip(t *testing.T) {
	for _, p := range []string{"", "a", "a.b", "a[0].b[12]", `a["x y"].b`, `["."]`} {
		segs, ok := parsePath(p)
		require.True(t, ok, p)
		assert.Equal(t, p, formatPath(segs))
	}
	for _, p := range []string{".a", "a.", "a[", "a[x]", "a[-1]", `a["x]`} {
		_, ok := parsePath(p)
		assert.False(t, ok, p)
	}
}

func TestLineColumn(t *testing.T) {
	data := []byte("ab\ncd\n\nef")
	for _, tt := range []struct {
		off       int64
		line, col int
	}{{0, 1, 1}, {1, 1, 2}, {2, 1, 3}, {3, 2, 1}, {4, 2, 2}, {6, 3, 1}, {7, 4, 1}, {9, 4, 3}, {99, 4, 3}, {-1, 1, 1}} {
		line, col := LineColumn(data, tt.off)
		assert.Equal(t, [2]int{tt.line, tt.col}, [2]int{line, col}, "offset %d", tt.off)
	}
}

// FuzzDecode checks that no input makes Decode or Locate panic, and that
// every error points inside the document.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(doc), "policies[0].rules[1].condition")
	f.Add([]byte(`{"a": [}`), "a[0]")
	f.Add([]byte(`{"users": [{"locked": "x"}]}`), `users[0]["locked"]`)
	f.Add([]byte(`{"name": "a\u00e9\"b", "tags": ["\xff", "x"], "users": [{"locked": -1.5e+3}]}`), "tags[0]")
	f.Add([]byte(`{"projects": [[[{"a": [1, 2, {"b": null}]}]]]}`), "projects[0]")
	f.Add([]byte("{\"name\": \"a\xffb\u00e9\", \"tags\": [\"\xc3\"]}"), "name")
	f.Add([]byte(`{"a": [{"b": 1}, {"c": {"d": [true, "x"]}}], "e\u0041": null}`), `a[1].c.d[1]`)
	f.Add([]byte(`{"a": [{"b": 1}, {"c": {"d": [true, "x"]}}], "e\u0041": null}`), `["eA"]`)
	f.Fuzz(func(t *testing.T, data []byte, path string) {
		var file File
		_, err := Decode(data, &file)
		var e *Error
		valid := json.Valid(data)
		if !valid && err == nil {
			t.Fatal("Decode accepted a document that is not valid JSON")
		}
		if valid && errors.As(err, &e) && (e.Kind == ErrSyntax || e.Kind == ErrTrailingData) && len(bytes.TrimSpace(data)) > 0 {
			t.Fatalf("Decode found a syntax error in valid JSON: %v", err)
		}
		if err == nil {
			// A document Decode accepts means the same to encoding/json.
			var std File
			if uerr := json.Unmarshal(data, &std); uerr != nil {
				t.Fatalf("Decode accepted what json.Unmarshal rejects: %v", uerr)
			}
			if diff := cmp.Diff(std, file); diff != "" {
				t.Fatalf("Decode and json.Unmarshal disagree (-std +Decode):\n%s", diff)
			}
		}
		if err != nil {
			if !errors.As(err, &e) {
				t.Fatalf("Decode returned %T %v", err, err)
			}
			if e.Offset < 0 || e.Offset > int64(len(data)) {
				t.Fatalf("offset %d outside [0, %d]", e.Offset, len(data))
			}
		}
		off, exact := Locate(data, path)
		if off < 0 || off > int64(len(data)) {
			t.Fatalf("Locate offset %d outside [0, %d]", off, len(data))
		}
		if valid {
			wantOff, wantExact := locateWithDecoder(data, path)
			if off != wantOff || exact != wantExact {
				t.Fatalf("Locate(%q) = %d, %v; the json.Decoder walk says %d, %v", path, off, exact, wantOff, wantExact)
			}
		}
	})
}

// BenchmarkDecode decodes a world of 20k policies of 5 rules each.
func BenchmarkDecode(b *testing.B) {
	var sb strings.Builder
	sb.WriteString(`{"organization": {"id": "big", "name": "Big"}, "users": [`)
	for i := range 20_000 {
		if i > 0 {
			sb.WriteString(",\n")
		}
		fmt.Fprintf(&sb, `{"id": "u-%d", "email": "user%d@big.test", "type": "member", "locked": false}`, i, i)
	}
	sb.WriteString(`], "policies": [`)
	for i := range 20_000 {
		if i > 0 {
			sb.WriteString(",\n")
		}
		fmt.Fprintf(&sb, `{"id": "pol-%d", "user": "u-%d", "rules": [`, i, i)
		for j := range 5 {
			if j > 0 {
				sb.WriteString(", ")
			}
			fmt.Fprintf(&sb, `{"projects": ["p-%d", "p-%d"], "permission_sets": ["InstancesFullAccess", "ObjectStorageReadOnly"]}`, j, j+1)
		}
		sb.WriteString("]}")
	}
	sb.WriteString("]}")
	data := []byte(sb.String())
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		var f File
		if _, err := Decode(data, &f); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLocate finds the last rule of a world of 20k policies.
func BenchmarkLocate(b *testing.B) {
	var sb strings.Builder
	sb.WriteString(`{"organization": {"id": "big", "name": "Big"}, "policies": [`)
	for i := range 20_000 {
		if i > 0 {
			sb.WriteString(",\n")
		}
		fmt.Fprintf(&sb, `{"id": "pol-%d", "user": "u-%d", "rules": [{"projects": ["p-1", "p-2"], "permission_sets": ["InstancesFullAccess", "ObjectStorageReadOnly"]}]}`, i, i)
	}
	sb.WriteString("]}")
	data := []byte(sb.String())
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, exact := Locate(data, "policies[19999].rules[0].permission_sets[1]"); !exact {
			b.Fatal("not found")
		}
	}
}

// locateWithDecoder is Locate written with json.Decoder's Token and
// InputOffset: slower, and the oracle Locate is fuzzed against.
func locateWithDecoder(data []byte, path string) (offset int64, exact bool) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	offset = skipSpace(data, 0)
	segs, ok := parsePath(path)
	if !ok {
		return offset, false
	}
	// start skips the space and separators the Decoder leaves before the
	// next token.
	start := func() int64 {
		off := dec.InputOffset()
		for off < int64(len(data)) && strings.IndexByte(" \t\r\n,:", data[off]) >= 0 {
			off++
		}
		return off
	}
	skip := func() error {
		depth := 0
		for {
			tok, err := dec.Token()
			if err != nil {
				return err
			}
			switch tok {
			case json.Delim('{'), json.Delim('['):
				depth++
			case json.Delim('}'), json.Delim(']'):
				depth--
			}
			if depth == 0 {
				return nil
			}
		}
	}
	for _, s := range segs {
		tok, err := dec.Token()
		if err != nil {
			return offset, false
		}
		found := false
		if s.isIndex {
			if tok != json.Delim('[') {
				return offset, false
			}
			for i := 0; dec.More(); i++ {
				if i == s.index {
					found = true
					break
				}
				if skip() != nil {
					return offset, false
				}
			}
		} else {
			if tok != json.Delim('{') {
				return offset, false
			}
			for dec.More() {
				k, err := dec.Token()
				if err != nil {
					return offset, false
				}
				if k == s.key {
					found = true
					break
				}
				if skip() != nil {
					return offset, false
				}
			}
		}
		if !found {
			return offset, false
		}
		offset = start()
	}
	return offset, true
}

func TestDecodeRawMessage(t *testing.T) {
	var v struct {
		A json.RawMessage   `json:"a"`
		B []json.RawMessage `json:"b"`
		C json.RawMessage   `json:"c"`
		D string            `json:"d"`
	}
	data := `{"a": {"x": [1, 2.5e3, true]} , "b": [3, "s", null], "c": null, "d": "x"}`
	_, err := Decode([]byte(data), &v)
	var we *Error
	require.ErrorAs(t, err, &we, "null inside an array stays an error")
	assert.Equal(t, "b[2]", we.Path)
	assert.Equal(t, "expected a value, got null", we.Msg)

	data = `{"a": {"x": [1, 2.5e3, true]} , "b": [3, "s"], "c": null, "d": "x"}`
	_, err = Decode([]byte(data), &v)
	require.NoError(t, err)
	assert.Equal(t, `{"x": [1, 2.5e3, true]}`, string(v.A), "kept as written, without the space after it")
	assert.Equal(t, []json.RawMessage{json.RawMessage("3"), json.RawMessage(`"s"`)}, v.B)
	assert.Nil(t, v.C, "null leaves the zero value")
	assert.Equal(t, "x", v.D)

	_, err = Decode([]byte(`{"a": [1, }`), &v)
	require.ErrorAs(t, err, &we, "a raw value is checked")
	assert.Equal(t, ErrSyntax, we.Kind)
}
