package wire

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestEncodeLayout(t *testing.T) {
	var f File
	_, err := Decode([]byte(doc), &f)
	require.NoError(t, err)
	want := `{
  "organization": {"id": "acme", "name": "Acme"},
  "projects": [
    {"name": "A"},
    {"name": "F", "description": "f"}
  ],
  "policies": [
    {
      "name": "p",
      "application": "app",
      "rules": [
        {"projects": ["A"], "permission_sets": ["X", "Y"]},
        {"organization": true, "permission_sets": [], "condition": "c"}
      ]
    }
  ]
}
`
	assert.Equal(t, want, string(Encode(&f)))
}

func TestEncodeBreaksLongLines(t *testing.T) {
	sets := make([]string, 12)
	for i := range sets {
		sets[i] = "SomePermissionSet" + strings.Repeat("x", i)
	}
	f := File{Policies: []Policy{{Name: "p<&>", Rules: []Rule{{Organization: true, PermissionSets: sets}}}}}
	out := string(Encode(f))
	for _, line := range strings.Split(out, "\n") {
		assert.LessOrEqual(t, len(line), Width, line)
	}
	assert.Contains(t, out, `"name": "p<&>"`, "no HTML escaping")
	assert.Contains(t, out, "\n            \"SomePermissionSetx\",\n")
	var back File
	_, err := Decode([]byte(out), &back)
	require.NoError(t, err)
	assert.Empty(t, cmp.Diff(f, back))
}

// TestEncodeRoundTrip: encoding what Decode read keeps its meaning, and
// encoding again gives the same bytes, for every file of the testdata.
func TestEncodeRoundTrip(t *testing.T) {
	files, err := filepath.Glob("../../testdata/*.json")
	require.NoError(t, err)
	more, err := filepath.Glob("../../testdata/fuzzseed/*.json")
	require.NoError(t, err)
	files = append(files, more...)
	require.NotEmpty(t, files)
	for _, name := range files {
		t.Run(filepath.Base(name), func(t *testing.T) {
			data, err := os.ReadFile(name)
			require.NoError(t, err)
			var f File
			_, err = Decode(data, &f)
			require.NoError(t, err)
			once := Encode(&f)
			var g File
			_, err = Decode(once, &g)
			require.NoError(t, err)
			assert.Empty(t, cmp.Diff(f, g), "the encoding means what the file says")
			assert.Equal(t, string(once), string(Encode(&g)), "encoding is stable")
		})
	}
}

func TestSpan(t *testing.T) {
	for _, tc := range []struct{ path, want string }{
		{"policies[0].rules[1]", `{"organization": true, "permission_sets": [], "condition": "c"}`},
		{"projects[1].name", `"F"`},
		{"policies[0].tags", `null`},
		{"organization", `{"id": "acme", "name": "Acme"}`},
	} {
		start, end, ok := Span([]byte(doc), tc.path)
		require.True(t, ok, tc.path)
		assert.Equal(t, tc.want, doc[start:end], tc.path)
	}
	for _, path := range []string{"policies[3]", "nope", "policies[0].rules[", "projects[0].name.x"} {
		_, _, ok := Span([]byte(doc), path)
		assert.False(t, ok, path)
	}
}

// FuzzEncodeRoundTrip: whatever Decode accepts, Encode writes a document
// that decodes to the same value and encodes to the same bytes.
func FuzzEncodeRoundTrip(f *testing.F) {
	f.Add([]byte(doc))
	f.Add([]byte(`{"name": "p\u003c\"\\", "rules": [], "tags": ["\u2028", "é"]}`))
	f.Add([]byte(`{"policies": [{"rules": [{"projects": [], "organization": true}]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var v File
		if _, err := Decode(data, &v); err != nil {
			return
		}
		once := Encode(&v)
		var w File
		if _, err := Decode(once, &w); err != nil {
			t.Fatalf("Encode wrote what Decode rejects: %v\n%s", err, once)
		}
		if d := cmp.Diff(v, w); d != "" {
			t.Fatalf("the encoding changed the meaning (-read +re-read):\n%s", d)
		}
		if twice := Encode(&w); string(twice) != string(once) {
			t.Fatalf("encoding is not stable:\n%s\n%s", once, twice)
		}
	})
}
