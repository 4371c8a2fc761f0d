package iam

import (
	"context"
	"fmt"
)

// The write rules of groups.

func (t *WriteTx) CreateGroup(ctx context.Context, g Group) (_ Group, err error) {
	if ctx, err = t.begin(ctx, true); err != nil {
		return Group{}, err
	}
	if _, err := t.org(ctx, g.OrganizationID); err != nil {
		return Group{}, refError(KindGroup, g.ID, "organization_id", err)
	}
	if err := checkGroupSize(g); err != nil {
		return Group{}, err
	}
	g = normalizeGroup(g)
	if g.ID == "" {
		g.ID = newID()
	}
	if err := t.validateGroup(ctx, g); err != nil {
		return Group{}, err
	}
	if err := t.claimID(ctx, KindGroup, g.ID, g.OrganizationID); err != nil {
		return Group{}, err
	}
	if err := t.apply(ctx, OpPut, KindGroup, g.ID, g.OrganizationID, g); err != nil {
		return Group{}, err
	}
	return cloneGroup(g), nil
}

func (t *WriteTx) GetGroup(ctx context.Context, id string) (Group, error) {
	ctx, err := t.begin(ctx, false)
	if err != nil {
		return Group{}, err
	}
	g, err := get(ctx, KindGroup, id, t.view.Group)
	return cloneGroup(g), err
}

func (t *WriteTx) ListGroups(ctx context.Context, organizationID string) ([]Group, error) {
	ctx, err := t.begin(ctx, false)
	if err != nil {
		return nil, err
	}
	if _, err := t.org(ctx, organizationID); err != nil {
		return nil, err
	}
	vs, err := t.view.Groups(ctx, organizationID)
	return cloned(vs, err, cloneGroup)
}

func (t *WriteTx) UpdateGroup(ctx context.Context, g Group) (_ Group, err error) {
	if ctx, err = t.begin(ctx, true); err != nil {
		return Group{}, err
	}
	old, err := get(ctx, KindGroup, g.ID, t.view.Group)
	if err != nil {
		return Group{}, err
	}
	if err := immutable(KindGroup, g.ID, "organization_id", old.OrganizationID, g.OrganizationID); err != nil {
		return Group{}, err
	}
	if err := checkGroupSize(g); err != nil {
		return Group{}, err
	}
	g = normalizeGroup(g)
	if err := t.validateGroup(ctx, g); err != nil {
		return Group{}, err
	}
	if err := t.apply(ctx, OpPut, KindGroup, g.ID, g.OrganizationID, g); err != nil {
		return Group{}, err
	}
	return cloneGroup(g), nil
}

func (t *WriteTx) DeleteGroup(ctx context.Context, id string) (err error) {
	if ctx, err = t.begin(ctx, true); err != nil {
		return err
	}
	defer t.settle(len(t.events), &err)
	g, err := get(ctx, KindGroup, id, t.view.Group)
	if err != nil {
		return err
	}
	if err := t.forgetPrincipal(ctx, g.OrganizationID, GroupPrincipal(id)); err != nil {
		return err
	}
	return t.apply(ctx, OpDelete, KindGroup, id, g.OrganizationID, nil)
}

// normalizeGroup copies g and drops repeated members, keeping first-seen
// order.
func normalizeGroup(g Group) Group {
	g = cloneGroup(g)
	g.UserIDs = dedupe(g.UserIDs)
	g.ApplicationIDs = dedupe(g.ApplicationIDs)
	return g
}

func dedupe(ids []string) []string {
	if len(ids) < 2 {
		return ids
	}
	seen := make(map[string]bool, len(ids))
	out := ids[:0]
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

func (t *WriteTx) validateGroup(ctx context.Context, g Group) error {
	if err := validateID(KindGroup, g.ID, "id"); err != nil {
		return err
	}
	if err := validateName(KindGroup, g.ID, "name", g.Name, true); err != nil {
		return err
	}
	if err := validateDescription(KindGroup, g.ID, g.Description); err != nil {
		return err
	}
	if err := validateTags(KindGroup, g.ID, g.Tags); err != nil {
		return err
	}
	org := g.OrganizationID
	if other, ok, err := t.view.GroupByName(ctx, org, g.Name); err != nil {
		return err
	} else if ok && other.ID != g.ID {
		return &ValidationError{Entity: "group", ID: g.ID, Field: "name", Value: g.Name,
			Reason: fmt.Sprintf("the name is already used by group %q of organization %q", other.ID, org),
			Hint:   "group names are unique in an organization: choose another", Cause: ErrConflict}
	}
	if g.AllUsers && len(g.UserIDs) > 0 {
		return invalid(KindGroup, g.ID, "users", "", "a group of all users lists no users", "remove the users or all_users")
	}
	if g.AllApplications && len(g.ApplicationIDs) > 0 {
		return invalid(KindGroup, g.ID, "applications", "", "a group of all applications lists no applications", "remove the applications or all_applications")
	}
	for i, id := range g.UserIDs {
		if err := t.checkRefAt(ctx, org, KindGroup, g.ID, func() string { return fmt.Sprintf("users[%d]", i) }, KindUser, id); err != nil {
			return err
		}
	}
	for i, id := range g.ApplicationIDs {
		if err := t.checkRefAt(ctx, org, KindGroup, g.ID, func() string { return fmt.Sprintf("applications[%d]", i) }, KindApplication, id); err != nil {
			return err
		}
	}
	return nil
}
