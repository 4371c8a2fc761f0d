package conditions_test

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/iamkit/iam"
	"github.com/iamkit/iam/conditions"
)

// FuzzCompile compiles arbitrary expressions: no panic; a rejection starts
// with "iam: condition: " and matches iam.ErrInvalid; an accepted
// condition evaluates, without panicking and the same way twice, against
// a few requests (none, empty, full, IPv6, a list request, a long user
// agent and resource), and an evaluation error always comes with false.
//
// To fuzz: go test -run '^$' -fuzz '^FuzzCompile$' -fuzztime 30s ./conditions
func FuzzCompile(f *testing.F) {
	for _, expr := range []string{
		officeHours, terraform, fromIP, fromIPSingle, fromLAN, prodResource,
		`true`, `false`, `1 + 1`, `request.ip ==`, `request.agent == ""`, `resource.zone == "x"`, `resource["zone"] == "x"`,
		`inIpRange(request.ip, "10.0.0.0/33")`, `inIpRange("10.0.0.300", "10.0.0.0/8")`, `inIpRange(request.ip, request.user_agent)`,
		`request.time.getHours("Mars/Olympus") > 1`, `request.time.getHours(request.user_agent) > 1`,
		`request.time > timestamp("2025-01-01T00:00:00Z") && request.time < timestamp("2030-01-01T00:00:00Z")`,
		`request.time - duration("1h") < timestamp("2025-01-01T00:00:00Z")`, `duration("forever") > duration("1s")`,
		`resource.name.matches("^prod-[a-z]+$")`, `resource.name.matches("(")`, `resource.id in ["a", "b"]`,
		`size(resource) == 0`, `resource.all(k, k.size() < 10)`, `"id" in resource && resource["id"] == "x"`,
		`[1, 2, 3].all(x, [1, 2, 3].all(y, [1, 2, 3].all(z, x + y + z > 0)))`,
		`request.user_agent.split("/").size() > 1`, `int(request.ip) > 0`, `request.ip.size() / 0 == 1`,
		`has(request.ip)`, `request.ip + request.user_agent == ""`, `!(`, `(((((((((((true)))))))))))`,
		strings.Repeat("!", 300) + "true", strings.Repeat("(", 300) + "true" + strings.Repeat(")", 300),
		"request.ip == '\xff'", "'\u00e9' == resource.name", "request.ip == \"a\" // comment\n|| true",
	} {
		f.Add(expr)
	}
	engine := conditions.New(conditions.WithClock(func() time.Time { return time.Date(2025, 1, 14, 9, 0, 0, 0, time.UTC) }))
	at := time.Date(2025, 7, 15, 8, 0, 0, 0, time.UTC)
	requests := []*iam.Request{
		nil,
		{},
		{IP: netip.MustParseAddr("203.0.113.7"), Time: at, UserAgent: "terraform/1.9.0",
			Resource: &iam.Resource{ID: "11111111-2222-3333-4444-555555555555", Name: "prod-db", Locality: "fr-par-1"}},
		{IP: netip.MustParseAddr("fe80::1%eth0"), Time: at.In(time.FixedZone("X", -10*3600)), UserAgent: "\xff\xfe"},
		{IP: netip.MustParseAddr("::ffff:192.168.1.1"), Time: at},
		{UserAgent: strings.Repeat("é", 400), Resource: &iam.Resource{Name: strings.Repeat("n", 5000)}},
	}
	f.Fuzz(func(t *testing.T, expr string) {
		c, err := engine.Compile(expr)
		if err != nil {
			if c != nil {
				t.Fatalf("Compile(%q) returned a condition with its error", expr)
			}
			if !strings.HasPrefix(err.Error(), "iam: condition: ") {
				t.Fatalf("Compile(%q): the error does not start with \"iam: condition: \": %q", expr, err)
			}
			if !errors.Is(err, iam.ErrInvalid) {
				t.Fatalf("Compile(%q): the error does not match iam.ErrInvalid: %v", expr, err)
			}
			return
		}
		for _, req := range requests {
			ok, err := c.Eval(req)
			if err != nil && ok {
				t.Fatalf("Eval(%q) is true with an error: %v", expr, err)
			}
			ok2, err2 := c.Eval(req)
			if ok2 != ok || (err == nil) != (err2 == nil) {
				t.Fatalf("Eval(%q) changed its answer: %v, %v then %v, %v", expr, ok, err, ok2, err2)
			}
		}
	})
}
