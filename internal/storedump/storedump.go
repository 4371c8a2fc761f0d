// Package storedump reads the whole content of an iam.Store through its
// public List methods, for tests that assert that nothing changed (a
// rejected write) or that compare two stores. It is the one store dump of
// the repository's tests, the Store conformance suite's included.
package storedump

import (
	"context"

	"github.com/iamkit/iam"
)

// Dump is the whole content of a store as its List methods show it, and
// its revision. Two Dumps of an unchanged store are equal
// (reflect.DeepEqual).
type Dump struct {
	Revision      uint64
	Organizations []iam.Organization
	Catalogue     int // how many sets the built-in catalogue holds
	Orgs          map[string]Org
}

// Org is what a store holds in one organization.
type Org struct {
	Projects       []iam.Project
	Users          []iam.User
	Applications   []iam.Application
	Groups         []iam.Group
	Policies       []iam.Policy
	PermissionSets []iam.PermissionSet
	APIKeys        []iam.APIKey
}

// Read returns the Dump of s. The reads are separate calls: the dump of a
// store that others write meanwhile may mix revisions.
func Read(ctx context.Context, s iam.Store) (Dump, error) {
	rev, err := s.Revision(ctx)
	if err != nil {
		return Dump{}, err
	}
	orgs, err := s.ListOrganizations(ctx)
	if err != nil {
		return Dump{}, err
	}
	cat, err := s.ListPermissionSets(ctx, "")
	if err != nil {
		return Dump{}, err
	}
	d := Dump{Revision: rev, Organizations: orgs, Catalogue: len(cat), Orgs: map[string]Org{}}
	for _, o := range orgs {
		var od Org
		if od.Projects, err = s.ListProjects(ctx, o.ID); err != nil {
			return Dump{}, err
		}
		if od.Users, err = s.ListUsers(ctx, o.ID); err != nil {
			return Dump{}, err
		}
		if od.Applications, err = s.ListApplications(ctx, o.ID); err != nil {
			return Dump{}, err
		}
		if od.Groups, err = s.ListGroups(ctx, o.ID); err != nil {
			return Dump{}, err
		}
		if od.Policies, err = s.ListPolicies(ctx, o.ID); err != nil {
			return Dump{}, err
		}
		if od.PermissionSets, err = s.ListPermissionSets(ctx, o.ID); err != nil {
			return Dump{}, err
		}
		if od.APIKeys, err = s.ListAPIKeys(ctx, o.ID); err != nil {
			return Dump{}, err
		}
		d.Orgs[o.ID] = od
	}
	return d, nil
}
