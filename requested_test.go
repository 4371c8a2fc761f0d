package iam

import (
	"slices"
	"testing"
)

// TestRequestedPermissionResolvesAsThePatternsDo checks the catalogue's
// table of requested permissions against the path it saves a check: every
// set name and every declared permission it holds resolves as the split,
// the service lookup and the pattern scan would resolve it.
func TestRequestedPermissionResolvesAsThePatternsDo(t *testing.T) {
	var masks maskTable
	builtin := ScalewayCatalogue()
	own := []PermissionSet{{
		Name: "OwnServerReader", OrganizationID: "org", ScopeType: ScopeProjects,
		Permissions: []string{"instance:server:read", "instance:*:list"},
	}}
	base := compileCatalogue(builtin, nil, nil, &masks)
	for _, cat := range []*catalogue{base, compileCatalogue(builtin, own, base, &masks)} {
		org := &orgIndex{id: "org", cat: cat}
		var perms []string
		for name := range cat.bits {
			perms = append(perms, name)
		}
		for _, ds := range cat.declared {
			perms = append(perms, ds...)
		}
		if len(perms) < 100 {
			t.Fatalf("only %d permissions", len(perms))
		}
		for _, perm := range perms {
			fast := query{org: org, project: -1}
			if !fast.known(perm) {
				t.Errorf("%q: not in the table", perm)
				continue
			}
			slow := query{org: org, project: -1}
			if err := slow.resolveOther(perm); err != nil {
				t.Errorf("%q: %v", perm, err)
				continue
			}
			if fast.triple != slow.triple || fast.orgScoped != slow.orgScoped || fast.overflow != slow.overflow ||
				fast.service != slow.service || fast.resource != slow.resource || fast.action != slow.action ||
				len(fast.pats) != len(slow.pats) || !slices.Equal(fast.matches[:fast.nmatch], slow.matches[:slow.nmatch]) ||
				!fast.triple && fast.bit != slow.bit {
				t.Errorf("%q: table %+v, patterns %+v", perm, fast, slow)
			}
		}
		for _, perm := range []string{"instance:server:nosuch", "NoSuchSet", "instance:*:list", "a:b"} {
			q := query{org: org, project: -1}
			if q.known(perm) {
				t.Errorf("%q: in the table", perm)
			}
		}
	}
}
