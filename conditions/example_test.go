package conditions_test

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/iamkit/iam"
	"github.com/iamkit/iam/conditions"
)

// A condition is compiled once, when the rule is written, then evaluated
// against each request.
func Example() {
	engine := conditions.New()
	cond, err := engine.Compile(`inIpRange(request.ip, "192.168.0.0/16") && has(resource.id) && resource.name.startsWith("prod-")`)
	if err != nil {
		fmt.Println(err)
		return
	}

	office := iam.Request{
		IP:       netip.MustParseAddr("192.168.1.20"),
		Resource: &iam.Resource{ID: "11111111-2222-3333-4444-555555555555", Name: "prod-db", Locality: "fr-par-1"},
	}
	list := iam.Request{IP: netip.MustParseAddr("192.168.1.20")} // a list request: no resource

	for _, req := range []iam.Request{office, list} {
		ok, err := cond.Eval(&req)
		fmt.Println(ok, err)
	}
	// Output:
	// true <nil>
	// false <nil>
}

// Office hours in Paris, with the time given by the request (a zero
// Request.Time reads the engine's clock, see WithClock).
func ExampleEngine_Compile_officeHours() {
	cond, err := conditions.New().Compile(`request.time.getDayOfWeek("Europe/Paris") >= 1 && request.time.getDayOfWeek("Europe/Paris") <= 5 && ` +
		`request.time.getHours("Europe/Paris") >= 9 && request.time.getHours("Europe/Paris") < 18`)
	if err != nil {
		fmt.Println(err)
		return
	}
	tuesday := time.Date(2025, time.January, 14, 9, 0, 0, 0, time.UTC)  // 10:00 in Paris
	saturday := time.Date(2025, time.January, 18, 9, 0, 0, 0, time.UTC) // 10:00 in Paris
	for _, t := range []time.Time{tuesday, saturday} {
		ok, err := cond.Eval(&iam.Request{Time: t})
		fmt.Println(t.Weekday(), ok, err)
	}
	// Output:
	// Tuesday true <nil>
	// Saturday false <nil>
}

// Compile says where an expression goes wrong.
func ExampleEngine_Compile_error() {
	_, err := conditions.New().Compile(`request.ip == "203.0.113.7" && resource.zone == "fr-par-1"`)
	fmt.Println(err)
	// Output:
	// iam: condition: 1:40: unknown resource field "zone": a resource has id, name and locality
}
