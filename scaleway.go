package iam

import (
	_ "embed"
	"fmt"
	"slices"
	"strings"
	"sync"
)

// scalewayTSV is the Scaleway catalogue: a header line, then one row per
// permission set with the tab-separated columns name, scope_type, category,
// permissions (space-separated patterns) and description.
//
// Conventions of the data: services are Scaleway's product slugs in
// kebab-case ("instance", "object-storage", "k8s", "rdb", "tem", ...),
// resources are the API's names in snake_case ("security_group",
// "api_key"), actions are list, read, create, update and delete plus the
// product verbs a set's name calls for (start, stop, serial-console,
// access, invoke, register, encrypt, decrypt, sign, verify, restore). A
// "...Read" set also grants list unless a "...List" set exists beside it; a
// "...Write" set grants update, and create too when there is no "...Create"
// set. No pattern has "*" as its service, so the catalogue never grants a
// host's own permissions.
//
//go:embed data/scaleway.tsv
var scalewayTSV string

// scalewayPermissionsTSV declares the concrete permissions of every service
// of the catalogue: a header line, then one row per resource with the
// tab-separated columns service, resource and actions (space-separated).
// The order of the rows is the order of each set's Declared.
//
//go:embed data/scaleway_permissions.tsv
var scalewayPermissionsTSV string

// scalewayHeader is the expected first line of scalewayTSV.
const scalewayHeader = "name\tscope_type\tcategory\tpermissions\tdescription"

// scalewayPermissionsHeader is the expected first line of
// scalewayPermissionsTSV.
const scalewayPermissionsHeader = "service\tresource\tactions"

// The categories whose sets OrganizationManager includes.
var organizationManagerCategories = []string{
	"Organization-scoped: Projects",
	"Organization-scoped: IAM",
	"Organization-scoped: Billing",
	"Organization-scoped: Support tickets",
	"Organization-scoped: Abuse tickets",
	"Organization-scoped: Organization",
}

// scalewaySets parses the embedded catalogue once. It panics on a malformed
// row: the data ships with the library, so that is a programming error.
var scalewaySets = sync.OnceValue(func() []PermissionSet {
	sets, err := parseScalewayCatalogue(scalewayTSV)
	if err == nil {
		err = declareScalewayPermissions(sets, scalewayPermissionsTSV)
	}
	if err != nil {
		panic(err)
	}
	return sets
})

// ScalewayCatalogue returns the Scaleway permission-set catalogue: the 202
// sets of Scaleway's IAM, in Scaleway's documentation order, with an empty
// OrganizationID and one category each. Scaleway does not publish the sets'
// contents, so their patterns are this library's own definitions, naming
// Scaleway's services only.
//
// Includes are derived from the names, never listed by hand (the model of
// docs/semantics.md):
//   - XFullAccess, and likewise XManager, includes every other set whose
//     name starts with X (InstancesFullAccess includes InstancesServerCreate,
//     IAMUserManager includes IAMUserReadOnly);
//   - XReadOnly includes every other set whose name starts with X and ends
//     in Read, List or ReadOnly (InstancesReadOnly includes
//     InstancesServerList, IAMReadOnly includes IAMUserReadOnly), never a
//     ...ReadWrite;
//   - these name rules only join sets of the same category, so a shared
//     prefix across products does not count (VPCFullAccess does not include
//     VPCGatewayFullAccess, which is Public Gateways);
//   - AllProductsFullAccess includes every other project-scoped set
//     (AllProductsReadOnly too), and AllProductsReadOnly every other
//     project-scoped set whose name ends in ReadOnly, Read or List. These
//     two are the only sets without patterns of their own: they grant
//     exactly what they include;
//   - IAMManager also includes ProjectManager, and OrganizationManager
//     includes every set of the projects, IAM, billing, support and abuse
//     tickets and organization categories.
//
// Includes only ever join sets of the same scope type and are sorted.
//
// The catalogue also declares the concrete permissions of every service it
// names (the library's own list, such as instance:server:create or
// iam:policy:update): each set's Declared holds the declared permissions
// that its own patterns match, so that InstancesFullAccess declares every
// instance permission and InstancesServerCreate declares
// instance:server:create. A triple of one of these services that is not
// declared (instance:servers:create) is therefore ErrUnknownPermission,
// even though instance:*:* matches it. The organization-scoped sets name
// the services of the organization level (project, iam, billing,
// organization, support, abuse, audit-trail, environmental-footprint and
// notification-manager); every other service is at the project level.
//
// Each call returns a fresh deep copy that the caller may modify.
func ScalewayCatalogue() []PermissionSet {
	src := scalewaySets()
	out := make([]PermissionSet, len(src))
	for i, ps := range src {
		ps.Permissions = slices.Clone(ps.Permissions)
		ps.Includes = slices.Clone(ps.Includes)
		ps.Declared = slices.Clone(ps.Declared)
		ps.Categories = slices.Clone(ps.Categories)
		out[i] = ps
	}
	return out
}

// declareScalewayPermissions parses the declared permissions and gives
// each set those its own patterns match. Every declared permission must be
// matched by some set, and be declared once.
func declareScalewayPermissions(sets []PermissionSet, data string) error {
	lines := strings.Split(strings.TrimSuffix(data, "\n"), "\n")
	if lines[0] != scalewayPermissionsHeader {
		return fmt.Errorf("iam: data/scaleway_permissions.tsv: header is %q, want %q", lines[0], scalewayPermissionsHeader)
	}
	seen := map[string]bool{}
	for i, line := range lines[1:] {
		fail := func(format string, args ...any) error {
			return fmt.Errorf("iam: data/scaleway_permissions.tsv:%d: %s", i+2, fmt.Sprintf(format, args...))
		}
		f := strings.Split(line, "\t")
		if len(f) != 3 {
			return fail("%d columns, want 3", len(f))
		}
		actions := strings.Fields(f[2])
		if len(actions) == 0 {
			return fail("no actions")
		}
		for _, action := range actions {
			perm := f[0] + ":" + f[1] + ":" + action
			if _, _, _, err := ParsePermission(perm); err != nil {
				return fail("%v", err)
			}
			if seen[perm] {
				return fail("%s is declared twice", perm)
			}
			seen[perm] = true
			matched := false
			for j := range sets {
				if slices.ContainsFunc(sets[j].Permissions, func(p string) bool { return MatchPermission(p, perm) }) {
					sets[j].Declared = append(sets[j].Declared, perm)
					matched = true
				}
			}
			if !matched {
				return fail("no permission set's pattern matches %s", perm)
			}
		}
	}
	return nil
}

// parseScalewayCatalogue parses the catalogue's TSV and derives Includes.
func parseScalewayCatalogue(data string) ([]PermissionSet, error) {
	lines := strings.Split(strings.TrimSuffix(data, "\n"), "\n")
	if lines[0] != scalewayHeader {
		return nil, fmt.Errorf("iam: data/scaleway.tsv: header is %q, want %q", lines[0], scalewayHeader)
	}
	var sets []PermissionSet
	seen := map[string]bool{}
	for i, line := range lines[1:] {
		ps, err := parseScalewayRow(line)
		if err == nil && seen[ps.Name] {
			err = fmt.Errorf("duplicate name %q", ps.Name)
		}
		if err != nil {
			return nil, fmt.Errorf("iam: data/scaleway.tsv:%d: %w", i+2, err)
		}
		seen[ps.Name] = true
		sets = append(sets, ps)
	}
	for i := range sets {
		for _, other := range sets {
			if other.Name != sets[i].Name && scalewayIncludes(sets[i], other) {
				if other.ScopeType != sets[i].ScopeType {
					return nil, fmt.Errorf("iam: data/scaleway.tsv: %s (%s) would include %s (%s): scope types differ",
						sets[i].Name, sets[i].ScopeType, other.Name, other.ScopeType)
				}
				sets[i].Includes = append(sets[i].Includes, other.Name)
			}
		}
		slices.Sort(sets[i].Includes)
	}
	return sets, nil
}

// parseScalewayRow parses one data row; Includes is left empty.
func parseScalewayRow(line string) (PermissionSet, error) {
	f := strings.Split(line, "\t")
	if len(f) != 5 {
		return PermissionSet{}, fmt.Errorf("%d columns, want 5", len(f))
	}
	ps := PermissionSet{
		Name:        f[0],
		ScopeType:   ScopeType(f[1]),
		Permissions: strings.Fields(f[3]),
		Description: f[4],
		Categories:  []string{f[2]},
	}
	for _, cell := range f {
		if strings.TrimSpace(cell) != cell {
			return ps, fmt.Errorf("cell %q has stray spaces", cell)
		}
	}
	switch {
	case ps.Name == "":
		return ps, fmt.Errorf("empty name")
	case ps.ScopeType != ScopeProjects && ps.ScopeType != ScopeOrganization:
		return ps, fmt.Errorf("%s: scope type %q, want %q or %q", ps.Name, f[1], ScopeProjects, ScopeOrganization)
	case f[2] == "" || ps.Description == "":
		return ps, fmt.Errorf("%s: empty category or description", ps.Name)
	case len(ps.Permissions) == 0 && !strings.HasPrefix(ps.Name, "AllProducts"):
		return ps, fmt.Errorf("%s: no permission patterns", ps.Name)
	}
	for _, p := range ps.Permissions {
		service, _, _, err := parseTriple(p, true)
		if err != nil {
			return ps, fmt.Errorf("%s: %w", ps.Name, err)
		}
		if service == "*" {
			return ps, fmt.Errorf("%s: pattern %q has \"*\" as its service", ps.Name, p)
		}
	}
	return ps, nil
}

// scalewayIncludes reports whether set a includes the distinct set b under
// the rules documented on ScalewayCatalogue.
func scalewayIncludes(a, b PermissionSet) bool {
	readish := hasAnySuffix(b.Name, "ReadOnly", "Read", "List")
	switch a.Name {
	case "AllProductsFullAccess":
		return b.ScopeType == ScopeProjects
	case "AllProductsReadOnly":
		return b.ScopeType == ScopeProjects && readish
	case "IAMManager":
		if b.Name == "ProjectManager" {
			return true
		}
	case "OrganizationManager":
		if slices.Contains(organizationManagerCategories, b.Categories[0]) {
			return true
		}
	}
	if a.Categories[0] != b.Categories[0] {
		return false
	}
	for _, suffix := range []string{"FullAccess", "Manager"} {
		if x, ok := strings.CutSuffix(a.Name, suffix); ok && x != "" {
			return strings.HasPrefix(b.Name, x)
		}
	}
	if x, ok := strings.CutSuffix(a.Name, "ReadOnly"); ok && x != "" {
		return strings.HasPrefix(b.Name, x) && readish
	}
	return false
}

func hasAnySuffix(s string, suffixes ...string) bool {
	return slices.ContainsFunc(suffixes, func(suf string) bool { return strings.HasSuffix(s, suf) })
}
