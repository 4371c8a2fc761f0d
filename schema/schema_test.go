package schema

import (
	"bytes"
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iamkit/iam"
	"github.com/iamkit/iam/conditions"
	"github.com/iamkit/iam/internal/scaleway"
)

// compile compiles one of the schemas, failing the test if it is not a
// valid 2020-12 schema.
func compile(t *testing.T, name string, doc []byte) *jsonschema.Schema {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	require.NoError(t, err, name)
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	url := "https://schemas.iamkit.test/" + name
	require.NoError(t, c.AddResource(url, v), name)
	s, err := c.Compile(url)
	require.NoError(t, err, name)
	return s
}

type schemas struct{ world, policy, test *jsonschema.Schema }

func compileAll(t *testing.T) schemas {
	return schemas{
		world:  compile(t, "world.schema.json", World()),
		policy: compile(t, "policy.schema.json", Policy()),
		test:   compile(t, "test.schema.json", Test()),
	}
}

// validate validates a document against s; a document that is not JSON
// fails.
func validate(s *jsonschema.Schema, doc []byte) error {
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return err
	}
	return s.Validate(v)
}

func TestSchemasAreValid2020Schemas(t *testing.T) {
	compileAll(t)
	for name, doc := range map[string][]byte{"world": World(), "policy": Policy(), "test": Test()} {
		var m map[string]any
		require.NoError(t, json.Unmarshal(doc, &m), name)
		assert.Equal(t, "https://json-schema.org/draft/2020-12/schema", m["$schema"], name)
		assert.NotEmpty(t, m["title"], name)
		assert.NotEmpty(t, m["description"], name)
	}
	w := World()
	w[0] = 'x'
	assert.Equal(t, byte('{'), World()[0], "World returns a copy")
}

// TestPolicySchemaSharesTheWorldsDefinitions: a policy in a policy file is
// the policy of a world file, so every definition of the policy schema is
// the world schema's, word for word.
func TestPolicySchemaSharesTheWorldsDefinitions(t *testing.T) {
	var world, policy struct {
		Defs map[string]any `json:"$defs"`
	}
	require.NoError(t, json.Unmarshal(World(), &world))
	require.NoError(t, json.Unmarshal(Policy(), &policy))
	require.NotEmpty(t, policy.Defs)
	for name, def := range policy.Defs {
		assert.Equal(t, world.Defs[name], def, "$defs.%s", name)
	}
}

// TestSchemasDescribeEveryField: an editor shows a field's description on
// hover, so every property of every schema has one (directly or through
// the definition it refers to).
func TestSchemasDescribeEveryField(t *testing.T) {
	for name, doc := range map[string][]byte{"world": World(), "policy": Policy(), "test": Test()} {
		var root map[string]any
		require.NoError(t, json.Unmarshal(doc, &root), name)
		defs, _ := root["$defs"].(map[string]any)
		described := func(p map[string]any) bool {
			if p["description"] != nil {
				return true
			}
			if ref, ok := p["$ref"].(string); ok {
				def, _ := defs[strings.TrimPrefix(ref, "#/$defs/")].(map[string]any)
				return def["description"] != nil
			}
			return false
		}
		var walk func(path string, v any)
		walk = func(path string, v any) {
			switch v := v.(type) {
			case map[string]any:
				if props, ok := v["properties"].(map[string]any); ok && v["type"] == "object" {
					for key, p := range props {
						pm, _ := p.(map[string]any)
						assert.True(t, described(pm), "%s: %s.%s has no description", name, path, key)
					}
				}
				for k, sub := range v {
					walk(path+"/"+k, sub)
				}
			case []any:
				for _, sub := range v {
					walk(path, sub)
				}
			}
		}
		walk("", root)
	}
}

// repoFiles lists the JSON files of the repository's testdata and
// examples, but for the fuzz corpora.
func repoFiles(t *testing.T) []string {
	t.Helper()
	var files []string
	for _, root := range []string{"../testdata", "../examples"} {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && d.Name() == "fuzz" {
				return filepath.SkipDir
			}
			if !d.IsDir() && strings.HasSuffix(path, ".json") {
				files = append(files, path)
			}
			return nil
		})
		require.NoError(t, err)
	}
	return files
}

// kindOf tells a file's kind from its top-level keys, as the loader and
// "iam test" do.
func kindOf(t *testing.T, data []byte) string {
	t.Helper()
	var top map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(data, &top))
	switch {
	case top["organization"] != nil && !scaleway.IsScaleway(data):
		return "world"
	case scaleway.IsScaleway(data):
		return "scaleway"
	case top["worlds"] != nil || top["cases"] != nil:
		return "test"
	}
	return "policy"
}

// TestRepositoryFilesPassTheirSchema: every world, policy and test file
// of the repository's testdata and examples passes its schema.
func TestRepositoryFilesPassTheirSchema(t *testing.T) {
	s := compileAll(t)
	counts := map[string]int{}
	for _, file := range repoFiles(t) {
		data, err := os.ReadFile(file)
		require.NoError(t, err)
		kind := kindOf(t, data)
		counts[kind]++
		var err2 error
		switch kind {
		case "world":
			err2 = validate(s.world, data)
		case "policy":
			err2 = validate(s.policy, data)
		case "test":
			err2 = validate(s.test, data)
		default:
			continue // Scaleway's format has no schema of ours
		}
		assert.NoError(t, err2, "%s (%s file)", file, kind)
	}
	assert.Positive(t, counts["world"])
	assert.Positive(t, counts["policy"])
	t.Logf("files checked: %v", counts)
}

// newStore is a store with conditions on, as the files use them.
func newStore() *iam.MemoryStore { return iam.NewMemoryStore(iam.WithConditions(conditions.New())) }

// The verdicts of the corpus.
const (
	valid   = "valid"   // the schema and the loader accept it
	invalid = "invalid" // the schema and the loader refuse it
	beyond  = "beyond"  // the schema accepts it, the loader refuses it for what no schema sees (references, duplicates, the catalogue)
	strict  = "strict"  // the schema refuses it, the loader accepts it: the one case the package documentation names
)

// corpusCase is one document of the corpus: a base document with edits.
type corpusCase struct {
	name  string
	doc   string // the document; "" for the kind's base
	edits []edit
	want  string
}

// edit sets the value at a dotted path ("policies.0.rules.1.projects") of
// the document, or deletes it when value is del.
type edit struct {
	path  string
	value any
}

type deletion struct{}

var del = deletion{}

func set(path string, value any) edit { return edit{path, value} }

// apply returns doc with the edits made, as JSON.
func apply(t *testing.T, doc string, edits []edit) []byte {
	t.Helper()
	if len(edits) == 0 {
		return []byte(doc)
	}
	var v any
	require.NoError(t, json.Unmarshal([]byte(doc), &v))
	for _, e := range edits {
		keys := strings.Split(e.path, ".")
		cur := v
		for i, k := range keys {
			last := i == len(keys)-1
			switch c := cur.(type) {
			case map[string]any:
				if last {
					if e.value == del {
						delete(c, k)
					} else {
						c[k] = e.value
					}
				} else {
					cur = c[k]
				}
			case []any:
				var n int
				require.NoError(t, json.Unmarshal([]byte(k), &n), e.path)
				if last {
					c[n] = e.value
				} else {
					cur = c[n]
				}
			default:
				t.Fatalf("edit %s: no such path", e.path)
			}
		}
	}
	out, err := json.Marshal(v)
	require.NoError(t, err)
	return out
}

const hash = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

// baseWorld uses every feature of a world file.
const baseWorld = `{
  "organization": {"id": "acme", "name": "Acme"},
  "projects": [{"name": "A"}, {"id": "p-f", "name": "F", "description": "f"}],
  "users": [{"email": "owner@acme.test", "type": "owner"},
            {"id": "ana", "email": "ana@acme.test", "username": "ana", "tags": ["x"]}],
  "applications": [{"name": "ci", "description": "builds", "managed": true}, {"name": "web"}],
  "groups": [{"name": "ops", "users": ["ana"], "applications": ["web"]},
             {"id": "all", "name": "Everyone", "all_users": true, "all_applications": true}],
  "api_keys": [{"access_key": "SCWCI", "application": "ci", "secret_sha256": "` + hash + `",
                "expires_at": "2030-01-01T00:00:00Z", "default_project_id": "A", "description": "ci"}],
  "permission_sets": [{"name": "WebRead", "scope_type": "projects", "permissions": ["web:*:read", "web:page:list"]},
                      {"name": "WebAll", "scope_type": "projects", "includes": ["WebRead"], "description": "all", "categories": ["Web"]}],
  "policies": [{"name": "ops-web", "group": "ops", "description": "ops", "tags": ["t"], "rules": [
                 {"projects": ["A", "p-f"], "permission_sets": ["WebAll", "InstancesReadOnly"]},
                 {"organization": true, "permission_sets": ["BillingReadOnly"], "condition": "request.ip == '10.0.0.1'"}]},
               {"id": "orphan", "rules": []}]
}`

func worldCorpus() []corpusCase {
	long := func(n int) string { return strings.Repeat("x", n) }
	tags := func(n int) []any {
		out := make([]any, n)
		for i := range out {
			out[i] = "t" + strings.Repeat("x", i)
		}
		return out
	}
	return []corpusCase{
		{name: "the base world", want: valid},
		{name: "the smallest world", doc: `{"organization": {"name": "acme"}}`, want: valid},
		{name: "nulls read as left out", doc: `{"organization": {"id": null, "name": "acme"}, "projects": null, "users": [{"email": "a@b.c", "username": null, "type": null, "locked": null, "tags": null}],
		  "policies": [{"name": null, "rules": null, "user": null}, {"id": "p2", "rules": [{"projects": ["acme"], "organization": null, "permission_sets": ["InstancesReadOnly"], "condition": null}]}]}`, want: valid},
		{name: "a name with spaces beside an id", edits: []edit{set("organization.name", "Acme Corp")}, want: valid},
		{name: "organization false beside projects", edits: []edit{set("policies.0.rules.0.organization", false)}, want: valid},
		{name: "a member said so", edits: []edit{set("users.1.type", "member")}, want: valid},
		{name: "an empty type", edits: []edit{set("users.1.type", "")}, want: valid},
		{name: "a locked member", edits: []edit{set("users.1.locked", true)}, want: valid},
		{name: "an empty list of users in a group of all users", edits: []edit{set("groups.1.users", []any{})}, want: valid},
		{name: "an empty other bearer", edits: []edit{set("api_keys.0.user", "")}, want: valid},
		{name: "a time with an offset and a fraction", edits: []edit{set("api_keys.0.expires_at", "2030-01-01T02:00:00.5+02:00")}, want: valid},
		{name: "a key that never expires", edits: []edit{set("api_keys.0.expires_at", "")}, want: valid},
		{name: "a policy with neither id nor name", edits: []edit{set("policies.1.id", del)}, want: valid},
		{name: "a policy name with spaces beside an id", edits: []edit{set("policies.1.name", "the orphan")}, want: valid},
		{name: "the longest name", edits: []edit{set("applications.1.id", "web"), set("applications.1.name", long(255))}, want: valid},
		{name: "the longest ID", edits: []edit{set("projects.1.id", long(128)), set("policies.0.rules.0.projects", []any{"A", "F"})}, want: valid},
		{name: "a key whose access key the store makes up", edits: []edit{set("api_keys.0.access_key", del)}, want: valid},
		{name: "the longest description", edits: []edit{set("projects.1.description", long(200))}, want: valid},
		{name: "ten tags", edits: []edit{set("users.1.tags", tags(10))}, want: valid},
		{name: "the longest tag", edits: []edit{set("users.1.tags", []any{long(70)})}, want: valid},
		{name: "names in any script", edits: []edit{set("applications.1.id", "web"), set("applications.1.name", "Übersicht 日本")}, want: valid},
		{name: "the default project edited by name", edits: []edit{set("projects.0.name", "default"), set("projects.0.description", "d"),
			set("api_keys.0.default_project_id", "default"), set("policies.0.rules.0.projects", []any{"default"})}, want: valid},

		{name: "no organization", doc: `{"projects": [{"name": "A"}]}`, want: invalid},
		{name: "a null organization", doc: `{"organization": null}`, want: invalid},
		{name: "an organization without a name", doc: `{"organization": {"id": "acme"}}`, want: invalid},
		{name: "an organization whose id would have a space", doc: `{"organization": {"name": "Acme Corp"}}`, want: invalid},
		{name: "an unknown top-level field", edits: []edit{set("roles", []any{})}, want: invalid},
		{name: "a policy field at the top", edits: []edit{set("rules", []any{})}, want: invalid},
		{name: "an unknown user field", edits: []edit{set("users.1.owner", true)}, want: invalid},
		{name: "a user without an email", edits: []edit{set("users.1.email", del)}, want: invalid},
		{name: "an email without a domain", edits: []edit{set("users.1.email", "ana@")}, want: invalid},
		{name: "an email without a name", edits: []edit{set("users.1.email", "@acme.test")}, want: invalid},
		{name: "an email without an at", edits: []edit{set("users.1.email", "ana")}, want: invalid},
		{name: "an email with a space", edits: []edit{set("users.1.email", "ana smith@acme.test")}, want: invalid},
		{name: "an unknown user type", edits: []edit{set("users.1.type", "admin")}, want: invalid},
		{name: "a locked owner", edits: []edit{set("users.0.locked", true)}, want: invalid},
		{name: "two owners", edits: []edit{set("users.1.type", "owner")}, want: invalid},
		{name: "a name too long", edits: []edit{set("applications.1.id", "web"), set("applications.1.name", long(256))}, want: invalid},
		{name: "a name with a leading space", edits: []edit{set("projects.1.name", " F")}, want: invalid},
		{name: "a name with a control character", edits: []edit{set("projects.1.name", "F\u0007")}, want: invalid},
		{name: "a description too long", edits: []edit{set("projects.1.description", long(201))}, want: invalid},
		{name: "eleven tags", edits: []edit{set("users.1.tags", tags(11))}, want: invalid},
		{name: "a tag too long", edits: []edit{set("users.1.tags", []any{long(71)})}, want: invalid},
		{name: "an empty tag", edits: []edit{set("users.1.tags", []any{""})}, want: invalid},
		{name: "an ID too long", edits: []edit{set("projects.1.id", long(129))}, want: invalid},
		{name: "an ID with a space", edits: []edit{set("projects.1.id", "p f")}, want: invalid},
		{name: "an ID from a name with a space", edits: []edit{set("projects.0.name", "Project A"), set("api_keys.0.default_project_id", "p-f"),
			set("policies.0.rules.0.projects", []any{"p-f"})}, want: invalid},
		{name: "an application without a name", edits: []edit{set("applications.0.name", del)}, want: invalid},
		{name: "a group without a name", edits: []edit{set("groups.0.name", del)}, want: invalid},
		{name: "a group of all users listing users", edits: []edit{set("groups.1.users", []any{"ana"})}, want: invalid},
		{name: "a group of all applications listing one", edits: []edit{set("groups.1.applications", []any{"web"})}, want: invalid},
		{name: "a key without a bearer", edits: []edit{set("api_keys.0.application", del)}, want: invalid},
		{name: "a key with two bearers", edits: []edit{set("api_keys.0.user", "ana")}, want: invalid},
		{name: "a key without its hash", edits: []edit{set("api_keys.0.secret_sha256", del)}, want: invalid},
		{name: "a hash in upper case", edits: []edit{set("api_keys.0.secret_sha256", strings.ToUpper(hash))}, want: invalid},
		{name: "a hash too short", edits: []edit{set("api_keys.0.secret_sha256", hash[:63])}, want: invalid},
		{name: "a plain secret", edits: []edit{set("api_keys.0.secret", "s3cr3t")}, want: invalid},
		{name: "an access key with a space", edits: []edit{set("api_keys.0.access_key", "SCW CI")}, want: invalid},
		{name: "a date without a time", edits: []edit{set("api_keys.0.expires_at", "2030-01-01")}, want: invalid},
		{name: "a thirteenth month", edits: []edit{set("api_keys.0.expires_at", "2030-13-01T00:00:00Z")}, want: invalid},
		{name: "a time in words", edits: []edit{set("api_keys.0.expires_at", "tomorrow")}, want: invalid},
		{name: "a set without a scope type", edits: []edit{set("permission_sets.0.scope_type", del)}, want: invalid},
		{name: "an unknown scope type", edits: []edit{set("permission_sets.0.scope_type", "global")}, want: invalid},
		{name: "a set name starting with a digit", edits: []edit{set("permission_sets.0.name", "1Web")}, want: invalid},
		{name: "a pattern in upper case", edits: []edit{set("permission_sets.0.permissions", []any{"Web:*:read"})}, want: invalid},
		{name: "a pattern of two segments", edits: []edit{set("permission_sets.0.permissions", []any{"web:read"})}, want: invalid},
		{name: "a set with nothing in it", edits: []edit{set("permission_sets.0.permissions", []any{})}, want: invalid},
		{name: "a set with no permissions field", edits: []edit{set("permission_sets.0.permissions", del)}, want: invalid},
		{name: "eleven categories", edits: []edit{set("permission_sets.1.categories", tags(11))}, want: invalid},
		{name: "a set with an id", edits: []edit{set("permission_sets.0.id", "x")}, want: invalid},
		{name: "a rule with no scope", edits: []edit{set("policies.0.rules.0.projects", del)}, want: invalid},
		{name: "a rule with two scopes", edits: []edit{set("policies.0.rules.0.organization", true)}, want: invalid},
		{name: "a rule on no project", edits: []edit{set("policies.0.rules.0.projects", []any{})}, want: invalid},
		{name: "a rule with organization false alone", edits: []edit{set("policies.0.rules.1.organization", false)}, want: invalid},
		{name: "a rule granting nothing", edits: []edit{set("policies.0.rules.0.permission_sets", []any{})}, want: invalid},
		{name: "a rule without sets", edits: []edit{set("policies.0.rules.0.permission_sets", del)}, want: invalid},
		{name: "a rule granting a permission", edits: []edit{set("policies.0.rules.0.permission_sets", []any{"instance:server:create"})}, want: invalid},
		{name: "a rule with an organization_id", edits: []edit{set("policies.0.rules.1.organization_id", "acme")}, want: invalid},
		{name: "a policy with two principals", edits: []edit{set("policies.0.user", "ana")}, want: invalid},
		{name: "a policy whose id would have a space", edits: []edit{set("policies.1.id", del), set("policies.1.name", "the orphan")}, want: invalid},
		{name: "a string for a flag", edits: []edit{set("users.1.locked", "yes")}, want: invalid},
		{name: "an object for a list", edits: []edit{set("projects", map[string]any{})}, want: invalid},
		{name: "a string for tags", edits: []edit{set("users.1.tags", "x")}, want: invalid},
		{name: "a null inside a list", edits: []edit{set("policies.0.rules.0.projects", []any{"A", nil})}, want: invalid},
		{name: "a number for a name", edits: []edit{set("projects.1.name", 7)}, want: invalid},

		{name: "an unknown member", edits: []edit{set("groups.0.users", []any{"bob"})}, want: beyond},
		{name: "an unknown project", edits: []edit{set("policies.0.rules.0.projects", []any{"Z"})}, want: beyond},
		{name: "a misspelt set", edits: []edit{set("policies.0.rules.0.permission_sets", []any{"InstanceFullAccess"})}, want: beyond},
		{name: "an organization-scoped set on projects", edits: []edit{set("policies.0.rules.0.permission_sets", []any{"IAMManager"})}, want: beyond},
		{name: "sets of two scope types", edits: []edit{set("policies.0.rules.1.permission_sets", []any{"BillingReadOnly", "InstancesReadOnly"})}, want: beyond},
		{name: "an ID used twice", edits: []edit{set("projects.1.id", "ana")}, want: beyond},
		{name: "a group name used twice", edits: []edit{set("groups.1.name", "ops")}, want: beyond},
		{name: "a condition that does not compile", edits: []edit{set("policies.0.rules.1.condition", "request.ip ==")}, want: beyond},
		{name: "an include cycle", edits: []edit{set("permission_sets.0.includes", []any{"WebAll"})}, want: beyond},
		{name: "a set reusing a catalogue name", edits: []edit{set("permission_sets.0.name", "InstancesReadOnly")}, want: beyond},
		{name: "a key given twice", doc: `{"organization": {"name": "acme", "name": "acme"}}`, want: beyond},
		{name: "February 30", edits: []edit{set("api_keys.0.expires_at", "2030-02-30T00:00:00Z")}, want: beyond},

		{name: "the default project edited without a name", edits: []edit{set("projects", []any{map[string]any{"id": "acme", "description": "d"}, map[string]any{"name": "A"}, map[string]any{"id": "p-f", "name": "F"}})}, want: strict},
	}
}

// basePolicies is loaded before each policy file of the corpus.
const policyWorld = `{"organization": {"id": "acme", "name": "Acme"}, "projects": [{"name": "A"}],
  "users": [{"id": "ana", "email": "ana@acme.test"}], "applications": [{"name": "ci"}], "groups": [{"name": "ops"}]}`

const basePolicy = `{"name": "deploy", "application": "ci", "description": "d", "tags": ["t"], "rules": [
  {"projects": ["A"], "permission_sets": ["InstancesFullAccess"]},
  {"organization": true, "permission_sets": ["BillingReadOnly"], "condition": "request.ip == '10.0.0.1'"}]}`

func policyCorpus() []corpusCase {
	return []corpusCase{
		{name: "one policy", want: valid},
		{name: "a list", doc: `{"policies": [` + basePolicy + `, {"id": "p2", "group": "ops", "rules": [{"organization": true, "permission_sets": ["IAMManager"]}]}]}`, want: valid},
		{name: "an empty list", doc: `{"policies": []}`, want: valid},
		{name: "a null list", doc: `{"policies": null}`, want: valid},
		{name: "a name alone", doc: `{"name": "nothing"}`, want: valid},
		{name: "a user by email", edits: []edit{set("application", del), set("user", "ANA@acme.test")}, want: valid},

		{name: "nothing", doc: `{}`, want: invalid},
		{name: "a list beside a policy field", doc: `{"policies": [], "name": "x"}`, want: invalid},
		{name: "a world field", edits: []edit{set("organization", map[string]any{"id": "acme"})}, want: invalid},
		{name: "an unknown field", edits: []edit{set("principal", "ci")}, want: invalid},
		{name: "two principals", edits: []edit{set("group", "ops")}, want: invalid},
		{name: "a rule with no scope", edits: []edit{set("rules.0.projects", del)}, want: invalid},
		{name: "a rule with two scopes", edits: []edit{set("rules.1.projects", []any{"A"})}, want: invalid},
		{name: "a name too long", edits: []edit{set("name", strings.Repeat("n", 256))}, want: invalid},
		{name: "not an object", doc: `[]`, want: invalid},

		{name: "an unknown application", edits: []edit{set("application", "cd")}, want: beyond},
		{name: "a misspelt set", edits: []edit{set("rules.0.permission_sets", []any{"InstanceFullAccess"})}, want: beyond},
	}
}

// TestSchemaAgreesWithTheLoader: on a corpus of valid and invalid world and
// policy files, the schema accepts what iam.Load accepts and refuses what
// it refuses; the files the schema accepts and the loader refuses are
// those whose fault no schema can see, and the one file the schema refuses
// and the loader accepts is the case the package documentation names.
func TestSchemaAgreesWithTheLoader(t *testing.T) {
	s := compileAll(t)
	ctx := context.Background()
	run := func(t *testing.T, kind string, cases []corpusCase, base string, load func(data []byte) error, sch *jsonschema.Schema) {
		for _, c := range cases {
			t.Run(kind+"/"+c.want+"/"+c.name, func(t *testing.T) {
				doc := c.doc
				if doc == "" {
					doc = base
				}
				data := apply(t, doc, c.edits)
				schemaErr := validate(sch, data)
				loadErr := load(data)
				switch c.want {
				case valid:
					assert.NoError(t, schemaErr, "the schema refuses it")
					assert.NoError(t, loadErr, "the loader refuses it")
				case invalid:
					assert.Error(t, schemaErr, "the schema accepts it")
					assert.Error(t, loadErr, "the loader accepts it")
				case beyond:
					assert.NoError(t, schemaErr, "the schema refuses it")
					assert.Error(t, loadErr, "the loader accepts it")
				case strict:
					assert.Error(t, schemaErr, "the schema accepts it")
					assert.NoError(t, loadErr, "the loader refuses it")
				}
			})
		}
	}
	run(t, "world", worldCorpus(), baseWorld, func(data []byte) error {
		return iam.Load(ctx, newStore(), "corpus.json", data)
	}, s.world)
	run(t, "policy", policyCorpus(), basePolicy, func(data []byte) error {
		store := newStore()
		require.NoError(t, iam.Load(ctx, store, "world.json", []byte(policyWorld)))
		return iam.Load(ctx, store, "corpus.json", data)
	}, s.policy)
}

// TestTestSchema: the test files' format as "iam test" reads it.
func TestTestSchema(t *testing.T) {
	s := compileAll(t)
	const base = `{"worlds": ["acme.json"], "cases": [
	  {"name": "prod-c deploys in A", "principal": "application:production-c", "project": "A", "permission": "InstancesFullAccess", "expect": "allow"},
	  {"name": "billing", "principal": "user:ana@acme.test", "organization": "acme", "permission": "BillingReadOnly", "expect": "deny"},
	  {"name": "typo", "principal": "api_key:SCWPRODC000000000001", "project": "A", "permission": "instance:servers:create", "expect": "error"}]}`
	tests := []struct {
		name  string
		doc   string
		edits []edit
		ok    bool
	}{
		{"the base", base, nil, true},
		{"a group", base, []edit{set("cases.0.principal", "group:ops")}, true},
		{"an application by its short type", base, []edit{set("cases.0.principal", "app:production-c")}, true},
		{"an empty other target", base, []edit{set("cases.0.organization", "")}, true},
		{"a null other target", base, []edit{set("cases.0.organization", nil)}, true},
		{"no cases", `{"worlds": ["a.json"], "cases": []}`, nil, false},
		{"no worlds", `{"worlds": [], "cases": []}`, nil, false},
		{"worlds missing", `{"cases": []}`, nil, false},
		{"an unknown field", base, []edit{set("world", "a.json")}, false},
		{"a case without a name", base, []edit{set("cases.0.name", del)}, false},
		{"a principal without a type", base, []edit{set("cases.0.principal", "production-c")}, false},
		{"an unknown principal type", base, []edit{set("cases.0.principal", "robot:x")}, false},
		{"both targets", base, []edit{set("cases.0.organization", "acme")}, false},
		{"no target", base, []edit{set("cases.0.project", del)}, false},
		{"an empty target", base, []edit{set("cases.0.project", "")}, false},
		{"a principal without an ID", base, []edit{set("cases.0.principal", "user:")}, false},
		{"an unknown outcome", base, []edit{set("cases.0.expect", "allowed")}, false},
		{"no permission", base, []edit{set("cases.0.permission", del)}, false},
		{"an unknown case field", base, []edit{set("cases.0.context", map[string]any{})}, false},
	}
	for _, tt := range tests {
		err := validate(s.test, apply(t, tt.doc, tt.edits))
		if tt.ok {
			assert.NoError(t, err, tt.name)
		} else {
			assert.Error(t, err, tt.name)
		}
	}
}
