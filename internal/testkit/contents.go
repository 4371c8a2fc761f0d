package testkit

import (
	"context"
	"fmt"
	"reflect"
	"time"

	"github.com/iamkit/iam"
)

// Contents is the whole content of a store as its List methods show it,
// and its revision: the one dump of a store of the repository's tests.
// Two dumps of an unchanged store are Equal.
type Contents struct {
	Revision      uint64
	Organizations []iam.Organization
	Catalogue     int // how many sets the built-in catalogue holds
	Orgs          map[string]OrgContents
}

// OrgContents is what a store holds in one organization.
type OrgContents struct {
	Projects       []iam.Project
	Users          []iam.User
	Applications   []iam.Application
	Groups         []iam.Group
	Policies       []iam.Policy
	PermissionSets []iam.PermissionSet
	APIKeys        []iam.APIKey
}

// ReadContents returns the Contents of s. The reads are separate calls:
// the dump of a store that others write meanwhile may mix revisions.
func ReadContents(ctx context.Context, s iam.Store) (Contents, error) {
	rev, err := s.Revision(ctx)
	if err != nil {
		return Contents{}, err
	}
	orgs, err := s.ListOrganizations(ctx)
	if err != nil {
		return Contents{}, err
	}
	cat, err := s.ListPermissionSets(ctx, "")
	if err != nil {
		return Contents{}, err
	}
	d := Contents{Revision: rev, Organizations: orgs, Catalogue: len(cat), Orgs: map[string]OrgContents{}}
	for _, o := range orgs {
		var od OrgContents
		if od.Projects, err = s.ListProjects(ctx, o.ID); err != nil {
			return Contents{}, err
		}
		if od.Users, err = s.ListUsers(ctx, o.ID); err != nil {
			return Contents{}, err
		}
		if od.Applications, err = s.ListApplications(ctx, o.ID); err != nil {
			return Contents{}, err
		}
		if od.Groups, err = s.ListGroups(ctx, o.ID); err != nil {
			return Contents{}, err
		}
		if od.Policies, err = s.ListPolicies(ctx, o.ID); err != nil {
			return Contents{}, err
		}
		if od.PermissionSets, err = s.ListPermissionSets(ctx, o.ID); err != nil {
			return Contents{}, err
		}
		if od.APIKeys, err = s.ListAPIKeys(ctx, o.ID); err != nil {
			return Contents{}, err
		}
		d.Orgs[o.ID] = od
	}
	return d, nil
}

// Dump reads the Contents of s, and stops the test when it cannot.
func Dump(t T, s iam.Store) Contents {
	t.Helper()
	d, err := ReadContents(context.Background(), s)
	ok(t, err, "reading the whole store")
	return d
}

// RequireUnchanged asserts that the store's contents and revision are
// what before recorded.
func RequireUnchanged(t T, s iam.Store, before Contents) {
	t.Helper()
	if diff := DiffContents(before, Dump(t, s)); diff != "" {
		t.Fatalf("a rejected write changed the store: %s", diff)
	}
}

// DiffContents tells the first difference between two dumps, or "" when
// they are Equal.
func DiffContents(before, after Contents) string {
	if Equal(before, after, false) {
		return ""
	}
	if before.Revision != after.Revision {
		return fmt.Sprintf("the revision moved from %d to %d", before.Revision, after.Revision)
	}
	if !Equal(before.Organizations, after.Organizations, false) || before.Catalogue != after.Catalogue {
		return fmt.Sprintf("the organizations went from %+v (catalogue of %d sets) to %+v (catalogue of %d sets)",
			before.Organizations, before.Catalogue, after.Organizations, after.Catalogue)
	}
	for id, b := range before.Orgs {
		bv, av := reflect.ValueOf(b), reflect.ValueOf(after.Orgs[id])
		for i := range bv.NumField() {
			if !Equal(bv.Field(i).Interface(), av.Field(i).Interface(), false) {
				return fmt.Sprintf("organization %s: %s went from %+v to %+v", id, bv.Type().Field(i).Name, bv.Field(i).Interface(), av.Field(i).Interface())
			}
		}
	}
	return fmt.Sprintf("went from %+v to %+v", before, after)
}

// Equal is reflect.DeepEqual with times compared as instants
// (time.Time.Equal) and, when emptyIsNil, nil and empty slices and maps
// taken alike.
func Equal(a, b any, emptyIsNil bool) bool {
	if a == nil || b == nil {
		return a == b
	}
	return reflect.DeepEqual(normalize(reflect.ValueOf(a), emptyIsNil).Interface(), normalize(reflect.ValueOf(b), emptyIsNil).Interface())
}

var timeType = reflect.TypeFor[time.Time]()

// normalize returns a copy of v in which every time is in UTC with no
// monotonic reading and, when emptyIsNil, every empty slice or map is nil.
func normalize(v reflect.Value, emptyIsNil bool) reflect.Value {
	switch v.Kind() {
	case reflect.Slice:
		if v.IsNil() || (emptyIsNil && v.Len() == 0) {
			return reflect.Zero(v.Type())
		}
		out := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		for i := range v.Len() {
			out.Index(i).Set(normalize(v.Index(i), emptyIsNil))
		}
		return out
	case reflect.Map:
		if v.IsNil() || (emptyIsNil && v.Len() == 0) {
			return reflect.Zero(v.Type())
		}
		out := reflect.MakeMapWithSize(v.Type(), v.Len())
		for it := v.MapRange(); it.Next(); {
			out.SetMapIndex(it.Key(), normalize(it.Value(), emptyIsNil))
		}
		return out
	case reflect.Struct:
		if v.Type() == timeType {
			return reflect.ValueOf(v.Interface().(time.Time).UTC().Round(0))
		}
		out := reflect.New(v.Type()).Elem()
		out.Set(v)
		for i := range v.NumField() {
			if out.Field(i).CanSet() {
				out.Field(i).Set(normalize(v.Field(i), emptyIsNil))
			}
		}
		return out
	case reflect.Interface:
		if v.IsNil() {
			return v
		}
		out := reflect.New(v.Type()).Elem()
		out.Set(normalize(v.Elem(), emptyIsNil))
		return out
	}
	return v
}
