package scaleway

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/iamkit/iam/internal/wire"
)

// FromWorld writes the world f in Scaleway's format: an export (see the
// package documentation) with the entities in f's order, each with the
// fields the API returns that a world says something about ("type" is
// always "owner" or "member"; "tags" is [] when there are none; a rule's
// "condition" is "" when it has none; an API key's "default_project_id" is
// the organization's ID, its default project, when the world leaves it
// out), every reference resolved to an ID as the world loader resolves it
// (an ID first, then a name, or a user's email regardless of case), and
// "rules" under each policy. The output is indented JSON ending in a
// newline, the same bytes for the same world; ToWorld reads it back to the
// same entities.
//
// What Scaleway's format cannot carry is dropped or refused: API keys'
// secrets are dropped (the API never returns them), and a world defining
// its own permission sets is an error (Scaleway has none), and so is a
// policy with neither an ID nor a name (every object of the format has an
// ID). A reference that names nothing in f, or a name two entities share,
// is an error.
func FromWorld(f wire.File) ([]byte, error) {
	if f.Organization == nil {
		return nil, fmt.Errorf("iam: scaleway: not a world file: it has no \"organization\"")
	}
	org := f.Organization.ID
	if org == "" {
		org = f.Organization.Name
	}
	if org == "" {
		return nil, fmt.Errorf("iam: scaleway: organization: the organization needs an \"id\" or a \"name\"")
	}
	if len(f.PermissionSets) > 0 {
		return nil, fmt.Errorf("iam: scaleway: permission_sets: Scaleway's format has no custom permission sets, and this world defines %d", len(f.PermissionSets))
	}
	name := f.Organization.Name
	if name == "" {
		name = org
	}
	out := File{Organization: &Organization{ID: org, Name: name}}
	r := newResolver(org)

	// IDs, as the world loader works them out.
	projectIDs := make([]string, len(f.Projects))
	for i, p := range f.Projects {
		id := p.ID
		if id == "" && p.Name == "default" {
			id = org
		} else if id == "" {
			id = p.Name
		}
		projectIDs[i] = id
		r.add("project", id, p.Name)
		if id == org {
			r.renameDefault(p.Name)
		}
	}
	userIDs := make([]string, len(f.Users))
	for i, u := range f.Users {
		userIDs[i] = cmpOr(u.ID, u.Email)
		r.add("user", userIDs[i], strings.ToLower(u.Email))
	}
	appIDs := make([]string, len(f.Applications))
	for i, a := range f.Applications {
		appIDs[i] = cmpOr(a.ID, a.Name)
		r.add("application", appIDs[i], a.Name)
	}
	groupIDs := make([]string, len(f.Groups))
	for i, g := range f.Groups {
		groupIDs[i] = cmpOr(g.ID, g.Name)
		r.add("group", groupIDs[i], g.Name)
	}

	out.Projects = make([]Project, len(f.Projects))
	for i, p := range f.Projects {
		name := p.Name
		if name == "" && projectIDs[i] == org {
			name = "default"
		}
		out.Projects[i] = Project{ID: projectIDs[i], Name: name, OrganizationID: org, Description: p.Description}
	}

	out.Users = make([]User, len(f.Users))
	for i, u := range f.Users {
		typ := u.Type
		if typ == "" {
			typ = "member"
		}
		out.Users[i] = User{ID: userIDs[i], Email: u.Email, Username: u.Username, OrganizationID: org, Type: typ, Tags: tags(u.Tags), Locked: u.Locked}
	}

	out.Applications = make([]Application, len(f.Applications))
	for i, a := range f.Applications {
		out.Applications[i] = Application{ID: appIDs[i], Name: a.Name, Description: a.Description, OrganizationID: org, Managed: a.Managed, Tags: tags(a.Tags)}
	}

	out.Groups = make([]Group, len(f.Groups))
	for i, g := range f.Groups {
		at := elem("groups", i)
		sg := Group{ID: groupIDs[i], OrganizationID: org, Name: g.Name, Description: g.Description,
			UserIDs: []string{}, ApplicationIDs: []string{}, Tags: tags(g.Tags), AllUsers: g.AllUsers, AllApplications: g.AllApplications}
		for j, ref := range g.Users {
			id, err := r.resolve("user", ref, fmt.Sprintf("%s.users[%d]", at, j))
			if err != nil {
				return nil, err
			}
			sg.UserIDs = append(sg.UserIDs, id)
		}
		for j, ref := range g.Applications {
			id, err := r.resolve("application", ref, fmt.Sprintf("%s.applications[%d]", at, j))
			if err != nil {
				return nil, err
			}
			sg.ApplicationIDs = append(sg.ApplicationIDs, id)
		}
		out.Groups[i] = sg
	}

	out.Policies = make([]Policy, len(f.Policies))
	for i, p := range f.Policies {
		at := elem("policies", i)
		sp := Policy{ID: cmpOr(p.ID, p.Name), Name: p.Name, Description: p.Description, OrganizationID: org, Tags: tags(p.Tags), Rules: []Rule{}}
		if sp.ID == "" {
			return nil, fmt.Errorf("iam: scaleway: %s: the policy has neither an \"id\" nor a \"name\", and Scaleway's format names every object by its ID", at)
		}
		given := 0
		for _, c := range []struct {
			kind, key, ref string
			to             **string
		}{
			{"user", "user", p.User, &sp.UserID},
			{"application", "application", p.Application, &sp.ApplicationID},
			{"group", "group", p.Group, &sp.GroupID},
		} {
			if c.ref == "" {
				continue
			}
			given++
			if given > 1 {
				return nil, fmt.Errorf("iam: scaleway: %s.%s: a policy has at most one principal", at, c.key)
			}
			id, err := r.resolve(c.kind, c.ref, at+"."+c.key)
			if err != nil {
				return nil, err
			}
			*c.to = &id
		}
		if given == 0 {
			none := true
			sp.NoPrincipal = &none
		}
		for j, wr := range p.Rules {
			rat := fmt.Sprintf("%s.rules[%d]", at, j)
			sr := Rule{PermissionSetNames: wr.PermissionSets, Condition: wr.Condition}
			if sr.PermissionSetNames == nil {
				sr.PermissionSetNames = []string{}
			}
			switch {
			case wr.Organization && wr.Projects != nil:
				return nil, fmt.Errorf("iam: scaleway: %s: a rule has exactly one scope, and this one has both \"projects\" and \"organization\"", rat)
			case wr.Organization:
				o := org
				sr.OrganizationID = &o
			case len(wr.Projects) == 0:
				return nil, fmt.Errorf("iam: scaleway: %s: the rule has no scope", rat)
			default:
				sr.ProjectIDs = make([]string, len(wr.Projects))
				for k, ref := range wr.Projects {
					id, err := r.resolve("project", ref, fmt.Sprintf("%s.projects[%d]", rat, k))
					if err != nil {
						return nil, err
					}
					sr.ProjectIDs[k] = id
				}
			}
			sp.Rules = append(sp.Rules, sr)
		}
		out.Policies[i] = sp
	}

	out.APIKeys = make([]APIKey, len(f.APIKeys))
	for i, k := range f.APIKeys {
		at := elem("api_keys", i)
		sk := APIKey{AccessKey: k.AccessKey, Description: k.Description, DefaultProjectID: org}
		switch {
		case k.User != "" && k.Application != "":
			return nil, fmt.Errorf("iam: scaleway: %s: an API key has one bearer, \"user\" or \"application\"", at)
		case k.User != "":
			id, err := r.resolve("user", k.User, at+".user")
			if err != nil {
				return nil, err
			}
			sk.UserID = &id
		case k.Application != "":
			id, err := r.resolve("application", k.Application, at+".application")
			if err != nil {
				return nil, err
			}
			sk.ApplicationID = &id
		default:
			return nil, fmt.Errorf("iam: scaleway: %s: the API key has no bearer", at)
		}
		if k.DefaultProjectID != "" {
			id, err := r.resolve("project", k.DefaultProjectID, at+".default_project_id")
			if err != nil {
				return nil, err
			}
			sk.DefaultProjectID = id
		}
		if k.ExpiresAt != "" {
			e := k.ExpiresAt
			sk.ExpiresAt = &e
		}
		out.APIKeys[i] = sk
	}

	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // conditions hold "&&" and "<"
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		return nil, fmt.Errorf("iam: scaleway: %w", err)
	}
	return buf.Bytes(), nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// tags returns t, or an empty list (the API writes [] for no tags).
func tags(t []string) []string {
	if t == nil {
		return []string{}
	}
	return t
}

// resolver resolves a world's references, as the world loader does: an ID
// of the kind first, then a name (a user's email, in lower case).
type resolver struct {
	ids   map[string]map[string]bool     // kind -> IDs
	names map[string]map[string][]string // kind -> name -> IDs
	org   string
}

func newResolver(org string) *resolver {
	r := &resolver{ids: map[string]map[string]bool{}, names: map[string]map[string][]string{}, org: org}
	r.add("project", org, "default")
	return r
}

func (r *resolver) add(kind, id, name string) {
	if r.ids[kind] == nil {
		r.ids[kind], r.names[kind] = map[string]bool{}, map[string][]string{}
	}
	r.ids[kind][id] = true
	if name != "" {
		for _, x := range r.names[kind][name] {
			if x == id {
				return
			}
		}
		r.names[kind][name] = append(r.names[kind][name], id)
	}
}

// renameDefault records that the default project is named name, not
// "default".
func (r *resolver) renameDefault(name string) {
	if name == "" || name == "default" {
		return
	}
	ids := r.names["project"]["default"]
	for i, id := range ids {
		if id == r.org {
			ids = append(ids[:i:i], ids[i+1:]...)
			break
		}
	}
	if len(ids) == 0 {
		delete(r.names["project"], "default")
	} else {
		r.names["project"]["default"] = ids
	}
}

func (r *resolver) resolve(kind, ref, path string) (string, error) {
	if r.ids[kind][ref] {
		return ref, nil
	}
	name := ref
	if kind == "user" {
		name = strings.ToLower(ref)
	}
	switch ids := r.names[kind][name]; len(ids) {
	case 0:
		return "", fmt.Errorf("iam: scaleway: %s: no %s %q in the world", path, kind, ref)
	case 1:
		return ids[0], nil
	default:
		return "", fmt.Errorf("iam: scaleway: %s: ambiguous reference: %d %ss are named %q (%s); refer to one by its id", path, len(ids), kind, ref, strings.Join(ids, ", "))
	}
}
