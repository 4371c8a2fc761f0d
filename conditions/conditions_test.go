package conditions_test

import (
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
	_ "time/tzdata" // the tests must not depend on the machine's time zone database

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iamkit/iam"
	"github.com/iamkit/iam/conditions"
)

// Documented examples (Scaleway's IAM conditions documentation).
const (
	officeHours = `request.time.getDayOfWeek("Europe/Paris") >= 1 && request.time.getDayOfWeek("Europe/Paris") <= 5 && ` +
		`request.time.getHours("Europe/Paris") >= 9 && request.time.getHours("Europe/Paris") < 18`
	terraform    = `request.user_agent.contains("terraform/")`
	fromIP       = `request.ip == "203.0.113.7"`
	fromIPSingle = `request.ip == '203.0.113.7'` // as in the seed file (testdata/seed.json)
	fromLAN      = `inIpRange(request.ip, "192.168.0.0/16")`
	prodResource = `has(resource.id) && resource.name.startsWith("prod-")`
)

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func paris(s string) time.Time {
	loc, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		panic(err)
	}
	t, err := time.ParseInLocation("2006-01-02T15:04", s, loc)
	if err != nil {
		panic(err)
	}
	return t
}

func ip(s string) netip.Addr { return netip.MustParseAddr(s) }

// eval compiles expr with a fresh engine and evaluates it against req.
func eval(t *testing.T, expr string, req iam.Request) (bool, error) {
	t.Helper()
	c, err := conditions.New().Compile(expr)
	require.NoError(t, err, expr)
	return c.Eval(&req)
}

type evalCase struct {
	name string
	expr string
	req  iam.Request
	want bool
}

func runEvalCases(t *testing.T, cases []evalCase) {
	t.Helper()
	e := conditions.New()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := e.Compile(tc.expr)
			require.NoError(t, err)
			got, err := c.Eval(&tc.req)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestDocumentedExamples(t *testing.T) {
	t.Parallel()
	runEvalCases(t, []evalCase{
		// Paris is UTC+1 in winter (CET) and UTC+2 in summer (CEST).
		{"office hours: Tuesday 10:00 Paris, winter", officeHours, iam.Request{Time: utc("2025-01-14T09:00:00Z")}, true},
		{"office hours: Tuesday 10:00 Paris, summer", officeHours, iam.Request{Time: utc("2025-07-15T08:00:00Z")}, true},
		{"office hours: Tuesday 09:30 Paris, summer (07:30 UTC)", officeHours, iam.Request{Time: utc("2025-07-15T07:30:00Z")}, true},
		{"office hours: Tuesday 18:30 Paris, summer (16:30 UTC)", officeHours, iam.Request{Time: utc("2025-07-15T16:30:00Z")}, false},
		{"office hours: Tuesday 08:59 Paris, winter", officeHours, iam.Request{Time: utc("2025-01-14T07:59:00Z")}, false},
		{"office hours: Tuesday 17:59 Paris, winter", officeHours, iam.Request{Time: utc("2025-01-14T16:59:00Z")}, true},
		{"office hours: Tuesday 20:00 Paris", officeHours, iam.Request{Time: paris("2025-01-14T20:00")}, false},
		{"office hours: Saturday 10:00 Paris", officeHours, iam.Request{Time: paris("2025-01-18T10:00")}, false},
		{"office hours: Sunday 10:00 Paris", officeHours, iam.Request{Time: paris("2025-01-19T10:00")}, false},
		{"office hours: Monday 09:00 Paris", officeHours, iam.Request{Time: paris("2025-01-13T09:00")}, true},
		{"office hours: Friday 17:00 Paris", officeHours, iam.Request{Time: paris("2025-01-17T17:00")}, true},
		{"office hours: time in another zone", officeHours, iam.Request{Time: utc("2025-01-14T09:00:00Z").In(time.FixedZone("X", -10*3600))}, true},

		{"terraform", terraform, iam.Request{UserAgent: "terraform/1.9.0 (+https://www.terraform.io) terraform-provider-scaleway/2.50.0"}, true},
		{"not terraform", terraform, iam.Request{UserAgent: "curl/8.5.0"}, false},
		{"no user agent", terraform, iam.Request{}, false},

		{"ip", fromIP, iam.Request{IP: ip("203.0.113.7")}, true},
		{"other ip", fromIP, iam.Request{IP: ip("203.0.113.8")}, false},
		{"no ip", fromIP, iam.Request{}, false},
		{"ip, single quotes", fromIPSingle, iam.Request{IP: ip("203.0.113.7")}, true},
		{"other ip, single quotes", fromIPSingle, iam.Request{IP: ip("198.51.100.7")}, false},

		{"in range", fromLAN, iam.Request{IP: ip("192.168.12.34")}, true},
		{"out of range", fromLAN, iam.Request{IP: ip("192.169.0.1")}, false},

		{"prod resource", prodResource, iam.Request{Resource: &iam.Resource{ID: "11111111-2222-3333-4444-555555555555", Name: "prod-db"}}, true},
		{"dev resource", prodResource, iam.Request{Resource: &iam.Resource{ID: "11111111-2222-3333-4444-555555555555", Name: "dev-db"}}, false},
		{"list request", prodResource, iam.Request{}, false},
	})
}

func TestRequestIP(t *testing.T) {
	t.Parallel()
	runEvalCases(t, []evalCase{
		{"IPv4", `request.ip == "198.51.100.1"`, iam.Request{IP: ip("198.51.100.1")}, true},
		{"IPv6", `request.ip == "2001:db8::1"`, iam.Request{IP: ip("2001:db8:0:0::1")}, true},
		{"IPv4-mapped IPv6 reads as IPv4", `request.ip == "198.51.100.1"`, iam.Request{IP: ip("::ffff:198.51.100.1")}, true},
		{"IPv6 zone dropped", `request.ip == "fe80::1"`, iam.Request{IP: ip("fe80::1%eth0")}, true},
		{"none is the empty string", `request.ip == ""`, iam.Request{}, true},
		{"string functions", `request.ip.startsWith("10.")`, iam.Request{IP: ip("10.1.2.3")}, true},
	})
}

func TestRequestTime(t *testing.T) {
	t.Parallel()
	fixed := utc("2025-06-01T12:00:00Z")
	e := conditions.New(conditions.WithClock(func() time.Time { return fixed }))
	c, err := e.Compile(`request.time == timestamp("2025-06-01T12:00:00Z")`)
	require.NoError(t, err)

	ok, err := c.Eval(&iam.Request{}) // zero Time: the clock
	require.NoError(t, err)
	assert.True(t, ok)

	ok, err = c.Eval(&iam.Request{Time: fixed.Add(time.Second)}) // a Time wins over the clock
	require.NoError(t, err)
	assert.False(t, ok)

	ok, err = c.Eval(&iam.Request{Time: fixed.In(time.FixedZone("X", 3600))}) // an instant, whatever its zone
	require.NoError(t, err)
	assert.True(t, ok)

	runEvalCases(t, []evalCase{
		{"comparison", `request.time < timestamp("2026-01-01T00:00:00Z")`, iam.Request{Time: fixed}, true},
		{"arithmetic", `request.time - duration("1h") > timestamp("2025-06-01T10:30:00Z")`, iam.Request{Time: fixed}, true},
		{"no zone is UTC", `request.time.getHours() == 12`, iam.Request{Time: fixed.In(time.FixedZone("X", 3*3600))}, true},
		{"day of week in the zone", `request.time.getDayOfWeek("Europe/Paris") == 6`, iam.Request{Time: utc("2025-01-17T23:30:00Z")}, true},
		{"offset zone", `request.time.getHours("+05:30") == 17 && request.time.getMinutes("+05:30") == 30`, iam.Request{Time: fixed}, true},
		{"negative offset zone", `request.time.getHours("-05:30") == 6 && request.time.getMinutes("-05:30") == 30`, iam.Request{Time: fixed}, true},
		// Daylight saving time starts on 2025-03-30 at 02:00 CET (01:00 UTC).
		{"before the DST change", `request.time.getHours("Europe/Paris") == 1`, iam.Request{Time: utc("2025-03-30T00:30:00Z")}, true},
		{"after the DST change", `request.time.getHours("Europe/Paris") == 3`, iam.Request{Time: utc("2025-03-30T01:30:00Z")}, true},
		{"date parts", `request.time.getFullYear("Europe/Paris") == 2025 && request.time.getMonth("Europe/Paris") == 0 && ` +
			`request.time.getDate("Europe/Paris") == 1 && request.time.getDayOfMonth("Europe/Paris") == 0 && request.time.getDayOfYear("Europe/Paris") == 0`,
			iam.Request{Time: utc("2024-12-31T23:30:00Z")}, true},
	})
}

func TestRequestTimeReadOnce(t *testing.T) {
	t.Parallel()
	// The clock is read once per evaluation, however often the condition
	// names request.time: a clock that moves between reads cannot make
	// 17:59:59.999 and 18:00 meet in one evaluation.
	var mu sync.Mutex
	calls := 0
	clock := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		calls++
		return utc("2025-01-14T16:59:59Z").Add(time.Duration(calls-1) * time.Second)
	}
	c, err := conditions.New(conditions.WithClock(clock)).Compile(officeHours)
	require.NoError(t, err)
	ok, err := c.Eval(&iam.Request{})
	require.NoError(t, err)
	assert.True(t, ok)
	assert.Equal(t, 1, calls)
}

func TestRequestUserAgent(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("a", 300)
	// 254 ASCII bytes then "é" (2 bytes): cutting at 255 would split it.
	split := strings.Repeat("b", 254) + "é" + "tail"
	runEvalCases(t, []evalCase{
		{"value", `request.user_agent == "scaleway-cli/2.30"`, iam.Request{UserAgent: "scaleway-cli/2.30"}, true},
		{"empty", `request.user_agent == ""`, iam.Request{}, true},
		{"truncated to 255 bytes", `size(request.user_agent) == 255 && request.user_agent == "` + long[:255] + `"`, iam.Request{UserAgent: long}, true},
		{"exactly 255 bytes kept", `size(request.user_agent) == 255`, iam.Request{UserAgent: long[:255]}, true},
		{"cut at a UTF-8 boundary", `request.user_agent == "` + strings.Repeat("b", 254) + `"`, iam.Request{UserAgent: split}, true},
		{"multi-byte kept when it fits", `request.user_agent.endsWith("é")`, iam.Request{UserAgent: strings.Repeat("c", 253) + "é"}, true},
		{"invalid UTF-8 replaced", `request.user_agent == "a\uFFFDb"`, iam.Request{UserAgent: "a\xffb"}, true},
	})
}

func TestResource(t *testing.T) {
	t.Parallel()
	full := &iam.Resource{ID: "srv-1", Name: "prod-web", Locality: "fr-par-1"}
	runEvalCases(t, []evalCase{
		{"id", `resource.id == "srv-1"`, iam.Request{Resource: full}, true},
		{"name", `resource.name == "prod-web"`, iam.Request{Resource: full}, true},
		{"locality", `resource.locality == "fr-par-1"`, iam.Request{Resource: full}, true},
		{"index syntax", `resource["locality"].startsWith("fr-par")`, iam.Request{Resource: full}, true},
		{"has all", `has(resource.id) && has(resource.name) && has(resource.locality)`, iam.Request{Resource: full}, true},
		{"list request: has(resource.id) is false", `has(resource.id)`, iam.Request{}, false},
		{"list request: no field", `!has(resource.id) && !has(resource.name) && !has(resource.locality) && size(resource) == 0`, iam.Request{}, true},
		{"only the fields set", `has(resource.id) && !has(resource.name) && !has(resource.locality)`, iam.Request{Resource: &iam.Resource{ID: "srv-1"}}, true},
		{"in", `"name" in resource`, iam.Request{Resource: full}, true},
		{"a map", `resource == {"id": "srv-1", "name": "prod-web", "locality": "fr-par-1"}`, iam.Request{Resource: full}, true},
		{"guarded list request", `!has(resource.name) || resource.name.startsWith("prod-")`, iam.Request{}, true},
	})
}

func TestResourceUnsetFieldIsRuntimeError(t *testing.T) {
	t.Parallel()
	// Reading a field the request does not have fails, and so grants
	// nothing: guard with has().
	ok, err := eval(t, `resource.name.startsWith("prod-")`, iam.Request{})
	require.Error(t, err)
	assert.False(t, ok)
	assert.Contains(t, err.Error(), "no such key")
	assert.True(t, strings.HasPrefix(err.Error(), "iam: condition: "), err.Error())
}

func TestInIPRange(t *testing.T) {
	t.Parallel()
	runEvalCases(t, []evalCase{
		{"IPv4 in", `inIpRange(request.ip, "10.0.0.0/8")`, iam.Request{IP: ip("10.20.30.40")}, true},
		{"IPv4 out", `inIpRange(request.ip, "10.0.0.0/8")`, iam.Request{IP: ip("11.0.0.1")}, false},
		{"IPv4 host route", `inIpRange(request.ip, "203.0.113.7/32")`, iam.Request{IP: ip("203.0.113.7")}, true},
		{"IPv4 boundary", `inIpRange(request.ip, "192.168.0.0/16")`, iam.Request{IP: ip("192.168.255.255")}, true},
		{"IPv6 in", `inIpRange(request.ip, "2001:db8::/32")`, iam.Request{IP: ip("2001:db8:1234::1")}, true},
		{"IPv6 out", `inIpRange(request.ip, "2001:db8::/32")`, iam.Request{IP: ip("2001:db9::1")}, false},
		{"IPv4 not in an IPv6 range", `inIpRange(request.ip, "::/0")`, iam.Request{IP: ip("10.0.0.1")}, false},
		{"IPv6 not in an IPv4 range", `inIpRange(request.ip, "0.0.0.0/0")`, iam.Request{IP: ip("2001:db8::1")}, false},
		{"IPv4-mapped in an IPv4 range", `inIpRange(request.ip, "10.0.0.0/8")`, iam.Request{IP: ip("::ffff:10.0.0.1")}, true},
		{"literal address", `inIpRange("172.16.5.4", "172.16.0.0/12")`, iam.Request{}, true},
		{"negated", `!inIpRange(request.ip, "10.0.0.0/8")`, iam.Request{IP: ip("8.8.8.8")}, true},
	})

	for _, tc := range []struct {
		name, expr string
		req        iam.Request
		want       string
	}{
		{"invalid subnet at run time", `inIpRange(request.ip, resource.name)`, iam.Request{IP: ip("10.0.0.1"), Resource: &iam.Resource{Name: "10.0.0.0"}}, `invalid subnet "10.0.0.0"`},
		{"request without an IP", `inIpRange(request.ip, "10.0.0.0/8")`, iam.Request{}, `invalid IP address ""`},
		{"negated, without an IP", `!inIpRange(request.ip, "10.0.0.0/8")`, iam.Request{}, `invalid IP address ""`},
		{"invalid ip at run time", `inIpRange(resource.name, "10.0.0.0/8")`, iam.Request{Resource: &iam.Resource{Name: "10.0.0.256"}}, `invalid IP address "10.0.0.256"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ok, err := eval(t, tc.expr, tc.req)
			require.Error(t, err)
			assert.False(t, ok)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

var position = regexp.MustCompile(`\b\d+:\d+: `)

func TestCompileErrors(t *testing.T) {
	t.Parallel()
	e := conditions.New()
	for _, tc := range []struct {
		name, expr string
		want       []string // substrings of the message
	}{
		{"syntax error", `request.ip ==`, []string{"1:14: Syntax error"}},
		{"syntax error on line 2", "request.ip == '203.0.113.7' &&\n  (request.user_agent", []string{"2:22: Syntax error"}},
		{"non-bool result", `request.ip`, []string{"of type string", "must be a bool"}},
		{"non-bool result: int", `1 + 2`, []string{"of type int"}},
		{"unknown variable", `region == "fr-par"`, []string{"1:1: undeclared reference to 'region'", "request.ip"}},
		{"unknown request field", `request.agent == "x"`, []string{"1:1: undeclared reference"}},
		{"unknown resource field", `resource.zone == "fr-par-1"`, []string{"1:9: unknown resource field \"zone\""}},
		{"unknown resource field in has", `!has(resource.tags)`, []string{"unknown resource field \"tags\""}},
		{"unknown resource key", `resource["region"] == "fr-par"`, []string{"1:10: unknown resource field \"region\""}},
		{"type mismatch", `request.ip == 1`, []string{"1:12: found no matching overload for '_==_'"}},
		{"wrong argument to inIpRange", `inIpRange(request.ip, 16)`, []string{"1:10: found no matching overload for 'inIpRange'"}},
		{"invalid literal subnet", `inIpRange(request.ip, "10.0.0.0/33")`, []string{"1:23: inIpRange: invalid subnet"}},
		{"invalid literal address", `inIpRange("10.0.0", "10.0.0.0/8")`, []string{"1:11: inIpRange: invalid IP address"}},
		{"unknown time zone", `request.time.getHours("Europe/Pariss") < 18`, []string{"1:23: unknown time zone \"Europe/Pariss\""}},
		{"invalid offset", `request.time.getHours("+24:00") < 18`, []string{"invalid time zone offset"}},
		{"invalid regex", `request.user_agent.matches("(")`, []string{"invalid matches argument"}},
		{"invalid timestamp literal", `request.time > timestamp("yesterday")`, []string{"invalid timestamp argument"}},
		{"empty", ``, []string{"Syntax error"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := e.Compile(tc.expr)
			require.Error(t, err)
			assert.Nil(t, c)
			msg := err.Error()
			assert.True(t, strings.HasPrefix(msg, "iam: condition: "), msg)
			assert.True(t, errors.Is(err, iam.ErrInvalid), "errors.Is(err, iam.ErrInvalid)")
			assert.NotContains(t, msg, "\n", "one line")
			for _, w := range tc.want {
				assert.Contains(t, msg, w)
			}
			if tc.name != "non-bool result" && tc.name != "non-bool result: int" {
				assert.Regexp(t, position, msg, "names a line:column")
			}
		})
	}
}

func TestRuntimeErrorGrantsNothing(t *testing.T) {
	t.Parallel()
	for _, expr := range []string{
		`resource.id == "x"`,                           // no such key on a list request
		`request.time.getHours(resource.locality) > 0`, // not a time zone
		`int(resource.name) > 0`,                       // not a number
	} {
		ok, err := eval(t, expr, iam.Request{Resource: &iam.Resource{Name: "prod", Locality: "fr-par-1"}})
		if expr == `resource.id == "x"` {
			ok, err = eval(t, expr, iam.Request{})
		}
		require.Error(t, err, expr)
		assert.False(t, ok, expr)
		assert.True(t, strings.HasPrefix(err.Error(), "iam: condition: "), err.Error())
	}
}

func TestCostLimit(t *testing.T) {
	t.Parallel()
	// 10^4 iterations of a nested comprehension: over the default limit,
	// rejected at Compile.
	list := "[1,2,3,4,5,6,7,8,9,10]"
	nested := fmt.Sprintf("%[1]s.all(a, %[1]s.all(b, %[1]s.all(c, %[1]s.all(d, a+b+c+d > 0))))", list)
	_, err := conditions.New().Compile(nested)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "may cost up to")
	assert.Contains(t, err.Error(), "over the limit of 10000")
	assert.True(t, errors.Is(err, iam.ErrInvalid))

	// A higher limit lets it compile and run to the end.
	c, err := conditions.New(conditions.WithCostLimit(10_000_000)).Compile(nested)
	require.NoError(t, err)
	ok, err := c.Eval(&iam.Request{})
	require.NoError(t, err)
	assert.True(t, ok)

	// The estimate assumes resource fields of the longest a request may
	// hold, so an expression within the limit at Compile stays within it
	// at run time, whatever the request.
	_, err = conditions.New(conditions.WithCostLimit(100)).Compile(`resource.name.contains("x")`)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "over the limit of 100")
	c, err = conditions.New(conditions.WithCostLimit(200)).Compile(`resource.name.contains("x")`)
	require.NoError(t, err)
	ok, err = c.Eval(&iam.Request{Resource: &iam.Resource{Name: strings.Repeat("y", iam.MaxRequestField-1) + "x"}})
	require.NoError(t, err)
	assert.True(t, ok)

	// The documented examples stay far below the default, at their worst.
	for _, expr := range []string{officeHours, terraform, fromIP, fromLAN, prodResource} {
		c, err := conditions.New(conditions.WithCostLimit(50)).Compile(expr)
		require.NoError(t, err, expr)
		_, err = c.Eval(&iam.Request{
			Time: utc("2025-01-14T09:00:00Z"), IP: ip("192.168.1.1"), UserAgent: strings.Repeat("x", 300),
			Resource: &iam.Resource{ID: "i", Name: "prod-" + strings.Repeat("n", 250)},
		})
		require.NoError(t, err, expr)
	}
}

func TestNilRequest(t *testing.T) {
	t.Parallel()
	c, err := conditions.New().Compile(`request.ip == "" && !has(resource.id)`)
	require.NoError(t, err)
	ok, err := c.Eval(nil)
	require.NoError(t, err)
	assert.True(t, ok)
}

func TestConcurrentEval(t *testing.T) {
	t.Parallel()
	e := conditions.New()
	exprs := []string{officeHours, terraform, fromIP, fromLAN, prodResource}
	conds := make([]iam.Condition, len(exprs))
	for i, expr := range exprs {
		c, err := e.Compile(expr)
		require.NoError(t, err)
		conds[i] = c
	}
	yes := iam.Request{Time: paris("2025-01-14T10:00"), IP: ip("203.0.113.7"), UserAgent: "terraform/1.9",
		Resource: &iam.Resource{ID: "1", Name: "prod-a"}}
	no := iam.Request{Time: paris("2025-01-18T10:00"), IP: ip("198.51.100.1"), UserAgent: "curl/8"}
	lan := iam.Request{Time: paris("2025-01-18T10:00"), IP: ip("192.168.1.1")}
	want := func(i int, req *iam.Request) bool {
		if i == 3 { // fromLAN
			return req == &lan
		}
		return req == &yes
	}

	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Compiling concurrently is safe too.
			if _, err := e.Compile(fmt.Sprintf(`request.ip == "10.0.0.%d"`, g)); err != nil {
				errs <- err
				return
			}
			for n := range 500 {
				for i, c := range conds {
					req := []*iam.Request{&yes, &no, &lan}[(n+g+i)%3]
					got, err := c.Eval(req)
					if err != nil {
						errs <- err
						return
					}
					if got != want(i, req) {
						errs <- fmt.Errorf("condition %d, request %d: got %v", i, (n+g+i)%3, got)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func BenchmarkEval(b *testing.B) {
	req := &iam.Request{
		Time:      utc("2025-01-14T09:00:00Z"),
		IP:        ip("192.168.1.20"),
		UserAgent: "terraform/1.9.0 terraform-provider-scaleway/2.50.0",
		Resource:  &iam.Resource{ID: "11111111-2222-3333-4444-555555555555", Name: "prod-db", Locality: "fr-par-1"},
	}
	for _, bc := range []struct{ name, expr string }{
		{"ip", `request.ip == "192.168.1.20"`},
		{"inIpRange", fromLAN},
		{"user_agent", terraform},
		{"resource", prodResource},
		{"office_hours", officeHours},
		{"typical", `inIpRange(request.ip, "192.168.0.0/16") && request.time.getHours("Europe/Paris") >= 9 && request.time.getHours("Europe/Paris") < 18`},
	} {
		b.Run(bc.name, func(b *testing.B) {
			c, err := conditions.New().Compile(bc.expr)
			require.NoError(b, err)
			b.ReportAllocs()
			for b.Loop() {
				ok, err := c.Eval(req)
				if err != nil || !ok {
					b.Fatal(ok, err)
				}
			}
		})
	}
}
