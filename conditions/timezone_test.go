package conditions

import (
	"fmt"
	"testing"
	"time"
	_ "time/tzdata"

	"github.com/google/cel-go/cel"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTimeZoneOverridesMatchStdlib checks that the cached time zone
// overloads answer as CEL's standard library does.
func TestTimeZoneOverridesMatchStdlib(t *testing.T) {
	t.Parallel()
	plain, err := cel.NewEnv(cel.Variable(varTime, cel.TimestampType))
	require.NoError(t, err)
	ours := New()
	times := []string{
		"2025-01-14T09:00:00Z", "2025-03-30T00:59:59.999Z", "2025-03-30T01:00:00Z", "2025-10-26T00:30:00Z",
		"2025-10-26T01:30:00Z", "2024-12-31T23:30:00.123Z", "2024-02-29T12:00:00Z", "1999-12-31T23:59:59Z",
	}
	zones := []string{"Europe/Paris", "America/Los_Angeles", "Asia/Kolkata", "Australia/Lord_Howe", "UTC", "", "+05:30", "-03:00", "-00:30", "+00:00"}
	for _, acc := range timestampAccessors {
		for _, zone := range zones {
			expr := fmt.Sprintf("request.time.%s(%q)", acc.function, zone)
			want := compileRaw(t, plain, expr)
			_, err := ours.Compile(expr + " >= 0") // the validator accepts the zone
			require.NoError(t, err)
			got := compileRaw(t, ours.env, expr)
			for _, ts := range times {
				tm, err := time.Parse(time.RFC3339Nano, ts)
				require.NoError(t, err)
				vars := map[string]any{varTime: tm}
				w, _, werr := want.Eval(vars)
				require.NoError(t, werr, expr)
				g, _, gerr := got.Eval(vars)
				require.NoError(t, gerr, expr)
				assert.Equal(t, w.Value(), g.Value(), "%s at %s", expr, ts)
			}
		}
	}
}

func compileRaw(t *testing.T, env *cel.Env, expr string) cel.Program {
	t.Helper()
	checked, iss := env.Compile(expr)
	require.NoError(t, iss.Err(), expr)
	prg, err := env.Program(checked)
	require.NoError(t, err)
	return prg
}

func TestTimeZoneCache(t *testing.T) {
	t.Parallel()
	a, err := timeZone("Europe/Paris")
	require.NoError(t, err)
	b, err := timeZone("Europe/Paris")
	require.NoError(t, err)
	assert.Same(t, a, b, "loaded once")
	_, err = timeZone("Nowhere/Nothing")
	require.Error(t, err)
	_, err = timeZone("../../etc/passwd")
	require.Error(t, err)
	m := locations.Load()
	require.NotNil(t, m)
	assert.NotContains(t, *m, "Nowhere/Nothing", "failures are not cached")
}

func TestCutUTF8(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		s    string
		n    int
		want string
	}{
		{"abc", 5, "abc"},
		{"abc", 3, "abc"},
		{"abcd", 3, "abc"},
		{"aé", 2, "a"},  // é is 2 bytes
		{"a€", 3, "a"},  // € is 3 bytes
		{"a€", 4, "a€"}, //
		{"😀😀", 5, "😀"},  // 4 bytes each
		{"😀", 3, ""},
	} {
		assert.Equal(t, tc.want, cutUTF8(tc.s, tc.n), "%q %d", tc.s, tc.n)
	}
}
