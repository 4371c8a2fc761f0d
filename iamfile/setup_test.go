package iamfile_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/stretchr/testify/require"

	"github.com/iamkit/iam"
	"github.com/iamkit/iam/conditions"
)

func newStore() *iam.MemoryStore { return iam.NewMemoryStore(iam.WithConditions(conditions.New())) }

// worldFiles lists every world file of the repository's testdata and
// examples.
func worldFiles(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, root := range []string{"../testdata", "../examples", "../cmd/iam/testdata"} {
		err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".json") {
				return err
			}
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			if strings.Contains(string(data), `"organization": {`) {
				out = append(out, path)
			}
			return nil
		})
		if !os.IsNotExist(err) {
			require.NoError(t, err)
		}
	}
	require.NotEmpty(t, out)
	return out
}

// contents is everything a store holds for one organization.
type contents struct {
	Org            iam.Organization
	Projects       []iam.Project
	Users          []iam.User
	Applications   []iam.Application
	Groups         []iam.Group
	APIKeys        []iam.APIKey
	PermissionSets []iam.PermissionSet
	Policies       []iam.Policy
}

func read(t *testing.T, s iam.Store, org string) contents {
	t.Helper()
	ctx := context.Background()
	var c contents
	var err error
	c.Org, err = s.GetOrganization(ctx, org)
	require.NoError(t, err)
	c.Projects, err = s.ListProjects(ctx, org)
	require.NoError(t, err)
	c.Users, err = s.ListUsers(ctx, org)
	require.NoError(t, err)
	c.Applications, err = s.ListApplications(ctx, org)
	require.NoError(t, err)
	c.Groups, err = s.ListGroups(ctx, org)
	require.NoError(t, err)
	c.APIKeys, err = s.ListAPIKeys(ctx, org)
	require.NoError(t, err)
	c.PermissionSets, err = s.ListPermissionSets(ctx, org)
	require.NoError(t, err)
	c.Policies, err = s.ListPolicies(ctx, org)
	require.NoError(t, err)
	return c
}

func requireSameContents(t *testing.T, want, got contents) {
	t.Helper()
	if d := cmp.Diff(want, got, cmpopts.EquateEmpty(), cmpopts.EquateApproxTime(0)); d != "" {
		t.Fatalf("contents differ (-want +got):\n%s", d)
	}
}

func revision(t *testing.T, s iam.Store) uint64 {
	t.Helper()
	rev, err := s.Revision(context.Background())
	require.NoError(t, err)
	return rev
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	return data
}

func orgOf(t *testing.T, s iam.Store) string {
	t.Helper()
	orgs, err := s.ListOrganizations(context.Background())
	require.NoError(t, err)
	require.Len(t, orgs, 1)
	return orgs[0].ID
}
