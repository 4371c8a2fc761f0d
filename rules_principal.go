package iam

import (
	"context"
	"fmt"
	"slices"
)

// The write rules of users and applications, and the cascade of deleting
// a principal.

func (t *WriteTx) CreateUser(ctx context.Context, u User) (_ User, err error) {
	if ctx, err = t.begin(ctx, true); err != nil {
		return User{}, err
	}
	if u, err = t.insertUser(ctx, cloneUser(u)); err != nil {
		return User{}, err
	}
	return cloneUser(u), nil
}

// insertUser validates and writes a new user that the caller hands over:
// the store keeps its slices.
func (t *WriteTx) insertUser(ctx context.Context, u User) (User, error) {
	if _, err := t.org(ctx, u.OrganizationID); err != nil {
		return User{}, refError(KindUser, u.ID, "organization_id", err)
	}
	if u.ID == "" {
		u.ID = newID()
	}
	if u.Type == "" {
		u.Type = UserMember
	}
	if err := validateUser(u); err != nil {
		return User{}, err
	}
	if _, err := t.checkUserUnique(ctx, u); err != nil {
		return User{}, err
	}
	if err := t.claimID(ctx, KindUser, u.ID, u.OrganizationID); err != nil {
		return User{}, err
	}
	if err := t.apply(ctx, OpPut, KindUser, u.ID, u.OrganizationID, u); err != nil {
		return User{}, err
	}
	return u, nil
}

// checkUserUnique rejects a second owner and an email used by another user
// of the organization. It returns the organization's owner.
func (t *WriteTx) checkUserUnique(ctx context.Context, u User) (owner string, err error) {
	org := u.OrganizationID
	owner, _, err = t.view.Owner(ctx, org)
	if err != nil {
		return "", err
	}
	if u.IsOwner() && owner != "" && owner != u.ID {
		return "", fmt.Errorf("iam: user %q: organization %q already has an owner, %q: demote it in the same Atomic write to move ownership: %w", u.ID, org, owner, ErrConflict)
	}
	other, ok, err := t.view.UserByEmail(ctx, org, u.Email)
	if err != nil {
		return "", err
	}
	if ok && other.ID != u.ID {
		return "", fmt.Errorf("iam: user %q: email %q is already used by user %q: %w", u.ID, u.Email, other.ID, ErrConflict)
	}
	return owner, nil
}

func (t *WriteTx) GetUser(ctx context.Context, id string) (User, error) {
	ctx, err := t.begin(ctx, false)
	if err != nil {
		return User{}, err
	}
	u, err := get(ctx, KindUser, id, t.view.User)
	return cloneUser(u), err
}

func (t *WriteTx) ListUsers(ctx context.Context, organizationID string) ([]User, error) {
	ctx, err := t.begin(ctx, false)
	if err != nil {
		return nil, err
	}
	if _, err := t.org(ctx, organizationID); err != nil {
		return nil, err
	}
	vs, err := t.view.Users(ctx, organizationID)
	return cloned(vs, err, cloneUser)
}

// UpdateUser replaces a user. A user promoted to owner takes ownership
// from none (the owner is demoted first, in the same transaction); an
// organization whose owner is demoted must have a new one when the
// transaction commits.
func (t *WriteTx) UpdateUser(ctx context.Context, u User) (_ User, err error) {
	if ctx, err = t.begin(ctx, true); err != nil {
		return User{}, err
	}
	old, err := get(ctx, KindUser, u.ID, t.view.User)
	if err != nil {
		return User{}, err
	}
	if err := immutable(KindUser, u.ID, "organization_id", old.OrganizationID, u.OrganizationID); err != nil {
		return User{}, err
	}
	u = cloneUser(u)
	if u.Type == "" {
		u.Type = UserMember
	}
	if err := validateUser(u); err != nil {
		return User{}, err
	}
	owner, err := t.checkUserUnique(ctx, u)
	if err != nil {
		return User{}, err
	}
	if !u.IsOwner() && owner == u.ID {
		if t.demoted == nil {
			t.demoted = map[string]bool{}
		}
		t.demoted[u.OrganizationID] = true
	}
	if err := t.apply(ctx, OpPut, KindUser, u.ID, u.OrganizationID, u); err != nil {
		return User{}, err
	}
	return cloneUser(u), nil
}

func (t *WriteTx) DeleteUser(ctx context.Context, id string) (err error) {
	if ctx, err = t.begin(ctx, true); err != nil {
		return err
	}
	defer t.settle(len(t.events), &err)
	u, err := get(ctx, KindUser, id, t.view.User)
	if err != nil {
		return err
	}
	org := u.OrganizationID
	if owner, _, err := t.view.Owner(ctx, org); err != nil {
		return err
	} else if owner == id {
		return fmt.Errorf("iam: user %q is the owner of organization %q and cannot be deleted: move ownership to another user first: %w", id, org, ErrForbidden)
	}
	if err := t.forgetPrincipal(ctx, org, UserPrincipal(id)); err != nil {
		return err
	}
	return t.apply(ctx, OpDelete, KindUser, id, org, nil)
}

// forgetPrincipal applies the cascade of deleting a user, application or
// group of organization org: its keys go, it leaves every group, its
// policies lose their principal.
func (t *WriteTx) forgetPrincipal(ctx context.Context, org string, p Principal) error {
	keys, err := t.view.APIKeys(ctx, org)
	if err != nil {
		return err
	}
	for _, k := range keys {
		if k.Bearer == p {
			if err := t.apply(ctx, OpDelete, KindAPIKey, k.AccessKey, org, nil); err != nil {
				return err
			}
		}
	}
	if p.Type != PrincipalGroup {
		groups, err := t.view.Groups(ctx, org)
		if err != nil {
			return err
		}
		for _, g := range groups {
			members := g.UserIDs
			if p.Type == PrincipalApplication {
				members = g.ApplicationIDs
			}
			if !slices.Contains(members, p.ID) {
				continue
			}
			g = cloneGroup(g)
			drop := func(id string) bool { return id == p.ID }
			if p.Type == PrincipalUser {
				g.UserIDs = slices.DeleteFunc(g.UserIDs, drop)
			} else {
				g.ApplicationIDs = slices.DeleteFunc(g.ApplicationIDs, drop)
			}
			if err := t.apply(ctx, OpPut, KindGroup, g.ID, org, g); err != nil {
				return err
			}
		}
	}
	policies, err := t.view.Policies(ctx, org)
	if err != nil {
		return err
	}
	for _, pol := range policies {
		if pol.Principal != p {
			continue
		}
		pol = clonePolicy(pol)
		pol.Principal = Principal{}
		if err := t.apply(ctx, OpPut, KindPolicy, pol.ID, org, pol); err != nil {
			return err
		}
	}
	return nil
}

func (t *WriteTx) CreateApplication(ctx context.Context, a Application) (_ Application, err error) {
	if ctx, err = t.begin(ctx, true); err != nil {
		return Application{}, err
	}
	if a, err = t.insertApplication(ctx, cloneApplication(a)); err != nil {
		return Application{}, err
	}
	return cloneApplication(a), nil
}

// insertApplication validates and writes a new application that the
// caller hands over: the store keeps its slices.
func (t *WriteTx) insertApplication(ctx context.Context, a Application) (Application, error) {
	if _, err := t.org(ctx, a.OrganizationID); err != nil {
		return Application{}, refError(KindApplication, a.ID, "organization_id", err)
	}
	if a.ID == "" {
		a.ID = newID()
	}
	if err := validateApplication(a); err != nil {
		return Application{}, err
	}
	if err := t.claimID(ctx, KindApplication, a.ID, a.OrganizationID); err != nil {
		return Application{}, err
	}
	if err := t.apply(ctx, OpPut, KindApplication, a.ID, a.OrganizationID, a); err != nil {
		return Application{}, err
	}
	return a, nil
}

func (t *WriteTx) GetApplication(ctx context.Context, id string) (Application, error) {
	ctx, err := t.begin(ctx, false)
	if err != nil {
		return Application{}, err
	}
	a, err := get(ctx, KindApplication, id, t.view.Application)
	return cloneApplication(a), err
}

func (t *WriteTx) ListApplications(ctx context.Context, organizationID string) ([]Application, error) {
	ctx, err := t.begin(ctx, false)
	if err != nil {
		return nil, err
	}
	if _, err := t.org(ctx, organizationID); err != nil {
		return nil, err
	}
	vs, err := t.view.Applications(ctx, organizationID)
	return cloned(vs, err, cloneApplication)
}

func (t *WriteTx) UpdateApplication(ctx context.Context, a Application) (_ Application, err error) {
	if ctx, err = t.begin(ctx, true); err != nil {
		return Application{}, err
	}
	old, err := get(ctx, KindApplication, a.ID, t.view.Application)
	if err != nil {
		return Application{}, err
	}
	if err := immutable(KindApplication, a.ID, "organization_id", old.OrganizationID, a.OrganizationID); err != nil {
		return Application{}, err
	}
	a = cloneApplication(a)
	if err := validateApplication(a); err != nil {
		return Application{}, err
	}
	if err := t.apply(ctx, OpPut, KindApplication, a.ID, a.OrganizationID, a); err != nil {
		return Application{}, err
	}
	return cloneApplication(a), nil
}

func (t *WriteTx) DeleteApplication(ctx context.Context, id string) (err error) {
	if ctx, err = t.begin(ctx, true); err != nil {
		return err
	}
	defer t.settle(len(t.events), &err)
	a, err := get(ctx, KindApplication, id, t.view.Application)
	if err != nil {
		return err
	}
	if err := t.forgetPrincipal(ctx, a.OrganizationID, ApplicationPrincipal(id)); err != nil {
		return err
	}
	return t.apply(ctx, OpDelete, KindApplication, id, a.OrganizationID, nil)
}
