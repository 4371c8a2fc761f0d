package wire

import (
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"
)

// decodeWith decodes data with the parallel decoder on or off.
func decodeWith(t *testing.T, data string, parallel bool) (File, []Key, error) {
	t.Helper()
	old := parallelMin
	defer func() { parallelMin = old }()
	parallelMin = 1 << 62
	if parallel {
		parallelMin = 0
	}
	var f File
	keys, err := Decode([]byte(data), &f)
	return f, keys, err
}

// TestParallelDecodeReportsWhatSequentialDoes: splitting a document between
// goroutines changes neither what it decodes to nor the error reported,
// which is the first in document order, with its offset and path.
func TestParallelDecodeReportsWhatSequentialDoes(t *testing.T) {
	if runtime.GOMAXPROCS(0) < 2 {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	}
	var users, policies []string
	for i := range 3000 {
		users = append(users, fmt.Sprintf(`{"id": "u%d", "email": "u%d@x.io", "tags": ["a", "b\u00e9"]}`, i, i))
		policies = append(policies, fmt.Sprintf(`{"name": "p%d", "user": "u%d", "rules": [{"projects": ["A"], "permission_sets": ["X"]}]}`, i, i))
	}
	world := func(us, ps []string) string {
		return `{"organization": {"id": "acme"}, "projects": [{"name": "A"}], "users": [` + strings.Join(us, ",\n") +
			`], "groups": null, "applications": [], "policies": [` + strings.Join(ps, ",\n") + `]}`
	}
	with := func(l []string, i int, s string) []string {
		l = append([]string(nil), l...)
		l[i] = s
		return l
	}
	docs := []string{
		doc,
		world(users, policies),
		world(with(users, 900, `{"id": "x", "locked": "yes"}`), with(policies, 3, `{"nmae": "p"}`)),
		world(with(users, 10, `null`), policies),
		world(users, with(with(policies, 999, `{"name": 1}`), 500, `{"rules": [{"projects": {}}]}`)),
		world(users, with(policies, 7, `{"name": "a", "name": "b"}`)),
		world(users, with(policies, 7, `{"name": "a\ud800"}`)),
		world(users, with(policies, 7, `{"name": "a",, "b"}`)),
		world(users, with(policies, 2999, `{"name": "a"`)),
		world(users, with(policies, 1500, `{"name": "a\"]},{\"b"}`)),
		world(with(users, 2000, `{"email": "}],[{"}`), with(policies, 1700, `{"name": "\\"}`)),
		world(users, with(policies, 1024, `{"name": "x"}, {"name": "y"}`)),
		world(users, with(policies, 1024, `{"name": "x"}]`)),
		world(users, policies) + " x",
		`{"policies": [], "users": [], "nope": 1}`,
		`{"users": [{"email": "a"}], "users": []}`,
		`{"name": "p", "rules": [{"organization": true, "permission_sets": ["X"]}], "tags": ["t"]}`,
		`{"api_keys": [{"access_key": "k", "secret": "s"}]}`,
		`{"\u0075sers": [{"email": "a"}]}`,
		` [1]`,
		`{"users": [1, 2]}`,
		`{"users": [{"email": "a"}, ]}`,
	}
	for i, data := range docs {
		fs, ks, es := decodeWith(t, data, false)
		fp, kp, ep := decodeWith(t, data, true)
		require.Equal(t, es, ep, "doc %d: error", i)
		if es == nil {
			require.Empty(t, cmp.Diff(fs, fp), "doc %d: value", i)
			require.Equal(t, ks, kp, "doc %d: keys", i)
		}
	}
	_, _, err := decodeWith(t, docs[1], true)
	require.NoError(t, err)
	old := parallelMin
	parallelMin = 0
	plans := planArrays([]byte(docs[1]))
	parallelMin = old
	require.Len(t, plans, 2, "the world's users and policies are split")
	_, _, err = decodeWith(t, docs[2], true)
	require.ErrorContains(t, err, "users[900].locked", "the first error in document order wins")
}

// BenchmarkDecodeWorld decodes a world of 100k users and 100k policies,
// on one goroutine and split between several.
func BenchmarkDecodeWorld(b *testing.B) {
	var sb strings.Builder
	sb.WriteString(`{"organization": {"id": "acme"}, "users": [`)
	for i := range 100_000 {
		if i > 0 {
			sb.WriteString(",\n")
		}
		fmt.Fprintf(&sb, `{"id": "user-%08d", "email": "user%d@example.com", "type": "member", "locked": false}`, i, i)
	}
	sb.WriteString(`], "policies": [`)
	for i := range 100_000 {
		if i > 0 {
			sb.WriteString(",\n")
		}
		fmt.Fprintf(&sb, `{"id": "policy-%08d", "name": "policy %d", "user": "user-%08d", "rules": [{"projects": ["project-%d"], "permission_sets": ["InstancesReadOnly", "set-%d"]}, {"organization": true, "permission_sets": ["OrganizationReadOnly"]}]}`, i, i, i, i%100, i%20)
	}
	sb.WriteString(`]}`)
	data := []byte(sb.String())
	for _, parallel := range []bool{false, true} {
		b.Run(fmt.Sprintf("parallel=%v", parallel), func(b *testing.B) {
			old := parallelMin
			defer func() { parallelMin = old }()
			if !parallel {
				parallelMin = 1 << 62
			}
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				var f File
				if _, err := Decode(data, &f); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
