package iam

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iamkit/iam/internal/scaleway"
	"github.com/iamkit/iam/internal/wire"
)

// IDs of testdata/scaleway/acme.json.
const (
	scwOrg   = "6b5f6c4e-0d1a-4c1e-9a55-2f1e3c0a0001"
	scwProjA = "0a9e3b57-5b3a-4f7e-8d6c-1e2f3a4b000a"
	scwProjF = "0a9e3b57-5b3a-4f7e-8d6c-1e2f3a4b000f"
	scwOwner = "c0ffee00-1111-4a2b-9c3d-000000000001"
	scwAna   = "c0ffee00-1111-4a2b-9c3d-000000000002"
	scwGus   = "c0ffee00-1111-4a2b-9c3d-000000000003"
	scwProdC = "a99ca000-2222-4b3c-8d4e-000000000001"
)

// TestLoadReadsAScalewayExport: an export of an organization in
// Scaleway's own format loads, with no option saying so, as the world it
// describes, and answers checks.
func TestLoadReadsAScalewayExport(t *testing.T) {
	ctx := context.Background()
	store := newLoadStore()
	require.NoError(t, LoadFile(ctx, store, "testdata/scaleway/acme.json"))
	got := loadContents(t, store).Orgs[scwOrg]

	users := map[string]User{}
	for _, u := range got.Users {
		users[u.ID] = u
	}
	assert.Equal(t, UserOwner, users[scwOwner].Type)
	assert.Equal(t, UserMember, users[scwGus].Type, `a "guest" reads as a member`)
	policies := map[string]Policy{}
	for _, p := range got.Policies {
		policies[p.Name] = p
	}
	assert.True(t, policies["detached"].Principal.IsZero(), `"no_principal": true is a policy with no principal`)
	assert.Equal(t, GroupPrincipal("9a0b0000-3333-4c4d-8e5f-000000000001"), policies["billing"].Principal, `rules under the CLI's "Rules"`)
	require.Len(t, policies["billing"].Rules, 1)
	for _, k := range got.APIKeys {
		assert.Equal(t, scaleway.NoSecretSHA256, k.SecretSHA256, "the export has no secret")
	}

	ev, err := NewEvaluator(ctx, store)
	require.NoError(t, err)
	defer ev.Close()
	tests := []struct {
		name string
		req  Request
		want bool
	}{
		{"application on its project", Request{Principal: ApplicationPrincipal(scwProdC), ProjectID: scwProjA, Permission: "InstancesFullAccess"}, true},
		{"application elsewhere", Request{Principal: ApplicationPrincipal(scwProdC), ProjectID: scwProjF, Permission: "InstancesFullAccess"}, false},
		{"its API key", Request{Principal: APIKeyPrincipal("SCWPRODC000000000001"), ProjectID: scwProjA, Permission: "instance:server:create"}, true},
		{"group member", Request{Principal: UserPrincipal(scwAna), OrganizationID: scwOrg, Permission: "BillingReadOnly"}, true},
		{"guest's own policy", Request{Principal: UserPrincipal(scwGus), ProjectID: scwProjA, Permission: "InstancesReadOnly"}, true},
		{"guest beyond it", Request{Principal: UserPrincipal(scwGus), ProjectID: scwProjA, Permission: "InstancesFullAccess"}, false},
		{"no_principal grants nobody", Request{Principal: UserPrincipal(scwAna), ProjectID: scwProjF, Permission: "InstancesReadOnly"}, false},
		{"owner", Request{Principal: UserPrincipal(scwOwner), ProjectID: scwProjF, Permission: "InstancesFullAccess"}, true},
	}
	for _, tt := range tests {
		dec, err := ev.Check(ctx, tt.req)
		require.NoError(t, err, tt.name)
		assert.Equal(t, tt.want, dec.Allowed, tt.name)
	}
	for _, secret := range []string{"", "0", strings.Repeat("0", 64)} {
		_, err := ev.Authenticate(ctx, "SCWANA00000000000001", secret)
		assert.ErrorIs(t, err, ErrUnauthenticated, "a key read from an export never authenticates")
	}
}

// TestLoadScalewayErrorsNameTheExport: whether the conversion or the
// store rejects an export, the error locates the offending value in the
// export, by its own path and keys.
func TestLoadScalewayErrorsNameTheExport(t *testing.T) {
	const head = `{"organization": {"id": "o", "name": "O"},
  "projects": [{"id": "p", "name": "P", "organization_id": "o"}],
  "users": [{"id": "u", "email": "u@o.test", "organization_id": "o", "type": "owner"}],
  "groups": [{"id": "g", "name": "G", "organization_id": "o", "user_ids": ["u"], "application_ids": []}],
`
	rule := func(r string) string {
		return head + `  "policies": [{"id": "pol", "name": "pol", "organization_id": "o", "group_id": "g",
    "rules": [` + r + `]}]}`
	}
	tests := []struct {
		name   string
		data   string
		path   string
		field  string // "": not checked
		at     string // the text the position points at
		is     error
		reason string
	}{
		{"a rule with no scope", rule(`{"permission_set_names": ["InstancesReadOnly"]}`),
			"policies[0].rules[0]", "", `{"permission_set_names": ["InstancesReadOnly"]}`, ErrInvalid, "the rule has no scope"},
		{"mixed scopes", rule(`{"permission_set_names": ["InstancesReadOnly"], "project_ids": ["p"], "organization_id": "o"}`),
			"policies[0].rules[0].organization_id", "", `"o"}]}]}`, ErrInvalid, "a rule has exactly one scope"},
		{"sets of mixed scope types", rule(`{"permission_set_names": ["InstancesReadOnly", "IAMManager"], "organization_id": "o"}`),
			"policies[0].rules[0].permission_set_names[1]", "rules[0].permission_set_names[1]", `"IAMManager"`, ErrScopeMismatch, "share one scope type"},
		{"an organization-scoped set on projects", rule(`{"permission_set_names": ["IAMManager"], "project_ids": ["p"]}`),
			"policies[0].rules[0].permission_set_names[0]", "rules[0].permission_set_names[0]", `"IAMManager"`, ErrScopeMismatch, "cannot be granted on projects"},
		{"an unknown set", rule(`{"permission_set_names": ["InstanceFullAccess"], "project_ids": ["p"]}`),
			"policies[0].rules[0].permission_set_names[0]", "rules[0].permission_set_names[0]", `"InstanceFullAccess"`, ErrUnknownPermission, "unknown permission set"},
		{"an unknown set under the CLI's Rules", strings.Replace(rule(`{"permission_set_names": ["Nope"], "organization_id": "o"}`), `"rules"`, `"Rules"`, 1),
			"policies[0].Rules[0].permission_set_names[0]", "Rules[0].permission_set_names[0]", `"Nope"`, ErrUnknownPermission, "unknown permission set"},
		{"a bad email", strings.Replace(head, `"u@o.test"`, `"nobody"`, 1) + `"policies": []}`,
			"users[0].email", "email", `"nobody"`, ErrInvalid, "an email address is required"},
		{"an ID used twice", strings.Replace(head, `"id": "g"`, `"id": "u"`, 1) + `"policies": []}`,
			"groups[0].id", "id", `"u", "name": "G"`, ErrConflict, `the id "u" is already the id of user users[0]`},
		{"a plain secret", head + `"api_keys": [{"access_key": "K", "user_id": "u", "secret_key": "s3cr3t"}]}`,
			"api_keys[0].secret_key", "", `"s3cr3t"`, ErrInvalid, "carries the key's secret"},
		{"an unknown field", head + `"api_keys": [{"access_key": "K", "user_id": "u", "secret_sha256": "00"}]}`,
			"api_keys[0].secret_sha256", "", `"secret_sha256": "00"`, ErrInvalid, `unknown field "secret_sha256"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.True(t, scaleway.IsScaleway([]byte(tt.data)), "the test's export is told as one")
			store := newLoadStore()
			err := Load(context.Background(), store, "export.json", []byte(tt.data))
			require.ErrorIs(t, err, tt.is)
			var ve *ValidationError
			require.True(t, errors.As(err, &ve), "%T %v", err, err)
			assert.Equal(t, tt.path, ve.Path)
			if tt.field != "" {
				assert.Equal(t, tt.field, ve.Field)
			}
			assert.Contains(t, ve.Reason, tt.reason)
			line, col := loadPos(t, tt.data, tt.at)
			assert.Equal(t, [2]int{line, col}, [2]int{ve.Line, ve.Column}, err.Error())
			assert.Equal(t, uint64(0), loadContents(t, store).Revision, "nothing is written")
		})
	}
}

// TestLoadScalewayExportOptions: an export loads with the options of a
// world: loading it again is a conflict located at the organization's ID,
// unless it replaces the organization.
func TestLoadScalewayExportOptions(t *testing.T) {
	ctx := context.Background()
	store := newLoadStore()
	path := "testdata/scaleway/acme.json"
	require.NoError(t, LoadFile(ctx, store, path))
	err := LoadFile(ctx, store, path)
	require.ErrorIs(t, err, ErrConflict)
	var fe *FileError
	require.True(t, errors.As(err, &fe), "%T %v", err, err)
	assert.Equal(t, "organization.id", fe.Path)
	data, rerr := os.ReadFile(path)
	require.NoError(t, rerr)
	line, col := loadPos(t, string(data), `"6b5f6c4e-0d1a-4c1e-9a55-2f1e3c0a0001", "name": "Acme"`)
	assert.Equal(t, [2]int{line, col}, [2]int{fe.Line, fe.Column})
	require.NoError(t, LoadFile(ctx, store, path, ReplaceExisting()))
	require.Error(t, LoadFile(ctx, store, path, IntoOrganization("other")))
}

// TestScalewayFormatRoundTrip: every world file of the repository that
// loads and that Scaleway's format can say (no custom permission sets),
// written in that
// format and loaded, leaves the store as the world file itself does, but
// for the secrets the format never carries.
func TestScalewayFormatRoundTrip(t *testing.T) {
	ctx := context.Background()
	var files []string
	for _, pattern := range []string{"testdata/*.json", "testdata/fuzzseed/*.json", "examples/*/*.json"} {
		m, err := filepath.Glob(pattern)
		require.NoError(t, err)
		files = append(files, m...)
	}
	tried := 0
	for _, file := range files {
		data, err := os.ReadFile(file)
		require.NoError(t, err)
		var f wire.File
		if _, err := wire.Decode(data, &f); err != nil || f.Organization == nil || len(f.PermissionSets) > 0 {
			continue // not a world file (a policy or test file), or not one Scaleway's format can say
		}
		want := newLoadStore()
		if Load(ctx, want, file, data) != nil {
			continue // a world file that does not load, on purpose
		}
		tried++
		t.Run(file, func(t *testing.T) {
			out, err := scaleway.FromWorld(f)
			require.NoError(t, err)
			got := newLoadStore()
			require.NoError(t, Load(ctx, got, file+" as Scaleway's", out))
			requireContents(t, loadContents(t, want), loadContents(t, got),
				cmpopts.IgnoreFields(APIKey{}, "SecretSHA256"), cmpopts.IgnoreFields(Policy{}, "ID"))
		})
	}
	assert.Positive(t, tried)
}
