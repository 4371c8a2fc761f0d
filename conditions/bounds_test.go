package conditions_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iamkit/iam"
	"github.com/iamkit/iam/conditions"
)

// An expression over iam.MaxConditionLength characters is refused before
// CEL parses it; one at the bound (in multi-byte characters) compiles.
func TestAConditionOverTheLengthBoundNeverCompiles(t *testing.T) {
	t.Parallel()
	e := conditions.New()
	fill := func(n int) string {
		// `request.user_agent == "ééé…"`: n characters in all.
		head := `request.user_agent == "`
		return head + strings.Repeat("é", n-len(head)-1) + `"`
	}
	_, err := e.Compile(fill(iam.MaxConditionLength))
	require.NoError(t, err)

	_, err = e.Compile(fill(iam.MaxConditionLength + 1))
	require.Error(t, err)
	assert.True(t, errors.Is(err, iam.ErrInvalid))
	assert.Contains(t, err.Error(), "more than 2048 characters")

	_, err = e.Compile(strings.Repeat(`request.ip == "203.0.113.7" || `, 4000) + "false")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "more than 2048 characters")
}

// A resource field over iam.MaxRequestField bytes is refused before the
// condition runs, so a regular expression never scans a long string; at
// the bound it runs.
func TestAConditionNeverRunsOverAnOversizedResourceField(t *testing.T) {
	t.Parallel()
	c, err := conditions.New().Compile(`has(resource.name) && resource.name.matches("^(a|b)*x$")`)
	require.NoError(t, err)
	for _, r := range []*iam.Resource{
		{Name: strings.Repeat("a", 8<<20)},
		{Name: "ax", ID: strings.Repeat("i", iam.MaxRequestField+1)},
		{Name: "ax", Locality: strings.Repeat("l", iam.MaxRequestField+1)},
	} {
		ok, err := c.Eval(&iam.Request{Resource: r})
		require.Error(t, err)
		assert.False(t, ok)
		assert.Contains(t, err.Error(), "over the limit of 1024")
	}
	ok, err := c.Eval(&iam.Request{Resource: &iam.Resource{Name: strings.Repeat("a", iam.MaxRequestField-1) + "x"}})
	require.NoError(t, err)
	assert.True(t, ok)
}
