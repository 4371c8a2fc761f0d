package iamfile_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iamkit/iam"
	"github.com/iamkit/iam/iamfile"
)

func loaded(t *testing.T, files ...string) *iam.MemoryStore {
	t.Helper()
	s := newStore()
	for i, f := range files {
		require.NoError(t, iam.Load(context.Background(), s, "file"+string(rune('0'+i))+".json", []byte(f)))
	}
	return s
}

func diff(t *testing.T, old, new *iam.MemoryStore, org string) *iamfile.Plan {
	t.Helper()
	p, err := iamfile.Diff(context.Background(), old, new, org)
	require.NoError(t, err)
	return p
}

// grantLines renders a plan's principals as "principal +grant" lines.
func grantLines(p *iamfile.Plan) []string {
	var out []string
	for _, pc := range p.Principals {
		for _, g := range pc.Gained {
			out = append(out, pc.Principal.String()+" + "+g.String())
		}
		for _, g := range pc.Lost {
			out = append(out, pc.Principal.String()+" - "+g.String())
		}
	}
	return out
}

func TestDiffSaysWhoGainsAndLosesWhat(t *testing.T) {
	seed := string(mustRead(t, "../testdata/seed.json"))
	edited := strings.Replace(seed, `{"projects": ["A"], "permission_sets": ["InstancesFullAccess", "ObjectStorageReadOnly", "RelationalDatabasesFullAccess"]}`,
		`{"projects": ["A"], "permission_sets": ["InstancesReadOnly"]}`, 1)
	edited = strings.Replace(edited, `{"email": "ana@acme.test"}`, `{"email": "ana@acme.test"}, {"email": "cid@acme.test"}`, 1)
	edited = strings.Replace(edited, `"users": ["ana@acme.test"]`, `"users": ["ana@acme.test", "cid@acme.test"]`, 1)
	edited = strings.Replace(edited, `"policies": [`, `"policies": [
    {"name": "billing", "group": "Billing", "rules": [{"organization": true, "permission_sets": ["BillingReadOnly"]}]},`, 1)

	p := diff(t, loaded(t, seed), loaded(t, edited), "acme")
	var entities []string
	for _, c := range p.Entities {
		entities = append(entities, c.String())
	}
	assert.Equal(t, []string{
		"create user cid@acme.test",
		"update group Billing (users)",
		"create policy billing",
		"update policy prod-c (rules)",
	}, entities)
	assert.Equal(t, []string{
		"user:ana@acme.test + BillingReadOnly in the organization",
		"user:cid@acme.test + BillingReadOnly in the organization",
		// production-c keeps InstancesReadOnly, which InstancesFullAccess
		// included: it loses the rest.
		"application:production-c - InstancesFullAccess in project A",
		"application:production-c - ObjectStorageReadOnly in project A",
		"application:production-c - RelationalDatabasesFullAccess in project A",
		"group:Billing + BillingReadOnly in the organization",
	}, grantLines(p))

	out := p.String()
	assert.Contains(t, out, "organization acme: 4 entities changed, 4 principals gain or lose grants\n")
	assert.Contains(t, out, "\n  + user cid@acme.test\n")
	assert.Contains(t, out, "\n  ~ policy prod-c (rules)\n")
	assert.Contains(t, out, "\n  application:production-c\n    - InstancesFullAccess in project A\n")
}

func TestDiffOfTheSameStateIsEmpty(t *testing.T) {
	seed := string(mustRead(t, "../testdata/seed.json"))
	p := diff(t, loaded(t, seed), loaded(t, seed), "acme")
	assert.True(t, p.Empty())
	assert.Equal(t, "organization acme: no changes\n", p.String())
}

func TestDiffScopesAndConditions(t *testing.T) {
	world := `{"organization": {"id": "acme", "name": "Acme"},
  "projects": [{"name": "A"}, {"name": "B"}],
  "users": [{"email": "owner@acme.test", "type": "owner"}, {"email": "ana@acme.test"}],
  "permission_sets": [
    {"name": "AppRead", "scope_type": "projects", "permissions": ["app:*:read"]},
    {"name": "AppAll", "scope_type": "projects", "permissions": ["app:*:write"], "includes": ["AppRead"]}],
  "policies": [{"name": "ana", "user": "ana@acme.test", "rules": [
    {"organization": true, "permission_sets": ["AppAll"]},
    {"projects": ["B"], "permission_sets": ["InstancesReadOnly"], "condition": "request.ip == '10.0.0.1'"},
    {"organization": true, "permission_sets": ["BillingReadOnly"], "condition": "request.ip == '10.0.0.1'"}]}]}`
	for _, tc := range []struct {
		name     string
		from, to [2]string
		want     []string
	}{
		{
			name: "all projects to one",
			from: [2]string{`{"organization": true, "permission_sets": ["AppAll"]}`, ""},
			to:   [2]string{`{"projects": ["A"], "permission_sets": ["AppAll"]}`, ""},
			want: []string{"user:ana@acme.test + AppAll in project A", "user:ana@acme.test - AppAll in all projects"},
		},
		{
			name: "a condition changes",
			from: [2]string{`"permission_sets": ["BillingReadOnly"], "condition": "request.ip == '10.0.0.1'"`, ""},
			to:   [2]string{`"permission_sets": ["BillingReadOnly"], "condition": "request.ip == '10.0.0.2'"`, ""},
			want: []string{
				"user:ana@acme.test + BillingReadOnly in the organization when request.ip == '10.0.0.2'",
				"user:ana@acme.test - BillingReadOnly in the organization when request.ip == '10.0.0.1'",
			},
		},
		{
			name: "a condition goes",
			from: [2]string{`"permission_sets": ["InstancesReadOnly"], "condition": "request.ip == '10.0.0.1'"`, ""},
			to:   [2]string{`"permission_sets": ["InstancesReadOnly"]`, ""},
			want: []string{
				"user:ana@acme.test + InstancesReadOnly in project B",
				"user:ana@acme.test - InstancesReadOnly in project B when request.ip == '10.0.0.1'",
			},
		},
		{
			name: "a set's includes change",
			from: [2]string{`"permissions": ["app:*:write"], "includes": ["AppRead"]`, ""},
			to:   [2]string{`"permissions": ["app:*:write"]`, ""},
			want: []string{"user:ana@acme.test - AppRead in all projects"},
		},
		{
			name: "ownership moves",
			from: [2]string{`{"email": "owner@acme.test", "type": "owner"}, {"email": "ana@acme.test"}`, ""},
			to:   [2]string{`{"email": "owner@acme.test"}, {"email": "ana@acme.test", "type": "owner"}`, ""},
			want: []string{
				"user:ana@acme.test + owner of the organization (every permission)",
				"user:owner@acme.test - owner of the organization (every permission)",
			},
		},
		{
			name: "a user is locked",
			from: [2]string{`{"email": "ana@acme.test"}`, ""},
			to:   [2]string{`{"email": "ana@acme.test", "locked": true}`, ""},
			want: []string{
				"user:ana@acme.test - BillingReadOnly in the organization when request.ip == '10.0.0.1'",
				"user:ana@acme.test - AppAll in all projects",
				"user:ana@acme.test - InstancesReadOnly in project B when request.ip == '10.0.0.1'",
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Contains(t, world, tc.from[0])
			edited := strings.Replace(world, tc.from[0], tc.to[0], 1)
			p := diff(t, loaded(t, world), loaded(t, edited), "acme")
			assert.Equal(t, tc.want, grantLines(p))
		})
	}
}

func TestDiffOfANewOrganization(t *testing.T) {
	seed := string(mustRead(t, "../testdata/seed.json"))
	p := diff(t, newStore(), loaded(t, seed), "acme")
	require.NotEmpty(t, p.Entities)
	assert.Equal(t, "create organization acme", p.Entities[0].String())
	lines := grantLines(p)
	assert.Contains(t, lines, "user:owner@acme.test + owner of the organization (every permission)")
	assert.Contains(t, lines, "application:production-c + InstancesFullAccess in project A")
	assert.Contains(t, lines, "application:production-c + BillingReadOnly in the organization when request.ip == '203.0.113.7'")

	back := diff(t, loaded(t, seed), newStore(), "acme")
	assert.Equal(t, "delete organization acme", back.Entities[0].String())
	assert.Contains(t, grantLines(back), "application:production-c - InstancesFullAccess in project A")
}
