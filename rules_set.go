package iam

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// The write rules of an organization's own permission sets.

func (t *WriteTx) CreatePermissionSet(ctx context.Context, ps PermissionSet) (_ PermissionSet, err error) {
	if ctx, err = t.begin(ctx, true); err != nil {
		return PermissionSet{}, err
	}
	if _, err := t.org(ctx, ps.OrganizationID); err != nil {
		return PermissionSet{}, refError(KindPermissionSet, ps.Name, "organization_id", err)
	}
	ps = clonePermissionSet(ps)
	if err := t.validatePermissionSet(ctx, ps); err != nil {
		return PermissionSet{}, err
	}
	if _, ok := t.w.catByName[ps.Name]; ok {
		return PermissionSet{}, fmt.Errorf("iam: permission set %q: the name is taken by the built-in catalogue: choose another name: %w", ps.Name, ErrConflict)
	}
	if _, ok, err := t.view.PermissionSet(ctx, ps.OrganizationID, ps.Name); err != nil {
		return PermissionSet{}, err
	} else if ok {
		return PermissionSet{}, fmt.Errorf("iam: permission set %q already exists in organization %q: %w", ps.Name, ps.OrganizationID, ErrConflict)
	}
	if err := t.apply(ctx, OpPut, KindPermissionSet, ps.Name, ps.OrganizationID, ps); err != nil {
		return PermissionSet{}, err
	}
	return clonePermissionSet(ps), nil
}

// GetPermissionSet reads an organization's own set, or with an empty
// organization ID a set of the built-in catalogue.
func (t *WriteTx) GetPermissionSet(ctx context.Context, organizationID, name string) (PermissionSet, error) {
	ctx, err := t.begin(ctx, false)
	if err != nil {
		return PermissionSet{}, err
	}
	if organizationID == "" {
		if i, ok := t.w.catByName[name]; ok {
			return clonePermissionSet(t.w.catalogue[i]), nil
		}
		return PermissionSet{}, notFound(KindPermissionSet, name)
	}
	if _, err := t.org(ctx, organizationID); err != nil {
		return PermissionSet{}, err
	}
	ps, ok, err := t.view.PermissionSet(ctx, organizationID, name)
	if err != nil {
		return PermissionSet{}, err
	}
	if !ok {
		return PermissionSet{}, notFound(KindPermissionSet, name)
	}
	return clonePermissionSet(ps), nil
}

// ListPermissionSets lists an organization's own sets, or with an empty
// organization ID the built-in catalogue.
func (t *WriteTx) ListPermissionSets(ctx context.Context, organizationID string) ([]PermissionSet, error) {
	ctx, err := t.begin(ctx, false)
	if err != nil {
		return nil, err
	}
	if organizationID == "" {
		return t.w.Catalogue(), nil
	}
	if _, err := t.org(ctx, organizationID); err != nil {
		return nil, err
	}
	vs, err := t.view.PermissionSets(ctx, organizationID)
	return cloned(vs, err, clonePermissionSet)
}

func (t *WriteTx) UpdatePermissionSet(ctx context.Context, ps PermissionSet) (_ PermissionSet, err error) {
	if ctx, err = t.begin(ctx, true); err != nil {
		return PermissionSet{}, err
	}
	if ps.OrganizationID == "" {
		return PermissionSet{}, fmt.Errorf("iam: permission set %q: the built-in catalogue cannot be changed: %w", ps.Name, ErrForbidden)
	}
	if _, err := t.org(ctx, ps.OrganizationID); err != nil {
		return PermissionSet{}, err
	}
	old, ok, err := t.view.PermissionSet(ctx, ps.OrganizationID, ps.Name)
	if err != nil {
		return PermissionSet{}, err
	}
	if !ok {
		return PermissionSet{}, notFound(KindPermissionSet, ps.Name)
	}
	ps = clonePermissionSet(ps)
	if err := t.validatePermissionSet(ctx, ps); err != nil {
		return PermissionSet{}, err
	}
	if ps.ScopeType != old.ScopeType {
		if ref, err := t.setReferrer(ctx, ps.OrganizationID, ps.Name); err != nil {
			return PermissionSet{}, err
		} else if ref != "" {
			return PermissionSet{}, fmt.Errorf("iam: permission set %q: its scope type cannot change while %s refers to it: %w", ps.Name, ref, ErrConflict)
		}
	}
	if err := t.apply(ctx, OpPut, KindPermissionSet, ps.Name, ps.OrganizationID, ps); err != nil {
		return PermissionSet{}, err
	}
	return clonePermissionSet(ps), nil
}

func (t *WriteTx) DeletePermissionSet(ctx context.Context, organizationID, name string) (err error) {
	if ctx, err = t.begin(ctx, true); err != nil {
		return err
	}
	if organizationID == "" {
		return fmt.Errorf("iam: permission set %q: the built-in catalogue cannot be changed: %w", name, ErrForbidden)
	}
	if _, err := t.org(ctx, organizationID); err != nil {
		return err
	}
	if _, ok, err := t.view.PermissionSet(ctx, organizationID, name); err != nil {
		return err
	} else if !ok {
		return notFound(KindPermissionSet, name)
	}
	if ref, err := t.setReferrer(ctx, organizationID, name); err != nil {
		return err
	} else if ref != "" {
		return fmt.Errorf("iam: permission set %q cannot be deleted while %s refers to it: %w", name, ref, ErrConflict)
	}
	t.markCatalogue(organizationID)
	return t.apply(ctx, OpDelete, KindPermissionSet, name, organizationID, nil)
}

// setReferrer names the first policy rule or set of organization org that
// refers to set name, or returns "".
func (t *WriteTx) setReferrer(ctx context.Context, org, name string) (string, error) {
	policies, err := t.view.Policies(ctx, org)
	if err != nil {
		return "", err
	}
	for _, p := range policies {
		for i, r := range p.Rules {
			if slices.Contains(r.PermissionSets, name) {
				return fmt.Sprintf("policy %q (rule %d)", p.ID, i), nil
			}
		}
	}
	sets, err := t.view.PermissionSets(ctx, org)
	if err != nil {
		return "", err
	}
	for _, other := range sets {
		if other.Name != name && slices.Contains(other.Includes, name) {
			return fmt.Sprintf("permission set %q", other.Name), nil
		}
	}
	return "", nil
}

// findSet resolves a set name in an organization: its own sets, then the
// built-in catalogue.
func (t *WriteTx) findSet(ctx context.Context, org, name string) (PermissionSet, bool, error) {
	ps, ok, err := t.view.PermissionSet(ctx, org, name)
	if err != nil || ok {
		return ps, ok, err
	}
	if i, ok := t.w.catByName[name]; ok {
		return t.w.catalogue[i], true, nil
	}
	return PermissionSet{}, false, nil
}

// setNames lists every set name an organization can use, for suggestions.
func (t *WriteTx) setNames(ctx context.Context, org string) ([]string, error) {
	own, err := t.view.PermissionSets(ctx, org)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(t.w.catalogue)+len(own))
	for _, ps := range t.w.catalogue {
		names = append(names, ps.Name)
	}
	for _, ps := range own {
		names = append(names, ps.Name)
	}
	return names, nil
}

func (t *WriteTx) validatePermissionSet(ctx context.Context, ps PermissionSet) error {
	if err := checkPermissionSetShape(ps); err != nil {
		return err
	}
	org := ps.OrganizationID
	for i, inc := range ps.Includes {
		field := fmt.Sprintf("includes[%d]", i)
		other, ok, err := t.findSet(ctx, org, inc)
		if err != nil {
			return err
		}
		if inc == ps.Name {
			other, ok = ps, true
		}
		if !ok {
			names, err := t.setNames(ctx, org)
			if err != nil {
				return err
			}
			e := invalid(KindPermissionSet, ps.Name, field, inc, "unknown permission set", didYouMean(inc, names))
			e.Cause = ErrUnknownPermission
			return e
		}
		if other.ScopeType != ps.ScopeType {
			e := invalid(KindPermissionSet, ps.Name, field, inc, fmt.Sprintf("a %s-scoped set cannot include the %s-scoped set %s", ps.ScopeType, other.ScopeType, inc), "")
			e.Cause = ErrScopeMismatch
			return e
		}
	}
	// Includes must not loop back to this set.
	var viewErr error
	find := func(name string) (PermissionSet, bool) {
		if name == ps.Name {
			return ps, true
		}
		s, ok, err := t.findSet(ctx, org, name)
		if err != nil && viewErr == nil {
			viewErr = err
		}
		return s, ok
	}
	cycle := includeCycle(ps.Name, find)
	if viewErr != nil {
		return viewErr
	}
	if cycle != nil {
		return invalid(KindPermissionSet, ps.Name, "includes", "", "includes form a cycle: "+strings.Join(cycle, " -> "), "remove one of these includes")
	}
	// The levels: no pattern may overlap a pattern of a set of the other
	// scope type, among the built-in sets and the organization's own.
	if err := levelConflict(ps, t.w.catalogue...); err != nil {
		return err
	}
	own, err := t.view.PermissionSets(ctx, org)
	if err != nil {
		return err
	}
	if err := levelConflict(ps, own...); err != nil {
		return err
	}
	// Whether every pattern still matches a declared permission depends on
	// the whole catalogue as the transaction leaves it (a set may rely on
	// permissions that a set written later in the same transaction
	// declares): it is checked when the transaction ends.
	t.markCatalogue(org)
	return nil
}

// markCatalogue records that organization org's own sets changed in the
// transaction, so that its catalogue is checked when the transaction ends.
func (t *WriteTx) markCatalogue(org string) {
	if t.catalogues == nil {
		t.catalogues = map[string]bool{}
	}
	t.catalogues[org] = true
}

// checkCatalogue checks organization org's catalogue as the transaction
// leaves it: every pattern matches a declared permission of its service.
func (t *WriteTx) checkCatalogue(org string) error {
	ctx := t.ctx
	if _, ok, err := t.view.Organization(ctx, org); err != nil || !ok {
		return err // nil when deleted in the same transaction
	}
	own, err := t.view.PermissionSets(ctx, org)
	if err != nil {
		return err
	}
	return undeclaredPattern(t.w.builtinServices, own)
}
