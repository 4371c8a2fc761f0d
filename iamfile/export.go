package iamfile

import (
	"context"
	"fmt"
	"time"

	"github.com/iamkit/iam"
	"github.com/iamkit/iam/internal/wire"
)

// Export renders an organization of store as a world file, in one
// consistent read (a store.Atomic call that writes nothing).
//
// The file is canonical, so that it can be kept in a repository and
// compared: entities sorted by ID (permission sets by name), fields in a
// fixed order, fields at their default left out, two-space indentation,
// short objects and lists on one line. References name entities by ID.
// An entity's "id" is left out when it is what the loader would derive
// anyway (a project's, application's, group's or policy's name; a user's
// email), and so is the default project when it is still named "default"
// with no description. API keys carry only the SHA-256 of their secret.
// Lists inside an entity (group members, rules, a rule's projects and
// sets, tags) keep the order the store holds.
//
// Export is a round trip: loading the file into an empty store and
// exporting it again gives the same bytes.
func Export(ctx context.Context, store iam.Store, organizationID string) ([]byte, error) {
	var f *wire.File
	err := store.Atomic(ctx, func(tx iam.Tx) error {
		var err error
		f, err = exportFile(ctx, tx, organizationID)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("iam: export: %w", err)
	}
	return wire.Encode(f), nil
}

// exportFile reads organization org from r into the shape of a world file.
func exportFile(ctx context.Context, r iam.Entities, org string) (*wire.File, error) {
	o, err := r.GetOrganization(ctx, org)
	if err != nil {
		return nil, err
	}
	f := &wire.File{Organization: &wire.Organization{ID: o.ID, Name: o.Name}}
	if o.ID == o.Name {
		f.Organization.ID = ""
	}

	projects, err := r.ListProjects(ctx, org)
	if err != nil {
		return nil, err
	}
	for _, p := range projects {
		w := wire.Project{ID: p.ID, Name: p.Name, Description: p.Description}
		switch {
		case p.ID == org && p.Name == "default" && p.Description == "":
			continue // what every organization has
		case p.ID == org && p.Name == "default":
			w.ID = "" // a project named "default" without an id is the default one
		case p.ID == org:
		case p.ID == p.Name && p.Name != "default":
			w.ID = ""
		}
		f.Projects = append(f.Projects, w)
	}

	users, err := r.ListUsers(ctx, org)
	if err != nil {
		return nil, err
	}
	for _, u := range users {
		w := wire.User{ID: omitIf(u.ID, u.Email), Email: u.Email, Username: u.Username, Locked: u.Locked, Tags: u.Tags}
		if u.IsOwner() {
			w.Type = string(iam.UserOwner)
		}
		f.Users = append(f.Users, w)
	}

	apps, err := r.ListApplications(ctx, org)
	if err != nil {
		return nil, err
	}
	for _, a := range apps {
		f.Applications = append(f.Applications, wire.Application{ID: omitIf(a.ID, a.Name), Name: a.Name,
			Description: a.Description, Managed: a.Managed, Tags: a.Tags})
	}

	groups, err := r.ListGroups(ctx, org)
	if err != nil {
		return nil, err
	}
	for _, g := range groups {
		f.Groups = append(f.Groups, wire.Group{ID: omitIf(g.ID, g.Name), Name: g.Name, Description: g.Description,
			Users: g.UserIDs, Applications: g.ApplicationIDs, AllUsers: g.AllUsers, AllApplications: g.AllApplications, Tags: g.Tags})
	}

	keys, err := r.ListAPIKeys(ctx, org)
	if err != nil {
		return nil, err
	}
	for _, k := range keys {
		w := wire.APIKey{AccessKey: k.AccessKey, SecretSHA256: k.SecretSHA256, Description: k.Description}
		switch k.Bearer.Type {
		case iam.PrincipalUser:
			w.User = k.Bearer.ID
		case iam.PrincipalApplication:
			w.Application = k.Bearer.ID
		}
		if k.DefaultProjectID != org {
			w.DefaultProjectID = k.DefaultProjectID
		}
		if !k.ExpiresAt.IsZero() {
			w.ExpiresAt = k.ExpiresAt.UTC().Format(time.RFC3339Nano)
		}
		f.APIKeys = append(f.APIKeys, w)
	}

	sets, err := r.ListPermissionSets(ctx, org)
	if err != nil {
		return nil, err
	}
	for _, s := range sets {
		if s.OrganizationID != org {
			continue // the built-in catalogue
		}
		f.PermissionSets = append(f.PermissionSets, wire.PermissionSet{Name: s.Name, ScopeType: string(s.ScopeType),
			Permissions: s.Permissions, Includes: s.Includes, Description: s.Description, Categories: s.Categories})
	}

	policies, err := r.ListPolicies(ctx, org)
	if err != nil {
		return nil, err
	}
	for _, p := range policies {
		f.Policies = append(f.Policies, exportPolicy(p))
	}
	return f, nil
}

// exportPolicy renders a policy as a world file's entry.
func exportPolicy(p iam.Policy) wire.Policy {
	w := wire.Policy{ID: omitIf(p.ID, p.Name), Name: p.Name, Description: p.Description, Tags: p.Tags}
	switch p.Principal.Type {
	case iam.PrincipalUser:
		w.User = p.Principal.ID
	case iam.PrincipalApplication:
		w.Application = p.Principal.ID
	case iam.PrincipalGroup:
		w.Group = p.Principal.ID
	}
	w.Rules = make([]wire.Rule, len(p.Rules))
	for i, r := range p.Rules {
		w.Rules[i] = wire.Rule{Projects: r.Scope.ProjectIDs, Organization: r.Scope.OrganizationID != "",
			PermissionSets: r.PermissionSets, Condition: r.Condition}
	}
	return w
}

// omitIf returns id, or "" when it equals the name it defaults to.
func omitIf(id, name string) string {
	if id == name {
		return ""
	}
	return id
}
