package iam

import (
	"context"
	"fmt"
	"slices"
)

// The write rules of organizations and projects.

func (t *WriteTx) CreateOrganization(ctx context.Context, o Organization) (_ Organization, err error) {
	if ctx, err = t.begin(ctx, true); err != nil {
		return Organization{}, err
	}
	defer t.settle(len(t.events), &err)
	if o.ID == "" {
		o.ID = newID()
	}
	if err := validateOrganization(o); err != nil {
		return Organization{}, err
	}
	if _, ok, err := t.view.Organization(ctx, o.ID); err != nil {
		return Organization{}, err
	} else if ok {
		return Organization{}, fmt.Errorf("iam: organization %q already exists: %w", o.ID, ErrConflict)
	}
	if kind, _, ok, err := t.view.Holder(ctx, o.ID); err != nil {
		return Organization{}, err
	} else if ok {
		return Organization{}, fmt.Errorf("iam: organization %q: the ID is already used by %s: %w", o.ID, kind.withArticle(), ErrConflict)
	}
	if err := t.apply(ctx, OpPut, KindOrganization, o.ID, o.ID, o); err != nil {
		return Organization{}, err
	}
	if _, err := t.CreateProject(ctx, Project{ID: o.ID, OrganizationID: o.ID, Name: "default"}); err != nil {
		return Organization{}, err
	}
	return o, nil
}

func (t *WriteTx) GetOrganization(ctx context.Context, id string) (Organization, error) {
	ctx, err := t.begin(ctx, false)
	if err != nil {
		return Organization{}, err
	}
	return t.org(ctx, id)
}

func (t *WriteTx) ListOrganizations(ctx context.Context) ([]Organization, error) {
	ctx, err := t.begin(ctx, false)
	if err != nil {
		return nil, err
	}
	vs, err := t.view.Organizations(ctx)
	return copied(vs, err)
}

func (t *WriteTx) UpdateOrganization(ctx context.Context, o Organization) (_ Organization, err error) {
	if ctx, err = t.begin(ctx, true); err != nil {
		return Organization{}, err
	}
	if _, err := t.org(ctx, o.ID); err != nil {
		return Organization{}, err
	}
	if err := validateOrganization(o); err != nil {
		return Organization{}, err
	}
	if err := t.apply(ctx, OpPut, KindOrganization, o.ID, o.ID, o); err != nil {
		return Organization{}, err
	}
	return o, nil
}

// DeleteOrganization deletes everything in the organization, children
// first, so that the change reads in dependency order: keys, policies,
// groups, applications, users, permission sets, projects, and the
// organization last.
func (t *WriteTx) DeleteOrganization(ctx context.Context, id string) (err error) {
	if ctx, err = t.begin(ctx, true); err != nil {
		return err
	}
	defer t.settle(len(t.events), &err)
	if _, err := t.org(ctx, id); err != nil {
		return err
	}
	v := t.view
	if err := deleteAll(t, ctx, id, KindAPIKey, v.APIKeys, func(k APIKey) string { return k.AccessKey }); err != nil {
		return err
	}
	if err := deleteAll(t, ctx, id, KindPolicy, v.Policies, func(p Policy) string { return p.ID }); err != nil {
		return err
	}
	if err := deleteAll(t, ctx, id, KindGroup, v.Groups, func(g Group) string { return g.ID }); err != nil {
		return err
	}
	if err := deleteAll(t, ctx, id, KindApplication, v.Applications, func(a Application) string { return a.ID }); err != nil {
		return err
	}
	if err := deleteAll(t, ctx, id, KindUser, v.Users, func(u User) string { return u.ID }); err != nil {
		return err
	}
	if err := deleteAll(t, ctx, id, KindPermissionSet, v.PermissionSets, func(s PermissionSet) string { return s.Name }); err != nil {
		return err
	}
	if err := deleteAll(t, ctx, id, KindProject, v.Projects, func(p Project) string { return p.ID }); err != nil {
		return err
	}
	return t.apply(ctx, OpDelete, KindOrganization, id, id, nil)
}

// deleteAll deletes every entity of kind k of organization org.
func deleteAll[V any](t *WriteTx, ctx context.Context, org string, k Kind, list func(context.Context, string) ([]V, error), key func(V) string) error {
	vs, err := list(ctx, org)
	if err != nil {
		return err
	}
	for _, v := range vs {
		if err := t.apply(ctx, OpDelete, k, key(v), org, nil); err != nil {
			return err
		}
	}
	return nil
}

func (t *WriteTx) CreateProject(ctx context.Context, p Project) (_ Project, err error) {
	if ctx, err = t.begin(ctx, true); err != nil {
		return Project{}, err
	}
	if _, err := t.org(ctx, p.OrganizationID); err != nil {
		return Project{}, refError(KindProject, p.ID, "organization_id", err)
	}
	if p.ID == "" {
		p.ID = newID()
	}
	if err := validateProject(p); err != nil {
		return Project{}, err
	}
	if err := t.claimID(ctx, KindProject, p.ID, p.OrganizationID); err != nil {
		return Project{}, err
	}
	if err := t.apply(ctx, OpPut, KindProject, p.ID, p.OrganizationID, p); err != nil {
		return Project{}, err
	}
	return p, nil
}

func (t *WriteTx) GetProject(ctx context.Context, id string) (Project, error) {
	ctx, err := t.begin(ctx, false)
	if err != nil {
		return Project{}, err
	}
	return get(ctx, KindProject, id, t.view.Project)
}

func (t *WriteTx) ListProjects(ctx context.Context, organizationID string) ([]Project, error) {
	ctx, err := t.begin(ctx, false)
	if err != nil {
		return nil, err
	}
	if _, err := t.org(ctx, organizationID); err != nil {
		return nil, err
	}
	vs, err := t.view.Projects(ctx, organizationID)
	return copied(vs, err)
}

func (t *WriteTx) UpdateProject(ctx context.Context, p Project) (_ Project, err error) {
	if ctx, err = t.begin(ctx, true); err != nil {
		return Project{}, err
	}
	old, err := get(ctx, KindProject, p.ID, t.view.Project)
	if err != nil {
		return Project{}, err
	}
	if err := immutable(KindProject, p.ID, "organization_id", old.OrganizationID, p.OrganizationID); err != nil {
		return Project{}, err
	}
	if err := validateProject(p); err != nil {
		return Project{}, err
	}
	if err := t.apply(ctx, OpPut, KindProject, p.ID, p.OrganizationID, p); err != nil {
		return Project{}, err
	}
	return p, nil
}

// DeleteProject removes the project from every rule, drops the rules left
// with no project, and resets the API keys whose default project it is to
// the default project.
func (t *WriteTx) DeleteProject(ctx context.Context, id string) (err error) {
	if ctx, err = t.begin(ctx, true); err != nil {
		return err
	}
	defer t.settle(len(t.events), &err)
	p, err := get(ctx, KindProject, id, t.view.Project)
	if err != nil {
		return err
	}
	org := p.OrganizationID
	if id == org {
		return fmt.Errorf("iam: project %q is the default project of organization %q and cannot be deleted (delete the organization instead): %w", id, org, ErrForbidden)
	}
	policies, err := t.view.Policies(ctx, org)
	if err != nil {
		return err
	}
	for _, pol := range policies {
		rules, changed := withoutProject(pol.Rules, id)
		if changed {
			pol = clonePolicy(pol)
			pol.Rules = rules
			if err := t.apply(ctx, OpPut, KindPolicy, pol.ID, org, pol); err != nil {
				return err
			}
		}
	}
	keys, err := t.view.APIKeys(ctx, org)
	if err != nil {
		return err
	}
	for _, key := range keys {
		if key.DefaultProjectID == id {
			key.DefaultProjectID = org
			if err := t.apply(ctx, OpPut, KindAPIKey, key.AccessKey, org, key); err != nil {
				return err
			}
		}
	}
	return t.apply(ctx, OpDelete, KindProject, id, org, nil)
}

// withoutProject removes project id from every rule, dropping the rules
// left with no project.
func withoutProject(rules []Rule, id string) ([]Rule, bool) {
	changed := false
	out := make([]Rule, 0, len(rules))
	for _, r := range rules {
		if slices.Contains(r.Scope.ProjectIDs, id) {
			changed = true
			r.Scope.ProjectIDs = slices.DeleteFunc(slices.Clone(r.Scope.ProjectIDs), func(p string) bool { return p == id })
			if len(r.Scope.ProjectIDs) == 0 {
				continue
			}
		}
		out = append(out, r)
	}
	return out, changed
}
