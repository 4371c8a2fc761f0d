package scaleway

import (
	"fmt"
	"slices"
	"strconv"

	"github.com/iamkit/iam/internal/suggest"
	"github.com/iamkit/iam/internal/wire"
)

// ToWorld converts an export (see the package documentation) to a world:
// the same entities in the same order, every entity named by its ID and
// every reference an ID, so that a path of the world names the same entity
// in the export (Path maps the field names). It rejects what Scaleway
// rejects and what cannot be represented; its errors are *wire.Error,
// whose Offset and Path locate the offending key or value in data. What the
// world loader checks on its own (name lengths, emails, duplicate IDs, the
// permission sets' names and scope types) is left to it.
func ToWorld(data []byte) (wire.File, error) {
	var f File
	if _, err := wire.Decode(data, &f); err != nil {
		return wire.File{}, err
	}
	c := &converter{data: data, f: &f}
	return c.convert()
}

type converter struct {
	data []byte
	f    *File
	org  string

	projects, users, apps, groups []string // the export's IDs, by kind
}

// fail returns the error at path.
func (c *converter) fail(path, msg, hint string) error {
	off, _ := wire.Locate(c.data, path)
	return &wire.Error{Kind: wire.ErrValue, Offset: off, Path: path, Msg: msg, Hint: hint}
}

func (c *converter) convert() (wire.File, error) {
	f := c.f
	if err := c.organization(); err != nil {
		return wire.File{}, err
	}
	out := wire.File{Organization: &wire.Organization{ID: c.org, Name: c.org}}
	if f.Organization != nil && f.Organization.Name != "" {
		out.Organization.Name = f.Organization.Name
	}

	// IDs first: every entity has one, and references are IDs.
	c.projects = []string{c.org}
	for i, p := range f.Projects {
		if err := c.needID(p.ID, "projects", i, "id"); err != nil {
			return wire.File{}, err
		}
		c.projects = append(c.projects, p.ID)
	}
	for i, u := range f.Users {
		if err := c.needID(u.ID, "users", i, "id"); err != nil {
			return wire.File{}, err
		}
		c.users = append(c.users, u.ID)
	}
	for i, a := range f.Applications {
		if err := c.needID(a.ID, "applications", i, "id"); err != nil {
			return wire.File{}, err
		}
		c.apps = append(c.apps, a.ID)
	}
	for i, g := range f.Groups {
		if err := c.needID(g.ID, "groups", i, "id"); err != nil {
			return wire.File{}, err
		}
		c.groups = append(c.groups, g.ID)
	}
	for i, p := range f.Policies {
		if err := c.needID(p.ID, "policies", i, "id"); err != nil {
			return wire.File{}, err
		}
	}
	for i, k := range f.APIKeys {
		if err := c.needID(k.AccessKey, "api_keys", i, "access_key"); err != nil {
			return wire.File{}, err
		}
	}

	out.Projects = make([]wire.Project, len(f.Projects))
	for i, p := range f.Projects {
		out.Projects[i] = wire.Project{ID: p.ID, Name: p.Name, Description: p.Description}
	}

	out.Users = make([]wire.User, len(f.Users))
	for i, u := range f.Users {
		typ := u.Type
		switch typ {
		case "owner", "member", "":
		case "guest":
			typ = "member"
		default:
			return wire.File{}, c.fail(fmt.Sprintf("users[%d].type", i), fmt.Sprintf("unknown user type %q", u.Type), `a user's type is "owner", "member" or "guest" (read as "member")`)
		}
		out.Users[i] = wire.User{ID: u.ID, Email: u.Email, Username: u.Username, Type: typ, Locked: u.Locked, Tags: u.Tags}
	}

	out.Applications = make([]wire.Application, len(f.Applications))
	for i, a := range f.Applications {
		out.Applications[i] = wire.Application{ID: a.ID, Name: a.Name, Description: a.Description, Managed: a.Managed, Tags: a.Tags}
	}

	out.Groups = make([]wire.Group, len(f.Groups))
	for i, g := range f.Groups {
		wg := wire.Group{ID: g.ID, Name: g.Name, Description: g.Description, AllUsers: g.AllUsers, AllApplications: g.AllApplications, Tags: g.Tags}
		at := elem("groups", i)
		if !g.AllUsers { // the special group's members are implicit
			for j, id := range g.UserIDs {
				if err := c.ref(id, c.users, "user", fmt.Sprintf("%s.user_ids[%d]", at, j)); err != nil {
					return wire.File{}, err
				}
			}
			wg.Users = g.UserIDs
		}
		if !g.AllApplications {
			for j, id := range g.ApplicationIDs {
				if err := c.ref(id, c.apps, "application", fmt.Sprintf("%s.application_ids[%d]", at, j)); err != nil {
					return wire.File{}, err
				}
			}
			wg.Applications = g.ApplicationIDs
		}
		out.Groups[i] = wg
	}

	out.Policies = make([]wire.Policy, len(f.Policies))
	for i := range f.Policies {
		p, err := c.policy(i)
		if err != nil {
			return wire.File{}, err
		}
		out.Policies[i] = p
	}

	out.APIKeys = make([]wire.APIKey, len(f.APIKeys))
	for i := range f.APIKeys {
		k, err := c.apiKey(i)
		if err != nil {
			return wire.File{}, err
		}
		out.APIKeys[i] = k
	}
	return out, nil
}

// organization works out the export's organization: the envelope's, else
// the one the objects name; every object must name that one.
func (c *converter) organization() error {
	f := c.f
	from := ""
	if f.Organization != nil {
		if f.Organization.ID == "" {
			return c.fail("organization", `the organization needs its "id"`, "")
		}
		c.org, from = f.Organization.ID, "organization.id"
	}
	check := func(id, list string, i int) error {
		switch {
		case id == "":
			return nil
		case c.org == "":
			c.org, from = id, elem(list, i)+".organization_id"
			return nil
		case id != c.org:
			return c.fail(elem(list, i)+".organization_id", fmt.Sprintf("organization %q, but this export is of organization %q (%s)", id, c.org, from), "an export holds one organization")
		}
		return nil
	}
	for i, p := range f.Projects {
		if err := check(p.OrganizationID, "projects", i); err != nil {
			return err
		}
	}
	for i, u := range f.Users {
		if err := check(u.OrganizationID, "users", i); err != nil {
			return err
		}
	}
	for i, a := range f.Applications {
		if err := check(a.OrganizationID, "applications", i); err != nil {
			return err
		}
	}
	for i, g := range f.Groups {
		if err := check(g.OrganizationID, "groups", i); err != nil {
			return err
		}
	}
	for i, p := range f.Policies {
		if err := check(p.OrganizationID, "policies", i); err != nil {
			return err
		}
	}
	if c.org == "" {
		return c.fail("", "the export does not say which organization it holds", `add "organization": {"id": "...", "name": "..."}`)
	}
	return nil
}

func (c *converter) needID(id, list string, i int, key string) error {
	if id == "" {
		return c.fail(elem(list, i), fmt.Sprintf("the %q is missing", key), fmt.Sprintf("Scaleway's format names every object by its %q, and references are IDs", key))
	}
	return nil
}

// ref checks that id names one of ids, an entity of the export of kind
// what.
func (c *converter) ref(id string, ids []string, what, path string) error {
	if slices.Contains(ids, id) {
		return nil
	}
	hint := ""
	if s := suggest.Closest(id, ids); s != "" {
		hint = fmt.Sprintf("did you mean %q?", s)
	}
	if id == "" {
		return c.fail(path, fmt.Sprintf("the %s ID is empty", what), hint)
	}
	return c.fail(path, fmt.Sprintf("no %s with ID %q in this export", what, id), hint)
}

func (c *converter) policy(i int) (wire.Policy, error) {
	p := c.f.Policies[i]
	at := elem("policies", i)
	wp := wire.Policy{ID: p.ID, Name: p.Name, Description: p.Description, Tags: p.Tags}

	// Exactly one principal, as the API says.
	var given []string
	if p.UserID != nil {
		given = append(given, "user_id")
		wp.User = *p.UserID
		if err := c.ref(*p.UserID, c.users, "user", at+".user_id"); err != nil {
			return wp, err
		}
	}
	if p.GroupID != nil {
		given = append(given, "group_id")
		wp.Group = *p.GroupID
		if err := c.ref(*p.GroupID, c.groups, "group", at+".group_id"); err != nil {
			return wp, err
		}
	}
	if p.ApplicationID != nil {
		given = append(given, "application_id")
		wp.Application = *p.ApplicationID
		if err := c.ref(*p.ApplicationID, c.apps, "application", at+".application_id"); err != nil {
			return wp, err
		}
	}
	if p.NoPrincipal != nil {
		if !*p.NoPrincipal {
			return wp, c.fail(at+".no_principal", `"no_principal" is false, and names no principal`, `give the principal with "user_id", "group_id" or "application_id", or write "no_principal": true`)
		}
		given = append(given, "no_principal")
	}
	switch len(given) {
	case 0:
		return wp, c.fail(at, "the policy has no principal field", `give exactly one of "user_id", "group_id", "application_id" and "no_principal": true`)
	case 1:
	default:
		return wp, c.fail(at+"."+given[1], fmt.Sprintf("a policy has exactly one principal, and this one already has %q", given[0]), "give each principal its own policy, or gather them in a group")
	}

	rules, key := p.Rules, "rules"
	switch {
	case p.Rules != nil && p.CLIRules != nil:
		return wp, c.fail(at+".Rules", `the rules are given twice, in "rules" and in "Rules"`, "keep one of them")
	case p.CLIRules != nil:
		rules, key = p.CLIRules, "Rules"
	}
	if p.NbRules != nil {
		n, err := strconv.ParseUint(string(p.NbRules), 10, 32)
		if err != nil {
			return wp, c.fail(at+".nb_rules", fmt.Sprintf("nb_rules is %s, not a count", p.NbRules), "")
		}
		if int(n) != len(rules) {
			listed := fmt.Sprintf("lists %d", len(rules))
			if rules == nil {
				listed = "lists none"
			}
			return wp, c.fail(at+".nb_rules", fmt.Sprintf("the policy has %d rules, but the export %s", n, listed),
				`export each policy with its rules ("scw iam policy get policy-id=... -o json", or its "scw iam rule list policy-id=... -o json" as "rules")`)
		}
	}
	if rules != nil {
		wp.Rules = make([]wire.Rule, len(rules))
	}
	for j, r := range rules {
		wr, err := c.rule(r, fmt.Sprintf("%s.%s[%d]", at, key, j))
		if err != nil {
			return wp, err
		}
		wp.Rules[j] = wr
	}
	return wp, nil
}

func (c *converter) rule(r Rule, at string) (wire.Rule, error) {
	wr := wire.Rule{PermissionSets: r.PermissionSetNames, Condition: r.Condition}
	var scopes []string
	if r.ProjectIDs != nil {
		scopes = append(scopes, "project_ids")
	}
	if r.OrganizationID != nil {
		scopes = append(scopes, "organization_id")
	}
	if r.AccountRootUserID != nil {
		scopes = append(scopes, "account_root_user_id")
	}
	switch len(scopes) {
	case 0:
		return wr, c.fail(at, "the rule has no scope", `give it "project_ids": [...] or "organization_id": "`+c.org+`"`)
	case 1:
	default:
		return wr, c.fail(at+"."+scopes[1], fmt.Sprintf("a rule has exactly one scope, and this one already has %q", scopes[0]), "split it into one rule per scope")
	}
	switch r.PermissionSetsScopeType {
	case "", "unknown_scope_type", "projects", "organization":
	case "account_root_user":
		return wr, c.fail(at+".permission_sets_scope_type", "sets scoped to the account root user have no counterpart in a world", "remove this rule from the export")
	default:
		return wr, c.fail(at+".permission_sets_scope_type", fmt.Sprintf("unknown scope type %q", r.PermissionSetsScopeType), `the scope type is "projects" or "organization"`)
	}
	switch {
	case r.AccountRootUserID != nil:
		return wr, c.fail(at+".account_root_user_id", "rules scoped to the account root user have no counterpart in a world", "remove this rule from the export")
	case r.OrganizationID != nil:
		if *r.OrganizationID != c.org {
			return wr, c.fail(at+".organization_id", fmt.Sprintf("organization %q, but this export is of organization %q", *r.OrganizationID, c.org), "a rule acts only in its policy's own organization")
		}
		wr.Organization = true
	default:
		if len(r.ProjectIDs) == 0 {
			return wr, c.fail(at+".project_ids", "the list of projects is empty", `list at least one project, or scope the rule with "organization_id"`)
		}
		if r.PermissionSetsScopeType == "organization" {
			return wr, c.fail(at+".project_ids", "organization-scoped permission sets are never granted on projects", `scope the rule with "organization_id"`)
		}
		for k, id := range r.ProjectIDs {
			if err := c.ref(id, c.projects, "project", fmt.Sprintf("%s.project_ids[%d]", at, k)); err != nil {
				return wr, err
			}
		}
		wr.Projects = r.ProjectIDs
	}
	if len(r.PermissionSetNames) == 0 {
		return wr, c.fail(at+".permission_set_names", "the rule grants no permission set", "list at least one")
	}
	return wr, nil
}

func (c *converter) apiKey(i int) (wire.APIKey, error) {
	k := c.f.APIKeys[i]
	at := elem("api_keys", i)
	wk := wire.APIKey{AccessKey: k.AccessKey, SecretSHA256: NoSecretSHA256, Description: k.Description}
	if k.SecretKey != nil && *k.SecretKey != "" {
		return wk, c.fail(at+".secret_key", "the export carries the key's secret", "remove it: a file never carries a secret, and keys read from an export never authenticate")
	}
	switch {
	case k.UserID != nil && k.ApplicationID != nil:
		first, second := "application_id", "user_id"
		if off := func(key string) int64 { o, _ := wire.LocateKey(c.data, at+"."+key); return o }; off("user_id") < off("application_id") {
			first, second = second, first
		}
		return wk, c.fail(at+"."+second, fmt.Sprintf("an API key has one bearer, and this one already has %q", first), "")
	case k.UserID != nil:
		wk.User = *k.UserID
		if err := c.ref(*k.UserID, c.users, "user", at+".user_id"); err != nil {
			return wk, err
		}
	case k.ApplicationID != nil:
		wk.Application = *k.ApplicationID
		if err := c.ref(*k.ApplicationID, c.apps, "application", at+".application_id"); err != nil {
			return wk, err
		}
	default:
		return wk, c.fail(at, "the API key has no bearer", `give it "user_id" or "application_id"`)
	}
	if k.DefaultProjectID != "" {
		if err := c.ref(k.DefaultProjectID, c.projects, "project", at+".default_project_id"); err != nil {
			return wk, err
		}
		wk.DefaultProjectID = k.DefaultProjectID
	}
	if k.ExpiresAt != nil {
		wk.ExpiresAt = *k.ExpiresAt
	}
	return wk, nil
}

func elem(list string, i int) string { return list + "[" + strconv.Itoa(i) + "]" }
