// World files: every entity of one organization, planned, then written in one Atomic.

package iam

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/iamkit/iam/internal/wire"
)

// worldPlan is a world file with every entity's ID worked out.
type worldPlan struct {
	f                                                   *wire.File
	org                                                 Organization
	orgEnt                                              entity
	projects, users, apps, groups, keys, sets, policies []entity
	ids                                                 map[string]*entity // every ID the file gives
}

func (l *loader) loadWorld(ctx context.Context, store Store, f *wire.File) error {
	w, err := l.planWorld(f)
	if err != nil {
		return err
	}
	return store.Atomic(ctx, func(tx Tx) error {
		l.ctx, l.tx = ctx, tx
		return l.writeWorld(w)
	})
}

// planWorld works out the IDs of the file's entities, rejects IDs used
// twice in the file, and fills the reference tables.
func (l *loader) planWorld(f *wire.File) (*worldPlan, error) {
	w := &worldPlan{f: f, orgEnt: entity{kind: KindOrganization, list: "organization", index: -1}}
	if f.Organization == nil {
		return nil, l.invalid(w.orgEnt, "", "", "the organization is missing", `write "organization": {"id": "...", "name": "..."}`, nil)
	}
	w.org = Organization{ID: f.Organization.ID, Name: f.Organization.Name}
	w.orgEnt.pickID(w.org.ID, "name", w.org.Name)
	w.org.ID = w.orgEnt.id
	if w.org.ID == "" {
		return nil, l.invalid(w.orgEnt, "", "", `the organization needs an "id" or a "name"`, "", nil)
	}
	if l.opts.org != "" && l.opts.org != w.org.ID {
		return nil, l.invalid(w.orgEnt, w.orgEnt.idFrom, w.org.ID, fmt.Sprintf("the file describes organization %q, not %q named with IntoOrganization", w.org.ID, l.opts.org), "", nil)
	}
	l.org = w.org.ID

	ents := func(list string, n int, kind Kind, id func(i int, e *entity)) []entity {
		out := make([]entity, n)
		for i := range out {
			out[i] = entity{kind: kind, list: list, index: i}
			id(i, &out[i])
		}
		return out
	}
	w.projects = ents("projects", len(f.Projects), KindProject, func(i int, e *entity) {
		p := f.Projects[i]
		if p.ID == "" && p.Name == "default" {
			e.id, e.idFrom = l.org, "name" // the default project
			return
		}
		e.pickID(p.ID, "name", p.Name)
	})
	w.users = ents("users", len(f.Users), KindUser, func(i int, e *entity) { e.pickID(f.Users[i].ID, "email", f.Users[i].Email) })
	w.apps = ents("applications", len(f.Applications), KindApplication, func(i int, e *entity) {
		e.pickID(f.Applications[i].ID, "name", f.Applications[i].Name)
	})
	w.groups = ents("groups", len(f.Groups), KindGroup, func(i int, e *entity) { e.pickID(f.Groups[i].ID, "name", f.Groups[i].Name) })
	w.keys = ents("api_keys", len(f.APIKeys), KindAPIKey, func(i int, e *entity) {
		if k := f.APIKeys[i].AccessKey; k != "" {
			e.id, e.idFrom = k, "access_key"
		}
	})
	w.sets = ents("permission_sets", len(f.PermissionSets), KindPermissionSet, func(i int, e *entity) {
		if n := f.PermissionSets[i].Name; n != "" {
			e.id, e.idFrom = n, "name"
		}
	})
	w.policies = ents("policies", len(f.Policies), KindPolicy, func(i int, e *entity) {
		e.pickID(f.Policies[i].ID, "name", f.Policies[i].Name)
	})

	// IDs are unique across kinds (the default project shares the
	// organization's); set names only among sets.
	seen := make(map[string]*entity, 1+len(w.projects)+len(w.users)+len(w.apps)+len(w.groups)+len(w.keys)+len(w.policies))
	seen[w.org.ID] = &w.orgEnt
	for _, list := range [][]entity{w.projects, w.users, w.apps, w.groups, w.keys, w.policies} {
		for i := range list {
			e := &list[i]
			if e.id == "" {
				continue
			}
			if prev, ok := seen[e.id]; ok && !(prev.kind == KindOrganization && e.kind == KindProject) {
				return nil, l.duplicate(*e, *prev)
			}
			seen[e.id] = e
		}
	}
	w.ids = seen
	names := map[string]entity{}
	for _, e := range w.sets {
		if prev, ok := names[e.id]; ok && e.id != "" {
			return nil, l.duplicate(e, prev)
		}
		names[e.id] = e
	}

	// Reference tables.
	projects := newRefTable(len(w.projects) + 1)
	defaultName := "default"
	for i, e := range w.projects {
		if e.id == l.org && f.Projects[i].Name != "" {
			defaultName = f.Projects[i].Name
		}
	}
	projects.add(l.org, defaultName, nil)
	for i, e := range w.projects {
		if e.id != "" {
			projects.add(e.id, f.Projects[i].Name, &w.projects[i])
		}
	}
	users, apps, groups := newRefTable(len(w.users)), newRefTable(len(w.apps)), newRefTable(len(w.groups))
	for i, e := range w.users {
		if e.id != "" {
			users.add(e.id, strings.ToLower(f.Users[i].Email), &w.users[i])
		}
	}
	for i, e := range w.apps {
		if e.id != "" {
			apps.add(e.id, f.Applications[i].Name, &w.apps[i])
		}
	}
	for i, e := range w.groups {
		if e.id != "" {
			groups.add(e.id, f.Groups[i].Name, &w.groups[i])
		}
	}
	l.refs[KindProject], l.refs[KindUser], l.refs[KindApplication], l.refs[KindGroup] = projects, users, apps, groups
	return w, nil
}

// duplicate reports that e has the ID of prev, another entity of the file.
func (l *loader) duplicate(e, prev entity) error {
	line, col := l.at(joinPath(prev.path(), prev.idFrom))
	what := fmt.Sprintf("%s %s", prev.kind, prev.path())
	if prev.kind == KindOrganization {
		what = "the organization"
	}
	reason := fmt.Sprintf("the id %q is already the id of %s (%s:%d:%d)", e.id, what, l.name, line, col)
	hint := "IDs are unique across the store, whatever the kind: give one of them another id"
	if e.kind == KindPermissionSet {
		reason = fmt.Sprintf("the permission set %q is already defined at %s (%s:%d:%d)", e.id, prev.path(), l.name, line, col)
		hint = "keep one of them"
	} else if e.idFrom != "id" && e.idFrom != "access_key" {
		hint = fmt.Sprintf(`the %s's id defaults to its %s; IDs are unique across the store, whatever the kind: give one of them an explicit "id"`, e.kind, e.idFrom)
	}
	return l.invalid(e, e.idFrom, e.id, reason, hint, ErrConflict)
}

// checkSets checks the file's permission sets together, as the store
// does when the transaction ends (a pattern must match a permission that
// some set declares), so that an error points into the file.
func (l *loader) checkSets(sets []wire.PermissionSet, ents []entity, org string) error {
	c, ok := l.tx.(interface{ checkCatalogue(org string) error })
	if !ok {
		return nil
	}
	err := c.checkCatalogue(org)
	var ve *ValidationError
	if errors.As(err, &ve) {
		for i, s := range sets {
			if s.Name == ve.ID {
				return l.storeError(err, ents[i])
			}
		}
	}
	return err
}

// writeWorld creates the organization and its entities, in dependency
// order, inside the transaction.
func (l *loader) writeWorld(w *worldPlan) error {
	ctx, tx, f, org := l.ctx, l.tx, w.f, w.org.ID
	if _, err := tx.GetOrganization(ctx, org); err == nil {
		if !l.opts.replace {
			return l.fileError(fmt.Errorf("iam: organization %q is already in the store: %w", org, ErrConflict),
				joinPath(w.orgEnt.path(), w.orgEnt.idFrom), "load the file with iam.ReplaceExisting() to replace it")
		}
		if err := tx.DeleteOrganization(ctx, org); err != nil {
			return l.storeError(err, w.orgEnt)
		}
	} else if !errors.Is(err, ErrNotFound) {
		return err
	}
	if _, err := tx.CreateOrganization(ctx, w.org); err != nil {
		return l.storeError(err, w.orgEnt)
	}

	var n bulkSizes
	n[KindUser], n[KindApplication], n[KindGroup] = len(f.Users), len(f.Applications), len(f.Groups)
	n[KindPolicy], n[KindAPIKey] = len(f.Policies), len(f.APIKeys)
	reserveOwned(tx, org, n)

	order, err := l.setOrder(f.PermissionSets, w.sets)
	if err != nil {
		return err
	}
	for _, i := range order {
		s := f.PermissionSets[i]
		ps := PermissionSet{Name: s.Name, OrganizationID: org, ScopeType: ScopeType(s.ScopeType),
			Permissions: nonEmpty(s.Permissions), Includes: nonEmpty(s.Includes), Declared: nonEmpty(s.Declared), Description: s.Description, Categories: nonEmpty(s.Categories)}
		if _, err := tx.CreatePermissionSet(ctx, ps); err != nil {
			return l.storeError(err, w.sets[i])
		}
	}
	if err := l.checkSets(f.PermissionSets, w.sets, org); err != nil {
		return err
	}

	for i, p := range f.Projects {
		e := w.projects[i]
		proj := Project{ID: e.id, OrganizationID: org, Name: p.Name, Description: p.Description}
		var err error
		if e.id == org {
			if proj.Name == "" {
				proj.Name = "default"
			}
			_, err = tx.UpdateProject(ctx, proj)
		} else {
			_, err = tx.CreateProject(ctx, proj)
		}
		if err != nil {
			return l.storeError(err, e)
		}
	}

	for i, u := range f.Users {
		user := User{ID: w.users[i].id, OrganizationID: org, Email: u.Email, Username: u.Username,
			Type: UserType(u.Type), Locked: u.Locked, Tags: nonEmpty(u.Tags)}
		if err := createUserOwned(ctx, tx, user); err != nil {
			return l.storeError(err, w.users[i])
		}
	}

	for i, a := range f.Applications {
		app := Application{ID: w.apps[i].id, OrganizationID: org, Name: a.Name, Description: a.Description,
			Managed: a.Managed, Tags: nonEmpty(a.Tags)}
		if err := createApplicationOwned(ctx, tx, app); err != nil {
			return l.storeError(err, w.apps[i])
		}
	}

	for i, g := range f.Groups {
		e := w.groups[i]
		group := Group{ID: e.id, OrganizationID: org, Name: g.Name, Description: g.Description,
			AllUsers: g.AllUsers, AllApplications: g.AllApplications, Tags: nonEmpty(g.Tags)}
		for j, ref := range g.Users {
			id, err := l.resolve(KindUser, ref, e, func() string { return fmt.Sprintf("users[%d]", j) })
			if err != nil {
				return err
			}
			group.UserIDs = append(group.UserIDs, id)
		}
		for j, ref := range g.Applications {
			id, err := l.resolve(KindApplication, ref, e, func() string { return fmt.Sprintf("applications[%d]", j) })
			if err != nil {
				return err
			}
			group.ApplicationIDs = append(group.ApplicationIDs, id)
		}
		if _, err := tx.CreateGroup(ctx, group); err != nil {
			return l.storeError(err, e)
		}
	}

	for i, k := range f.APIKeys {
		e := w.keys[i]
		key, err := l.apiKey(k, &e)
		if err != nil {
			return err
		}
		if _, err := tx.CreateAPIKey(ctx, key); err != nil {
			return l.storeError(err, e)
		}
	}

	named := namer(w.ids)
	for i, wp := range f.Policies {
		e := w.policies[i]
		p, err := l.policy(wp, &e)
		if err != nil {
			return err
		}
		named(&p, &e)
		if err := createPolicyOwned(ctx, tx, p); err != nil {
			return l.storeError(err, e)
		}
	}
	return nil
}

// setOrder orders the file's permission sets so that a set comes after
// the sets of the file it includes, and rejects include cycles among them.
func (l *loader) setOrder(sets []wire.PermissionSet, ents []entity) ([]int, error) {
	byName := make(map[string]int, len(sets))
	for i, s := range sets {
		byName[s.Name] = i
	}
	const (
		fresh = iota
		visiting
		done
	)
	state := make([]uint8, len(sets))
	order := make([]int, 0, len(sets))
	var stack []int
	var visit func(i int) error
	visit = func(i int) error {
		state[i] = visiting
		stack = append(stack, i)
		for k, inc := range sets[i].Includes {
			j, ok := byName[inc]
			if !ok || j == i { // not the file's, or itself: the store says so
				continue
			}
			switch state[j] {
			case visiting:
				at := slices.Index(stack, j)
				var cycle []string
				for _, x := range stack[at:] {
					cycle = append(cycle, sets[x].Name)
				}
				cycle = append(cycle, inc)
				return l.invalid(ents[i], fmt.Sprintf("includes[%d]", k), inc, "includes form a cycle: "+strings.Join(cycle, " -> "), "remove one of these includes", nil)
			case fresh:
				if err := visit(j); err != nil {
					return err
				}
			}
		}
		stack = stack[:len(stack)-1]
		state[i] = done
		order = append(order, i)
		return nil
	}
	for i := range sets {
		if state[i] == fresh {
			if err := visit(i); err != nil {
				return nil, err
			}
		}
	}
	return order, nil
}

// apiKey converts an API key of the file.
func (l *loader) apiKey(k wire.APIKey, e *entity) (APIKey, error) {
	key := APIKey{AccessKey: k.AccessKey, OrganizationID: l.org, SecretSHA256: k.SecretSHA256, Description: k.Description}
	switch {
	case k.User != "" && k.Application != "":
		return key, l.invalid(*e, "application", k.Application, `an API key has one bearer: "user" or "application", not both`, "", nil)
	case k.User != "":
		e.bearer = "user"
		id, err := l.resolve(KindUser, k.User, *e, func() string { return "user" })
		if err != nil {
			return key, err
		}
		key.Bearer = UserPrincipal(id)
	case k.Application != "":
		e.bearer = "application"
		id, err := l.resolve(KindApplication, k.Application, *e, func() string { return "application" })
		if err != nil {
			return key, err
		}
		key.Bearer = ApplicationPrincipal(id)
	default:
		return key, l.invalid(*e, "", "", "an API key needs a bearer", `name it with "user" or "application"`, nil)
	}
	if k.SecretSHA256 == "" {
		return key, l.invalid(*e, "secret_sha256", "", `the secret's SHA-256 ("secret_sha256") is required`, "a file never carries a plain secret: give the hex SHA-256 of the key's secret (iam.HashSecret computes it)", nil)
	}
	if k.DefaultProjectID != "" {
		id, err := l.resolve(KindProject, k.DefaultProjectID, *e, func() string { return "default_project_id" })
		if err != nil {
			return key, err
		}
		key.DefaultProjectID = id
	}
	if k.ExpiresAt != "" {
		t, err := time.Parse(time.RFC3339, k.ExpiresAt)
		if err != nil {
			return key, l.invalid(*e, "expires_at", k.ExpiresAt, "not an RFC 3339 time", `write it as "2030-01-01T00:00:00Z"`, nil)
		}
		key.ExpiresAt = t.UTC()
	}
	return key, nil
}

// policy converts a policy of the file, resolving its references.
func (l *loader) policy(wp wire.Policy, e *entity) (Policy, error) {
	p := Policy{ID: e.id, OrganizationID: l.org, Name: wp.Name, Description: wp.Description, Tags: nonEmpty(wp.Tags)}
	type principalKey struct {
		key, ref string
		kind     Kind
		typ      PrincipalType
	}
	var buf [3]principalKey
	given := buf[:0]
	for _, c := range []principalKey{
		{"user", wp.User, KindUser, PrincipalUser},
		{"application", wp.Application, KindApplication, PrincipalApplication},
		{"group", wp.Group, KindGroup, PrincipalGroup},
	} {
		if c.ref != "" {
			given = append(given, c)
		}
	}
	if len(given) > 1 {
		// Blame the second one in the file's order.
		offset := func(c principalKey) int64 {
			off, _ := wire.LocateKey(l.data, joinPath(e.path(), c.key))
			return off
		}
		slices.SortFunc(given, func(a, b principalKey) int { return cmp.Compare(offset(a), offset(b)) })
		return p, l.invalid(*e, given[1].key, given[1].ref, fmt.Sprintf("a policy has at most one principal, and this one already names its %s", given[0].key), "give each principal its own policy, or gather them in a group", nil)
	}
	for _, c := range given {
		e.principal = c.key
		id, err := l.resolve(c.kind, c.ref, *e, func() string { return c.key })
		if err != nil {
			return p, err
		}
		p.Principal = Principal{Type: c.typ, ID: id}
	}
	if wp.Rules != nil {
		p.Rules = l.rules.take(len(wp.Rules))
	}
	for j, r := range wp.Rules {
		at := func(field string) string { return joinPath("rules["+strconv.Itoa(j)+"]", field) }
		rule := Rule{PermissionSets: r.PermissionSets, Condition: r.Condition}
		switch {
		case r.Projects != nil && r.Organization:
			return p, l.invalid(*e, at(""), "", `a rule has exactly one scope: "projects" or "organization": true, not both`, `remove "projects" to grant in every project, or "organization" to grant in the listed ones`, nil)
		case r.Organization:
			rule.Scope.OrganizationID = l.org
		case r.Projects == nil:
			return p, l.invalid(*e, at(""), "", "a rule has exactly one scope, and this one has none", `set either "projects": [...] or "organization": true`, nil)
		case len(r.Projects) == 0:
			return p, l.invalid(*e, at("projects"), "", "the list of projects is empty", `list at least one project, or write "organization": true for every project`, nil)
		default:
			// The decoded list is the loader's own: its references are
			// replaced by IDs in place.
			for k, ref := range r.Projects {
				id, err := l.resolve(KindProject, ref, *e, func() string { return at(fmt.Sprintf("projects[%d]", k)) })
				if err != nil {
					return p, err
				}
				r.Projects[k] = id
			}
			rule.Scope.ProjectIDs = r.Projects
		}
		p.Rules = append(p.Rules, rule)
	}
	return p, nil
}

// ruleSlab hands out the rule lists of a file's policies from shared
// blocks: one allocation for many policies rather than one each. A block
// stays in memory while any policy of it does, so blocks are small.
type ruleSlab struct{ free []Rule }

const ruleSlabLen = 512

// take returns an empty list with room for n rules, which never grows
// into another policy's.
func (s *ruleSlab) take(n int) []Rule {
	if n > ruleSlabLen/4 {
		return make([]Rule, 0, n)
	}
	if len(s.free) < n {
		s.free = make([]Rule, ruleSlabLen)
	}
	out := s.free[:0:n]
	s.free = s.free[n:]
	return out
}

// namer returns the function that names a file's policy given with
// neither "id" nor "name" (e.id is empty), once its principal is resolved:
// the name is derived from the principal, so that loading the same file
// again names the same policy (and updates it) instead of adding another.
// taken holds the IDs the file gives explicitly; names handed out are
// added to it, so that two such policies of one principal are told apart
// by their order in the file.
func namer[V any](taken map[string]V) func(p *Policy, e *entity) {
	given := map[string]bool{}
	return func(p *Policy, e *entity) {
		if e.id != "" {
			return
		}
		name := derivedPolicyName(p.Principal, func(s string) bool {
			_, inFile := taken[s]
			return inFile || given[s]
		})
		given[name] = true
		p.ID, p.Name = name, name
		e.id, e.idFrom = name, e.principal
	}
}

// derivedPolicyName is the name of a policy that a file gives neither an
// "id" nor a "name": "user-ID", "application-ID" or "group-ID" after its
// principal (spaces made dashes), "no-principal" without one, followed by
// "-2", "-3"... when taken says the name is in use. A name that would be
// longer than a name or an ID may be is cut, and keeps a hash of the whole
// so that two long principal IDs never share it.
func derivedPolicyName(p Principal, taken func(string) bool) string {
	base := "no-principal"
	if !p.IsZero() {
		// An ID has no spaces, but a reference that resolves to nothing
		// may: the store then reports the reference, not the name.
		base = p.Type.String() + "-" + strings.Map(func(r rune) rune {
			if unicode.IsSpace(r) || unicode.IsControl(r) {
				return '-'
			}
			return r
		}, p.ID)
	}
	for n := 1; ; n++ {
		suffix := ""
		if n > 1 {
			suffix = "-" + strconv.Itoa(n)
		}
		name := base + suffix
		if limit := min(MaxNameLength, MaxIDLength); utf8.RuneCountInString(name) > limit {
			sum := sha256.Sum256([]byte(base))
			tail := "-" + hex.EncodeToString(sum[:4]) + suffix
			name = string([]rune(base)[:limit-len(tail)]) + tail
		}
		if !taken(name) {
			return name
		}
	}
}

// nonEmpty returns s, or nil when it is empty.
func nonEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}
