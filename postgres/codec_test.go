package postgres

import (
	"reflect"
	"testing"
	"time"

	"github.com/iamkit/iam"
)

// Every value the store writes reads back exactly as written: nil slices
// stay nil, empty ones stay empty, zero fields stay zero, and times come
// back as the same instant in UTC.
func TestStoredValuesReadBackExactly(t *testing.T) {
	t.Parallel()
	exp := time.Date(2030, 1, 2, 3, 4, 5, 6789, time.FixedZone("X", 3600))
	values := []struct {
		name string
		kind iam.Kind
		v    any
		want any // when it differs from v
	}{
		{"organization", iam.KindOrganization, iam.Organization{ID: "o", Name: "O"}, nil},
		{"organization zero name", iam.KindOrganization, iam.Organization{ID: "o"}, nil},
		{"project", iam.KindProject, iam.Project{ID: "p", OrganizationID: "o", Name: "P", Description: "d"}, nil},
		{"user nil tags", iam.KindUser, iam.User{ID: "u", OrganizationID: "o", Email: "A@b.c", Type: iam.UserOwner}, nil},
		{"user empty tags", iam.KindUser, iam.User{ID: "u", OrganizationID: "o", Email: "a@b.c", Username: "x", Locked: true, Tags: []string{}}, nil},
		{"user tags", iam.KindUser, iam.User{ID: "u", OrganizationID: "o", Type: iam.UserMember, Tags: []string{"a", "b"}}, nil},
		{"application", iam.KindApplication, iam.Application{ID: "a", OrganizationID: "o", Name: "A", Managed: true, Tags: []string{"t"}}, nil},
		{"group empty", iam.KindGroup, iam.Group{ID: "g", OrganizationID: "o", Name: "G", UserIDs: []string{}, ApplicationIDs: nil}, nil},
		{"group", iam.KindGroup, iam.Group{ID: "g", OrganizationID: "o", Name: "G", Description: "d", UserIDs: []string{"u"},
			ApplicationIDs: []string{"a"}, AllUsers: true, AllApplications: true, Tags: []string{"x"}}, nil},
		{"policy", iam.KindPolicy, iam.Policy{ID: "p", OrganizationID: "o", Name: "n", Description: "d",
			Principal: iam.GroupPrincipal("g"), Tags: []string{}, Rules: []iam.Rule{
				{Scope: iam.ProjectsScope("p1", "p2"), PermissionSets: []string{"A", "B"}},
				{Scope: iam.OrganizationScope("o"), PermissionSets: []string{"C"}, Condition: "request.ip == '1.2.3.4'"},
				{Scope: iam.Scope{ProjectIDs: []string{}}, PermissionSets: []string{}},
			}}, nil},
		{"policy no principal no rules", iam.KindPolicy, iam.Policy{ID: "p", OrganizationID: "o", Rules: []iam.Rule{}}, nil},
		{"policy nil rules", iam.KindPolicy, iam.Policy{ID: "p", OrganizationID: "o", Principal: iam.UserPrincipal("u")}, nil},
		{"permission set", iam.KindPermissionSet, iam.PermissionSet{Name: "S", OrganizationID: "o", ScopeType: iam.ScopeProjects,
			Permissions: []string{"x:*:*"}, Includes: []string{}, Declared: []string{"x:y:z"}, Description: "d", Categories: []string{"c"}}, nil},
		{"api key", iam.KindAPIKey, iam.APIKey{AccessKey: "k", OrganizationID: "o", Bearer: iam.ApplicationPrincipal("a"),
			SecretSHA256: "abc", DefaultProjectID: "o", ExpiresAt: exp, Description: "d"},
			iam.APIKey{AccessKey: "k", OrganizationID: "o", Bearer: iam.ApplicationPrincipal("a"),
				SecretSHA256: "abc", DefaultProjectID: "o", ExpiresAt: exp.UTC(), Description: "d"}},
		{"api key never expires", iam.KindAPIKey, iam.APIKey{AccessKey: "k", OrganizationID: "o", Bearer: iam.UserPrincipal("u")}, nil},
	}
	for _, tc := range values {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			want := tc.want
			if want == nil {
				want = tc.v
			}
			doc, err := encodeValue(tc.v)
			if err != nil {
				t.Fatal(err)
			}
			got, err := decodeValue(tc.kind, doc)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("read back %#v\nwant %#v\n(document %s)", got, want, doc)
			}
			evs := []iam.Event{{Op: iam.OpPut, Kind: tc.kind, ID: "x", OrganizationID: "o", Value: tc.v},
				{Op: iam.OpDelete, Kind: tc.kind, ID: "y", OrganizationID: "o"}}
			data, err := encodeEvents(evs)
			if err != nil {
				t.Fatal(err)
			}
			back, err := decodeEvents(data)
			if err != nil {
				t.Fatal(err)
			}
			evs[0].Value = want
			if !reflect.DeepEqual(back, evs) {
				t.Fatalf("events read back %#v\nwant %#v", back, evs)
			}
		})
	}
}

// A value the store does not know is refused, never written half.
func TestUnknownValuesAreRefused(t *testing.T) {
	t.Parallel()
	if _, err := encodeValue(struct{}{}); err == nil {
		t.Fatal("encoded a value of an unknown type")
	}
	if _, err := encodeEvents([]iam.Event{{Kind: iam.KindUser, ID: "u"}}); err == nil {
		t.Fatal("encoded an event without an operation")
	}
	if _, err := decodeEvents([]byte(`[{"op":"put","kind":"nope","id":"x"}]`)); err == nil {
		t.Fatal("decoded an unknown kind")
	}
}
