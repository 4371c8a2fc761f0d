package iamfile_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iamkit/iam"
	"github.com/iamkit/iam/iamfile"
)

// TestExportRoundTripsEveryWorldFile: export, load, export gives the same
// bytes, and the store loaded from the export holds what the first one
// did, for every world file of the testdata and the examples.
func TestExportRoundTripsEveryWorldFile(t *testing.T) {
	ctx := context.Background()
	for _, path := range worldFiles(t) {
		t.Run(path, func(t *testing.T) {
			first := newStore()
			require.NoError(t, iam.LoadFile(ctx, first, path))
			org := orgOf(t, first)
			exported, err := iamfile.Export(ctx, first, org)
			require.NoError(t, err)

			second := newStore()
			require.NoError(t, iam.Load(ctx, second, "exported.json", exported))
			requireSameContents(t, read(t, first, org), read(t, second, org))
			again, err := iamfile.Export(ctx, second, org)
			require.NoError(t, err)
			assert.Equal(t, string(exported), string(again), "export, load, export gives the same bytes")
		})
	}
}

func TestExportIsCanonical(t *testing.T) {
	ctx := context.Background()
	store := newStore()
	require.NoError(t, iam.LoadFile(ctx, store, "../testdata/seed.json"))
	_, err := store.CreateAPIKey(ctx, iam.APIKey{AccessKey: "SCWANA", OrganizationID: "acme", Bearer: iam.UserPrincipal("ana@acme.test"),
		ExpiresAt: time.Date(2031, 2, 3, 4, 5, 6, 789, time.FixedZone("x", 3600))})
	require.NoError(t, err)
	got, err := iamfile.Export(ctx, store, "acme")
	require.NoError(t, err)
	want := `{
  "organization": {"id": "acme", "name": "Acme"},
  "projects": [
    {"name": "A"},
    {"name": "F"}
  ],
  "users": [
    {"email": "ana@acme.test"},
    {"email": "owner@acme.test", "type": "owner"}
  ],
  "applications": [
    {"name": "production-c"}
  ],
  "groups": [
    {"name": "Billing", "users": ["ana@acme.test"]}
  ],
  "api_keys": [
    {
      "access_key": "SCWANA",
      "user": "ana@acme.test",
      "secret_sha256": "` + keyHash(t, store, "SCWANA") + `",
      "expires_at": "2031-02-03T03:05:06.000000789Z"
    },
    {
      "access_key": "SCWPRODC000000000001",
      "application": "production-c",
      "secret_sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
      "expires_at": "2030-01-01T00:00:00Z"
    }
  ],
  "policies": [
    {
      "name": "prod-c",
      "application": "production-c",
      "rules": [
        {
          "projects": ["A"],
          "permission_sets": [
            "InstancesFullAccess",
            "ObjectStorageReadOnly",
            "RelationalDatabasesFullAccess"
          ]
        },
        {
          "projects": ["F"],
          "permission_sets": [
            "ContainerRegistryFullAccess",
            "ContainersReadOnly",
            "RelationalDatabasesFullAccess"
          ]
        },
        {
          "organization": true,
          "permission_sets": ["BillingReadOnly"],
          "condition": "request.ip == '203.0.113.7'"
        }
      ]
    }
  ]
}
`
	assert.Equal(t, want, string(got))
	assert.NotContains(t, string(got), `"secret"`, "a file carries only the SHA-256 of a secret")
}

func keyHash(t *testing.T, s iam.Store, accessKey string) string {
	t.Helper()
	k, err := s.GetAPIKey(context.Background(), accessKey)
	require.NoError(t, err)
	return k.SecretSHA256
}

func TestExportKeepsWhatOnlyTheAPIWrites(t *testing.T) {
	ctx := context.Background()
	store := newStore()
	require.NoError(t, iam.LoadFile(ctx, store, "../testdata/seed.json"))
	// A policy created through the API with no name gets a generated ID,
	// a project is named "default" without being the default one, and the
	// default project is renamed.
	p, err := store.CreatePolicy(ctx, iam.Policy{OrganizationID: "acme", Principal: iam.UserPrincipal("ana@acme.test"),
		Rules: []iam.Rule{{Scope: iam.ProjectsScope("A"), PermissionSets: []string{"InstancesReadOnly"}}}})
	require.NoError(t, err)
	_, err = store.CreateProject(ctx, iam.Project{ID: "p-default", OrganizationID: "acme", Name: "default"})
	require.NoError(t, err)
	_, err = store.UpdateProject(ctx, iam.Project{ID: "acme", OrganizationID: "acme", Name: "Main"})
	require.NoError(t, err)

	exported, err := iamfile.Export(ctx, store, "acme")
	require.NoError(t, err)
	assert.Contains(t, string(exported), `"id": "`+p.ID+`"`)
	assert.Contains(t, string(exported), `{"id": "acme", "name": "Main"}`)
	assert.Contains(t, string(exported), `{"id": "p-default", "name": "default"}`)
	second := newStore()
	require.NoError(t, iam.Load(ctx, second, "exported.json", exported))
	requireSameContents(t, read(t, store, "acme"), read(t, second, "acme"))
}

func TestExportUnknownOrganization(t *testing.T) {
	_, err := iamfile.Export(context.Background(), newStore(), "nope")
	require.ErrorIs(t, err, iam.ErrNotFound)
	assert.True(t, strings.HasPrefix(err.Error(), "iam: "))
}
