package iam

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func scalewayByName(t *testing.T) map[string]PermissionSet {
	t.Helper()
	m := map[string]PermissionSet{}
	for _, ps := range ScalewayCatalogue() {
		m[ps.Name] = ps
	}
	return m
}

func TestScalewayCatalogueMatchesSharedList(t *testing.T) {
	data, err := os.ReadFile("../shared/data/scaleway_permission_sets.tsv")
	if os.IsNotExist(err) {
		t.Skip("shared catalogue list not present")
	}
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	require.Equal(t, "name\tscope_type\tcategory", lines[0])

	cat := ScalewayCatalogue()
	require.Len(t, cat, len(lines)-1)
	for i, line := range lines[1:] {
		f := strings.Split(line, "\t")
		require.Len(t, f, 3, "shared line %d", i+2)
		assert.Equal(t, f[0], cat[i].Name, "row %d", i)
		assert.Equal(t, ScopeType(f[1]), cat[i].ScopeType, f[0])
		assert.Equal(t, []string{f[2]}, cat[i].Categories, f[0])
	}
}

func TestScalewayCatalogueShape(t *testing.T) {
	cat := ScalewayCatalogue()
	require.Len(t, cat, 202)
	seen := map[string]bool{}
	for _, ps := range cat {
		assert.False(t, seen[ps.Name], "duplicate %s", ps.Name)
		seen[ps.Name] = true
		assert.Empty(t, ps.OrganizationID, ps.Name)
		assert.NotEmpty(t, ps.Description, ps.Name)
		assert.LessOrEqual(t, len([]rune(ps.Description)), 200, ps.Name)
		assert.Len(t, ps.Categories, 1, ps.Name)
		if !strings.HasPrefix(ps.Name, "AllProducts") {
			assert.NotEmpty(t, ps.Permissions, "%s has no patterns", ps.Name)
		}
		for _, p := range ps.Permissions {
			service, _, _, err := parseTriple(p, true)
			if assert.NoError(t, err, "%s: %s", ps.Name, p) {
				assert.NotEqual(t, "*", service, "%s: %s", ps.Name, p)
			}
		}
	}
}

func TestScalewayCatalogueExamples(t *testing.T) {
	by := scalewayByName(t)
	tests := []struct {
		set          string
		perms        []string // exact own patterns, when given
		includes     []string
		doesNotCover []string // neither included nor the set itself
	}{
		{set: "InstancesFullAccess", perms: []string{"instance:*:*"},
			includes: []string{"InstancesServerCreate", "InstancesReadOnly", "InstancesServerSerialConsoleAccess"}},
		{set: "InstancesReadOnly", perms: []string{"instance:*:read", "instance:*:list"},
			includes:     []string{"InstancesServerList", "InstancesServerRead", "InstancesImageRead"},
			doesNotCover: []string{"InstancesServerWrite", "InstancesServerCreate", "InstancesServerSerialConsoleAccess"}},
		{set: "InstancesServerCreate", perms: []string{"instance:server:create"}},
		{set: "InstancesServerList", perms: []string{"instance:server:list"}},
		{set: "InstancesServerRead", perms: []string{"instance:server:read"}},
		{set: "InstancesServerWrite", perms: []string{"instance:server:update"}},
		{set: "ObjectStorageBucketsRead", perms: []string{"object-storage:bucket:read", "object-storage:bucket:list"}},
		{set: "ObjectStorageReadOnly", includes: []string{"ObjectStorageBucketsRead", "ObjectStorageObjectsRead"},
			doesNotCover: []string{"ObjectStorageObjectsWrite"}},
		{set: "ServerlessSQLDatabaseReadOnly",
			doesNotCover: []string{"ServerlessSQLDatabaseReadWrite", "ServerlessSQLDatabaseDataReadWrite"}},
		{set: "IAMManager", perms: []string{"iam:*:*"},
			includes: []string{"ProjectManager", "IAMPolicyManager", "IAMUserManager", "IAMReadOnly"}},
		{set: "IAMReadOnly", perms: []string{"iam:*:read", "iam:*:list"}, includes: []string{"IAMUserReadOnly"},
			doesNotCover: []string{"IAMUserManager"}},
		{set: "IAMUserManager", perms: []string{"iam:user:*"}, includes: []string{"IAMUserReadOnly"}},
		{set: "IAMUserReadOnly", perms: []string{"iam:user:read", "iam:user:list"}},
		{set: "IAMPolicyManager", perms: []string{"iam:policy:*"}},
		{set: "ProjectManager", perms: []string{"project:project:*"}},
		{set: "ProjectReadOnly", perms: []string{"project:project:read", "project:project:list"}},
		{set: "OrganizationManager", perms: []string{"organization:*:*"},
			includes: []string{"BillingManager", "IAMManager", "ProjectManager", "SupportTicketManager",
				"AbuseTicketManager", "OrganizationReadOnly"},
			doesNotCover: []string{"AuditTrailReadOnly", "AuditTrailFullAccess", "NotificationManagerFullAccess"}},
		{set: "BillingManager", perms: []string{"billing:*:*"}},
		{set: "SupportTicketManager", perms: []string{"support:ticket:*"}},
		{set: "AbuseTicketManager", perms: []string{"abuse:ticket:*"}},
		{set: "VPCFullAccess", doesNotCover: []string{"VPCGatewayFullAccess", "VPCGatewayReadOnly"}},
		{set: "AllProductsFullAccess", includes: []string{"InstancesFullAccess", "AllProductsReadOnly", "KeyManagerKeyDecrypt"},
			doesNotCover: []string{"IAMManager", "BillingReadOnly"}},
		{set: "AllProductsReadOnly", includes: []string{"InstancesReadOnly", "InstancesServerList", "ObjectStorageObjectsRead"},
			doesNotCover: []string{"InstancesFullAccess", "ServerlessSQLDatabaseReadWrite", "IAMReadOnly", "AllProductsFullAccess"}},
	}
	for _, tt := range tests {
		t.Run(tt.set, func(t *testing.T) {
			ps, ok := by[tt.set]
			require.True(t, ok, "no set %s", tt.set)
			if tt.perms != nil {
				assert.ElementsMatch(t, tt.perms, ps.Permissions)
			}
			for _, inc := range tt.includes {
				assert.Contains(t, ps.Includes, inc)
			}
			for _, not := range tt.doesNotCover {
				assert.NotContains(t, ps.Includes, not)
				assert.NotContains(t, closure(by, tt.set), not)
			}
		})
	}
}

// closure returns every set name that name includes, transitively.
func closure(by map[string]PermissionSet, name string) []string {
	var out []string
	seen := map[string]bool{name: true}
	stack := []string{name}
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, inc := range by[n].Includes {
			if !seen[inc] {
				seen[inc] = true
				out = append(out, inc)
				stack = append(stack, inc)
			}
		}
	}
	return out
}

func TestScalewayCatalogueIncludes(t *testing.T) {
	by := scalewayByName(t)
	for _, ps := range ScalewayCatalogue() {
		assert.IsNonDecreasing(t, ps.Includes, ps.Name)
		for _, inc := range ps.Includes {
			other, ok := by[inc]
			if !assert.True(t, ok, "%s includes unknown %s", ps.Name, inc) {
				continue
			}
			assert.NotEqual(t, ps.Name, inc)
			assert.Equal(t, ps.ScopeType, other.ScopeType, "%s includes %s", ps.Name, inc)
			if strings.HasSuffix(ps.Name, "ReadOnly") {
				assert.False(t, strings.HasSuffix(inc, "ReadWrite"), "%s includes %s", ps.Name, inc)
			}
		}
		assert.NotContains(t, closure(by, ps.Name), ps.Name, "%s includes itself through a cycle", ps.Name)
	}
}

// TestScalewayCataloguePatternsCoverIncludes checks that names and contents
// agree: a set's own patterns already cover those of every set it includes,
// except where the catalogue joins different services (AllProducts*, IAMManager
// with ProjectManager, OrganizationManager).
func TestScalewayCataloguePatternsCoverIncludes(t *testing.T) {
	by := scalewayByName(t)
	covers := func(pattern, sub string) bool {
		ps, pr, pa, _ := splitTriple(pattern)
		s, r, a, _ := splitTriple(sub)
		return segMatch(ps, s) && segMatch(pr, r) && segMatch(pa, a)
	}
	for _, ps := range ScalewayCatalogue() {
		if strings.HasPrefix(ps.Name, "AllProducts") || ps.Name == "OrganizationManager" {
			continue
		}
		for _, inc := range ps.Includes {
			if ps.Name == "IAMManager" && inc == "ProjectManager" {
				continue
			}
			for _, sub := range by[inc].Permissions {
				assert.True(t, slices.ContainsFunc(ps.Permissions, func(p string) bool { return covers(p, sub) }),
					"%s includes %s but its patterns do not cover %s", ps.Name, inc, sub)
			}
		}
	}
}

func TestScalewayCatalogueReturnsCopies(t *testing.T) {
	a := ScalewayCatalogue()
	want := a[0].Permissions[0]
	a[0].Permissions[0] = "mutated:x:y"
	a[0].Includes[0] = "Mutated"
	a[0].Declared[0] = "mutated:x:y"
	a[0].Categories[0] = "mutated"
	a[0].Name = "Mutated"
	_ = append(a[:1], a[2:]...) // shrinking the copy leaves the catalogue alone

	b := ScalewayCatalogue()
	require.Len(t, b, 202)
	assert.Equal(t, "ProjectManager", b[0].Name)
	assert.Equal(t, want, b[0].Permissions[0])
	assert.NotEqual(t, "Mutated", b[0].Includes[0])
	assert.Equal(t, "project:project:create", b[0].Declared[0])
	assert.Equal(t, "Organization-scoped: Projects", b[0].Categories[0])
	assert.Equal(t, "ProjectReadOnly", b[1].Name)
}

func TestParseScalewayCatalogueRejectsMalformedRows(t *testing.T) {
	row := func(cells ...string) string { return scalewayHeader + "\n" + strings.Join(cells, "\t") + "\n" }
	tests := map[string]string{
		"header":        "name\tscope\n",
		"columns":       row("A", "projects", "c", "a:b:c"),
		"scope type":    row("A", "project", "c", "a:b:c", "d"),
		"no patterns":   row("A", "projects", "c", "", "d"),
		"star service":  row("A", "projects", "c", "*:b:c", "d"),
		"bad pattern":   row("A", "projects", "c", "a:b", "d"),
		"upper case":    row("A", "projects", "c", "A:b:c", "d"),
		"partial glob":  row("A", "projects", "c", "a:b*:c", "d"),
		"description":   row("A", "projects", "c", "a:b:c", ""),
		"category":      row("A", "projects", "", "a:b:c", "d"),
		"stray space":   row("A ", "projects", "c", "a:b:c", "d"),
		"duplicate":     row("A", "projects", "c", "a:b:c", "d") + "A\tprojects\tc\ta:b:c\td\n",
		"crosses scope": row("IAMManager", "organization", "c", "iam:*:*", "d") + "ProjectManager\tprojects\tc\tproject:*:*\td\n",
	}
	for name, data := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := parseScalewayCatalogue(data)
			require.Error(t, err)
			assert.True(t, strings.HasPrefix(err.Error(), "iam: data/scaleway.tsv"), err.Error())
		})
	}
	sets, err := parseScalewayCatalogue(row("AllProductsReadOnly", "projects", "c", "", "d") +
		"XReadOnly\tprojects\tc\tx:*:read\td\n")
	require.NoError(t, err)
	assert.Equal(t, []string{"XReadOnly"}, sets[0].Includes)
}

// TestScalewayCatalogueKeepsLevelsApart: no pattern of a project-scoped
// set overlaps a pattern of an organization-scoped one, and the
// organization level is the services of the organization-scoped sets.
func TestScalewayCatalogueKeepsLevelsApart(t *testing.T) {
	cat := ScalewayCatalogue()
	level := map[string]ScopeType{}
	for _, a := range cat {
		for _, p := range a.Permissions {
			service := strings.Split(p, ":")[0]
			if st, ok := level[service]; ok {
				assert.Equal(t, st, a.ScopeType, "service %s is named by sets of both scope types (%s)", service, a.Name)
			}
			level[service] = a.ScopeType
			for _, b := range cat {
				if b.ScopeType == a.ScopeType {
					continue
				}
				for _, q := range b.Permissions {
					assert.False(t, patternsOverlap(p, q), "%s (%s) and %s (%s) overlap", p, a.Name, q, b.Name)
				}
			}
		}
	}
	var orgLevel []string
	for s, st := range level {
		if st == ScopeOrganization {
			orgLevel = append(orgLevel, s)
		}
	}
	slices.Sort(orgLevel)
	assert.Equal(t, []string{"abuse", "audit-trail", "billing", "environmental-footprint", "iam", "notification-manager", "organization", "project", "support"}, orgLevel)
	byName := map[string]int{}
	for i, ps := range cat {
		byName[ps.Name] = i
	}
	require.NoError(t, validateCatalogue(cat, byName))
}

// TestScalewayCatalogueDeclaresWhatItsPatternsCover: every service of the
// catalogue declares its permissions, every pattern matches at least one
// declared permission of its service, and each set declares exactly the
// declared permissions its own patterns match.
func TestScalewayCatalogueDeclaresWhatItsPatternsCover(t *testing.T) {
	cat := ScalewayCatalogue()
	declared := map[string][]string{} // by service
	for _, ps := range cat {
		for _, d := range ps.Declared {
			s, _, _, err := ParsePermission(d)
			require.NoError(t, err, ps.Name)
			if !slices.Contains(declared[s], d) {
				declared[s] = append(declared[s], d)
			}
		}
	}
	for _, ps := range cat {
		var want []string
		for _, p := range ps.Permissions {
			service := strings.Split(p, ":")[0]
			require.NotEmpty(t, declared[service], "service %s declares no permission", service)
			n := 0
			for _, d := range declared[service] {
				if MatchPermission(p, d) {
					n++
					if !slices.Contains(want, d) {
						want = append(want, d)
					}
				}
			}
			assert.Positive(t, n, "pattern %s of %s matches no declared permission", p, ps.Name)
		}
		assert.ElementsMatch(t, want, ps.Declared, ps.Name)
	}
	by := scalewayByName(t)
	assert.Equal(t, []string{"instance:server:create"}, by["InstancesServerCreate"].Declared)
	assert.Contains(t, by["InstancesFullAccess"].Declared, "instance:server:reboot")
	assert.Contains(t, by["IAMManager"].Declared, "iam:permission_set:update")
	assert.Empty(t, by["AllProductsFullAccess"].Declared)
	// What the management layer checks is declared.
	for _, r := range []string{"user", "application", "group", "policy", "permission_set", "api_key"} {
		for _, a := range []string{"create", "read", "list", "update", "delete"} {
			assert.Contains(t, declared["iam"], "iam:"+r+":"+a)
		}
	}
	for _, a := range []string{"create", "read", "list", "update", "delete"} {
		assert.Contains(t, declared["project"], "project:project:"+a)
	}
	for _, a := range []string{"read", "list", "update", "delete"} {
		assert.Contains(t, declared["organization"], "organization:organization:"+a)
	}
}

func TestDeclareScalewayPermissionsRejectsMalformedRows(t *testing.T) {
	sets := []PermissionSet{{Name: "X", ScopeType: ScopeProjects, Permissions: []string{"x:*:*"}}}
	row := func(cells ...string) string {
		return scalewayPermissionsHeader + "\n" + strings.Join(cells, "\t") + "\n"
	}
	for name, data := range map[string]string{
		"header":    "service\tresource\n",
		"columns":   row("x", "thing"),
		"actions":   row("x", "thing", ""),
		"star":      row("x", "*", "read"),
		"unmatched": row("y", "thing", "read"),
		"twice":     row("x", "thing", "read read"),
	} {
		t.Run(name, func(t *testing.T) {
			err := declareScalewayPermissions(slices.Clone(sets), data)
			require.Error(t, err)
			assert.True(t, strings.HasPrefix(err.Error(), "iam: data/scaleway_permissions.tsv"), err.Error())
		})
	}
}
