package wire

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// A document split between goroutines decodes, or fails, exactly as it
// does on one, whatever bytes are changed in it: quotes, backslashes,
// brackets, commas, nulls and invalid UTF-8 around the guessed chunk
// starts included.
func TestParallelDecodeOfCorruptedDocumentsMatchesSequential(t *testing.T) {
	if runtime.GOMAXPROCS(0) < 2 {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	}
	var users, policies []string
	for i := range 2100 {
		users = append(users, fmt.Sprintf(`{"id": "u%d", "email": "u%d@x.io", "tags": ["a", "b"]}`, i, i))
		policies = append(policies, fmt.Sprintf(`{"name": "p%d", "user": "u%d", "rules": [{"projects": ["A"], "permission_sets": ["X"]}]}`, i, i))
	}
	base := `{"organization": {"id": "acme"}, "users": [` + strings.Join(users, ",") + `], "policies": [` + strings.Join(policies, ", ") + `]}`
	old := parallelMin
	parallelMin = 0
	plans := planArrays([]byte(base))
	parallelMin = old
	var starts []int
	for _, p := range plans {
		starts = append(starts, p.starts...)
	}
	if len(starts) < 4 {
		t.Fatalf("the document is not split: %d chunks", len(starts))
	}
	pieces := []string{`"`, `\`, `\"`, `[`, `]`, `{`, `}`, `,`, `null`, "\xff", `"},{"`, `"], "x": [`, ` `, `"users": [], `, `{"name": "q"},`}
	rng := rand.New(rand.NewPCG(31, 32))
	for i := range 150 {
		doc := []byte(base)
		for range 1 + rng.IntN(3) {
			at := starts[rng.IntN(len(starts))] + rng.IntN(9) - 4
			if rng.IntN(4) == 0 {
				at = rng.IntN(len(doc))
			}
			at = max(0, min(at, len(doc)))
			piece := pieces[rng.IntN(len(pieces))]
			if rng.IntN(2) == 0 && at < len(doc) { // replace a byte
				doc = append(doc[:at:at], append([]byte(piece), doc[at+1:]...)...)
			} else {
				doc = append(doc[:at:at], append([]byte(piece), doc[at:]...)...)
			}
		}
		fs, ks, es := decodeWith(t, string(doc), false)
		fp, kp, ep := decodeWith(t, string(doc), true)
		if fmt.Sprint(es) != fmt.Sprint(ep) {
			t.Fatalf("doc %d: sequential error %v, parallel %v", i, es, ep)
		}
		if es == nil {
			if d := cmp.Diff(fs, fp); d != "" {
				t.Fatalf("doc %d: values differ: %s", i, d)
			}
			if fmt.Sprint(ks) != fmt.Sprint(kp) {
				t.Fatalf("doc %d: keys differ", i)
			}
		}
	}
}
