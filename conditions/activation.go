package conditions

import (
	"net/netip"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"

	"github.com/iamkit/iam"
)

// activation gives the variables of one evaluation. Each value is computed
// on first use and kept, so that a condition naming request.time four
// times reads the clock once and sees one instant. Activations are pooled:
// the CEL program keeps nothing of them after Eval returns.
type activation struct {
	req *iam.Request
	now func() time.Time

	ip, ua, tm ref.Val
	resource   map[string]string // reused across evaluations
	resSet     bool
}

var activations = sync.Pool{New: func() any { return &activation{resource: make(map[string]string, len(resourceKeys))} }}

var emptyRequest iam.Request

func (a *activation) reset(req *iam.Request, now func() time.Time) {
	if req == nil {
		req = &emptyRequest
	}
	a.req, a.now = req, now
}

func (a *activation) release() {
	a.req, a.now, a.ip, a.ua, a.tm, a.resSet = nil, nil, nil, nil, nil, false
	clear(a.resource)
	activations.Put(a)
}

// ResolveName implements cel.Activation.
func (a *activation) ResolveName(name string) (any, bool) {
	switch name {
	case varIP:
		if a.ip == nil {
			a.ip = types.String(ipString(a.req.IP))
		}
		return a.ip, true
	case varTime:
		if a.tm == nil {
			t := a.req.Time
			if t.IsZero() {
				t = a.now()
			}
			a.tm = types.Timestamp{Time: t.UTC()}
		}
		return a.tm, true
	case varUserAgent:
		if a.ua == nil {
			a.ua = types.String(truncateUserAgent(a.req.UserAgent))
		}
		return a.ua, true
	case varResource:
		if !a.resSet {
			a.resSet = true
			if r := a.req.Resource; r != nil {
				set(a.resource, "id", r.ID)
				set(a.resource, "name", r.Name)
				set(a.resource, "locality", r.Locality)
			}
		}
		return a.resource, true
	}
	return nil, false
}

// Parent implements cel.Activation.
func (a *activation) Parent() cel.Activation { return nil }

func set(m map[string]string, k, v string) {
	if v != "" {
		m[k] = v
	}
}

// ipString is request.ip: the address without an IPv6 zone, an
// IPv4-mapped IPv6 address as IPv4 ("203.0.113.7", not
// "::ffff:203.0.113.7"), and "" when the request has no IP.
func ipString(ip netip.Addr) string {
	if !ip.IsValid() {
		return ""
	}
	return ip.Unmap().WithZone("").String()
}

// truncateUserAgent cuts ua to at most MaxUserAgentLength bytes without
// splitting a UTF-8 character; each run of invalid UTF-8 becomes one U+FFFD.
func truncateUserAgent(ua string) string {
	ua = cutUTF8(ua, MaxUserAgentLength)
	if !utf8.ValidString(ua) {
		ua = cutUTF8(strings.ToValidUTF8(ua, "\uFFFD"), MaxUserAgentLength)
	}
	return ua
}

// cutUTF8 returns the longest prefix of s of at most n bytes that ends at
// a character boundary.
func cutUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
