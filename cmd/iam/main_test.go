package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iamkit/iam"
	"github.com/iamkit/iam/iamfile"
	"github.com/iamkit/iam/internal/wire"
)

// bin is the iam command, built once for every test.
var bin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "iam-cmd")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	bin = filepath.Join(dir, "iam")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building the iam command:", err)
		os.Exit(2)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// outcome is what one run of the command printed and returned.
type outcome struct {
	stdout, stderr string
	code           int
}

// iamRun runs the built command in dir ("" for this package's directory).
func iamRun(t *testing.T, dir string, args ...string) outcome {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else {
		require.NoError(t, err)
	}
	return outcome{stdout: stdout.String(), stderr: stderr.String(), code: code}
}

func runIAM(t *testing.T, args ...string) outcome {
	t.Helper()
	return iamRun(t, "", args...)
}

// expect checks the exit code, and that the other stream is empty.
func (o outcome) expect(t *testing.T, code int) outcome {
	t.Helper()
	require.Equal(t, code, o.code, "exit code\nstdout:\n%s\nstderr:\n%s", o.stdout, o.stderr)
	if code == exitError {
		assert.NotEmpty(t, o.stderr, "an error is told on standard error")
		assert.True(t, strings.HasPrefix(o.stderr, "iam"), o.stderr)
	} else {
		assert.Empty(t, o.stderr, "results go to standard output")
	}
	return o
}

const (
	seed  = "../../testdata/seed.json"
	acme  = "testdata/acme"
	world = "testdata/acme/world.json"
)

func writeFile(t *testing.T, name, data string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(path, []byte(data), 0o644))
	return path
}

func TestUsage(t *testing.T) {
	for _, args := range [][]string{{"-h"}, {"--help"}, {"help"}} {
		o := runIAM(t, args...).expect(t, exitOK)
		for _, cmd := range commands {
			assert.Contains(t, o.stdout, "\n  "+cmd.name+" ", "the usage lists %s", cmd.name)
		}
	}
	o := runIAM(t).expect(t, exitError)
	assert.Contains(t, o.stderr, "Usage:")
	o = runIAM(t, "frobnicate").expect(t, exitError)
	assert.Contains(t, o.stderr, `unknown command "frobnicate"`)

	for _, cmd := range commands {
		o := runIAM(t, cmd.name, "-h").expect(t, exitOK)
		assert.True(t, strings.HasPrefix(o.stdout, "Usage: iam "+cmd.name), o.stdout)
		assert.Contains(t, o.stdout, "-json")
	}
	o = runIAM(t, "check", "--nope").expect(t, exitError)
	assert.Contains(t, o.stderr, "flag provided but not defined: -nope")
}

func TestCheck(t *testing.T) {
	base := []string{"check", "--world", seed, "--principal", "application:production-c"}
	o := runIAM(t, append(base, "--project", "A", "--permission", "InstancesFullAccess")...).expect(t, exitOK)
	assert.Equal(t, "allow\nreason: granted\n", o.stdout)

	o = runIAM(t, append(base, "--project", "F", "--permission", "instance:server:create")...).expect(t, exitFalse)
	assert.Equal(t, "deny\nreason: not granted\n", o.stdout)

	// Conditions read the request's context.
	org := append(base, "--organization", "acme", "--permission", "BillingReadOnly")
	runIAM(t, org...).expect(t, exitFalse)
	runIAM(t, append(org, "--ip", "203.0.113.7")...).expect(t, exitOK)

	// The owner, a name instead of an ID, an API key.
	o = runIAM(t, "check", "--world", seed, "--principal", "user:OWNER@acme.test", "--organization", "Acme", "--permission", "iam:policy:create").expect(t, exitOK)
	assert.Equal(t, "allow\nreason: owner\n", o.stdout)
	runIAM(t, "check", "--world", seed, "--principal", "api_key:SCWPRODC000000000001", "--project", "A", "--permission", "InstancesFullAccess", "--time", "2029-12-31T23:00:00Z").expect(t, exitOK)
	o = runIAM(t, "check", "--world", seed, "--principal", "api_key:SCWPRODC000000000001", "--project", "A", "--permission", "InstancesFullAccess", "--time", "2030-01-01T00:00:00Z").expect(t, exitFalse)
	assert.Equal(t, "deny\nreason: expired\n", o.stdout)

	o = runIAM(t, append(base, "--project", "A", "--permission", "InstancesFullAccess", "--json")...).expect(t, exitOK)
	var got map[string]any
	require.NoError(t, json.Unmarshal([]byte(o.stdout), &got))
	assert.Equal(t, map[string]any{"decision": "allow", "allowed": true, "reason": "granted"}, got)

	// Errors: exit 2, the error on standard error, nothing on standard output.
	for name, tc := range map[string]struct {
		args []string
		msg  string
	}{
		"unknown permission":   {append(base, "--project", "A", "--permission", "InstanceFullAccess"), "did you mean InstancesFullAccess?"},
		"scope mismatch":       {append(base, "--project", "A", "--permission", "BillingReadOnly"), "organization-scoped"},
		"unknown project":      {append(base, "--project", "Z", "--permission", "InstancesFullAccess"), `project "Z"`},
		"unknown principal":    {[]string{"check", "--world", seed, "--principal", "user:nobody", "--project", "A", "--permission", "InstancesFullAccess"}, "not found"},
		"both targets":         {append(base, "--project", "A", "--organization", "acme", "--permission", "InstancesFullAccess"), "not both"},
		"no target":            {append(base, "--permission", "InstancesFullAccess"), "--project or --organization is required"},
		"no permission":        {append(base, "--project", "A"), "--permission is required"},
		"bad principal":        {[]string{"check", "--world", seed, "--principal", "robot:x", "--project", "A", "--permission", "InstancesFullAccess"}, `unknown type "robot"`},
		"no world":             {[]string{"check", "--principal", "user:x", "--project", "A", "--permission", "P"}, "name world files with --world"},
		"missing file":         {[]string{"check", "--world", "nope.json", "--principal", "user:x", "--project", "A", "--permission", "P"}, "nope.json"},
		"invalid world":        {[]string{"check", "--world", writeFile(t, "w.json", `{"organization": {"id": "x", "name": "X"}, "projekts": []}`), "--principal", "user:x", "--project", "A", "--permission", "P"}, `w.json:1:44: projekts: unknown field "projekts"; did you mean "projects"?`},
		"bad time":             {append(base, "--project", "A", "--permission", "InstancesFullAccess", "--time", "tomorrow"), "--time"},
		"bad ip":               {append(base, "--project", "A", "--permission", "InstancesFullAccess", "--ip", "x"), "--ip"},
		"positional arguments": {append(base, "--project", "A", "--permission", "InstancesFullAccess", "extra"), "flags only"},
	} {
		t.Run(name, func(t *testing.T) {
			o := runIAM(t, tc.args...).expect(t, exitError)
			assert.Empty(t, o.stdout)
			assert.Contains(t, o.stderr, tc.msg)
		})
	}
}

func TestExplain(t *testing.T) {
	base := []string{"explain", "--world", seed, "--principal", "application:production-c", "--permission", "InstancesFullAccess"}
	o := runIAM(t, append(base, "--project", "A")...).expect(t, exitOK)
	assert.Equal(t, "ALLOW application:production-c InstancesFullAccess in project A\n"+
		`  because policy "prod-c" (prod-c) rule 0 grants InstancesFullAccess to application:production-c in project A`+"\n", o.stdout)
	o = runIAM(t, append(base, "--project", "F")...).expect(t, exitFalse)
	assert.Contains(t, o.stdout, "DENY application:production-c InstancesFullAccess in project F\n")
	assert.Contains(t, o.stdout, "it is held in: A")
	o = runIAM(t, append(base, "--project", "F", "--json")...).expect(t, exitFalse)
	var got struct {
		Decision string   `json:"decision"`
		HeldIn   []string `json:"held_in"`
		Grants   []any    `json:"grants"`
	}
	require.NoError(t, json.Unmarshal([]byte(o.stdout), &got))
	assert.Equal(t, "deny", got.Decision)
	assert.Equal(t, []string{"A"}, got.HeldIn)
	assert.Empty(t, got.Grants)
	unknown := runIAM(t, append(base, "--project", "Z")...).expect(t, exitError)
	assert.Equal(t, "iam: project \"Z\": iam: not found\n", unknown.stderr)

	// A target of another organization is explained as one that does not
	// exist: nothing about the other organization shows.
	two := []string{"explain", "--world", seed, "--world", "../../testdata/fuzzseed/globex.json", "--principal", "application:production-c", "--permission", "InstancesFullAccess"}
	other := runIAM(t, append(two, "--project", "p-web")...).expect(t, exitError)
	assert.Equal(t, "iam: project \"p-web\": iam: not found\n", other.stderr)
	other = runIAM(t, append(two, "--organization", "globex")...).expect(t, exitError)
	assert.Equal(t, "iam: organization \"globex\": iam: not found\n", other.stderr)
	runIAM(t, append(two, "--project", "A")...).expect(t, exitOK)
}

func TestReverseQueries(t *testing.T) {
	o := runIAM(t, "who-can", "--world", acme, "--project", "web", "--permission", "web:page:write").expect(t, exitOK)
	assert.Equal(t, "user:bob@acme.test\nuser:owner@acme.test\n", o.stdout)
	o = runIAM(t, "who-can", "--world", acme, "--project", "web", "--permission", "web:page:write", "--json").expect(t, exitOK)
	assert.JSONEq(t, `{"principals": ["user:bob@acme.test", "user:owner@acme.test"]}`, o.stdout)

	o = runIAM(t, "what-can", "--world", acme, "--principal", "user:bob@acme.test", "--project", "p-web").expect(t, exitOK)
	assert.Contains(t, o.stdout, "InstancesReadOnly\n")
	assert.Contains(t, o.stdout, "WebAll\nWebRead\n")
	o = runIAM(t, "what-can", "--world", acme, "--principal", "user:ana@acme.test", "--organization", "acme", "--json").expect(t, exitOK)
	assert.JSONEq(t, `{"permission_sets": ["BillingReadOnly"]}`, o.stdout)

	o = runIAM(t, "where-can", "--world", acme, "--principal", "user:bob@acme.test", "--permission", "InstancesReadOnly").expect(t, exitOK)
	assert.Equal(t, "A\nF\nacme\np-web\n", o.stdout)
	o = runIAM(t, "where-can", "--world", acme, "--principal", "user:ana@acme.test", "--permission", "InstancesReadOnly", "--json").expect(t, exitOK)
	assert.JSONEq(t, `{"projects": []}`, o.stdout)

	runIAM(t, "where-can", "--world", acme, "--principal", "user:bob@acme.test", "--permission", "BillingReadOnly").expect(t, exitError)
	runIAM(t, "where-can", "--world", acme, "--principal", "user:bob@acme.test", "--project", "A", "--permission", "InstancesReadOnly").expect(t, exitError)
	runIAM(t, "what-can", "--world", acme, "--principal", "user:bob@acme.test", "--project", "A", "--permission", "X").expect(t, exitError)
	runIAM(t, "who-can", "--world", acme, "--project", "A", "--permission", "Nope").expect(t, exitError)
}

func TestValidate(t *testing.T) {
	o := runIAM(t, "validate", acme, seed).expect(t, exitOK)
	assert.Equal(t, "4 files checked: 0 invalid, 0 warnings\n", o.stdout)

	bad := writeFile(t, "bad.json", `{
  "organization": {"id": "acme", "name": "Acme"},
  "projects": [{"name": "A"}],
  "users": [{"email": "owner@acme.test", "type": "owner"}],
  "applications": [{"name": "app"}],
  "groups": [{"name": "empty"}],
  "policies": [
    {"name": "one", "application": "app", "rules": [{"projects": ["A"], "permission_sets": ["InstanceFullAccess"]}]},
    {"name": "two", "application": "ap", "rules": [{"projects": ["A"], "permission_sets": ["InstancesFullAccess"]}]},
    {"name": "three", "rules": []},
    {"name": "four", "application": "app", "rules": [{"projects": ["B"], "permission_sets": ["InstancesFullAccess"]}]}
  ]
}`)
	o = runIAM(t, "validate", bad).expect(t, exitFalse)
	assert.Equal(t, strings.Join([]string{
		bad + `:8:93: policies[0].rules[0].permission_sets[0]: policy "one": unknown permission set (got "InstanceFullAccess"); did you mean InstancesFullAccess?`,
		bad + `:9:36: policies[1].application: policy "two": no application "ap" in organization "acme" (got "ap"); did you mean app?`,
		bad + `:11:68: policies[3].rules[0].projects[0]: policy "four": no project "B" in organization "acme" (got "B"); did you mean A?`,
		bad + `:10:5: warning: policy "three" has no principal: it grants nothing (name one with "user", "application" or "group")`,
		bad + `:10:5: warning: policy "three" has no rules: it grants nothing`,
		bad + `:6:14: warning: group "empty" has no members: its policies grant nothing to anyone`,
		"1 file checked: 1 invalid, 3 warnings",
	}, "\n")+"\n", o.stdout)

	o = runIAM(t, "validate", "--json", bad).expect(t, exitFalse)
	var got struct {
		Valid    bool      `json:"valid"`
		Problems []problem `json:"problems"`
	}
	require.NoError(t, json.Unmarshal([]byte(o.stdout), &got))
	assert.False(t, got.Valid)
	require.Len(t, got.Problems, 6)
	assert.Equal(t, problem{File: bad, Line: 9, Column: 36, Path: "policies[1].application", Severity: "error",
		Message: `policies[1].application: policy "two": no application "ap" in organization "acme" (got "ap"); did you mean app?`}, got.Problems[1])

	// Syntax, an unknown field, a policy file against its world, one alone,
	// an assertion file.
	syntax := writeFile(t, "syntax.json", "{\n  \"organization\": {\"id\": \"x\",}\n}")
	o = runIAM(t, "validate", syntax).expect(t, exitFalse)
	assert.Contains(t, o.stdout, syntax+":2:30: ")
	assert.Contains(t, o.stdout, "syntax error: invalid character '}' looking for beginning of object key string")
	policy := writeFile(t, "policy.json", `{"application": "production-c", "rules": [{"projects": ["Q"], "permission_sets": ["InstancesFullAccess"]}]}`)
	o = runIAM(t, "validate", seed, policy).expect(t, exitFalse)
	assert.Contains(t, o.stdout, policy+`:1:57: rules[0].projects[0]: policy "application-production-c": no project "Q" in organization "acme" (got "Q"); did you mean A?`)
	o = runIAM(t, "validate", policy).expect(t, exitOK)
	assert.Contains(t, o.stdout, policy+": warning: no world file given")
	badTest := writeFile(t, "t.json", `{"worlds": ["w.json"], "cases": [{"name": "x", "principal": "user:a", "project": "A", "permission": "P", "expect": "yes"}]}`)
	o = runIAM(t, "validate", badTest).expect(t, exitFalse)
	assert.Contains(t, o.stdout, badTest+`:1:116: cases[0].expect: "expect" is "allow", "deny" or "error" (got "yes")`)

	runIAM(t, "validate").expect(t, exitError)
	runIAM(t, "validate", "nope.json").expect(t, exitError)
}

func TestTest(t *testing.T) {
	o := runIAM(t, "test", "../../examples/quickstart/world_test.json").expect(t, exitOK)
	assert.Equal(t, "9 passed, 0 failed\n", o.stdout)
	o = runIAM(t, "test", acme).expect(t, exitOK)
	assert.Equal(t, "5 passed, 0 failed\n", o.stdout)
	o = runIAM(t, "test", "-v", acme).expect(t, exitOK)
	assert.Contains(t, o.stdout, "ok   testdata/acme/acme_test.json: bob writes to web\n")

	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "world.json"), mustRead(t, world), 0o644))
	failing := filepath.Join(dir, "failing_test.json")
	require.NoError(t, os.WriteFile(failing, []byte(`{"worlds": ["world.json"], "cases": [
  {"name": "passes", "principal": "application:production-c", "project": "A", "permission": "InstancesFullAccess", "expect": "allow"},
  {"name": "not in F", "principal": "application:production-c", "project": "F", "permission": "InstancesFullAccess", "expect": "allow"},
  {"name": "an error expected", "principal": "application:production-c", "project": "A", "permission": "InstancesFullAccess", "expect": "error"},
  {"name": "a typo", "principal": "application:production-c", "project": "A", "permission": "InstanceFullAccess", "expect": "deny"}
]}`), 0o644))
	o = runIAM(t, "test", failing).expect(t, exitFalse)
	lines := strings.Split(strings.TrimSuffix(o.stdout, "\n"), "\n")
	assert.Equal(t, "1 passed, 3 failed", lines[len(lines)-1])
	assert.Contains(t, o.stdout, "FAIL "+failing+": not in F: expected allow, got deny\n"+
		"    DENY application:production-c InstancesFullAccess in project F\n"+
		"      no policy grants it to the caller or to its groups\n"+
		"      it is held in: A\n")
	assert.Contains(t, o.stdout, "FAIL "+failing+": an error expected: expected error, got allow\n"+
		"    ALLOW application:production-c InstancesFullAccess in project A\n")
	assert.Contains(t, o.stdout, "FAIL "+failing+": a typo: expected deny, got error\n"+
		`    iam: permission set "InstanceFullAccess" is not in the catalogue; did you mean InstancesFullAccess?`)

	o = runIAM(t, "test", "--json", failing).expect(t, exitFalse)
	var got struct {
		Passed, Failed int
		Results        []result
	}
	require.NoError(t, json.Unmarshal([]byte(o.stdout), &got))
	assert.Equal(t, 1, got.Passed)
	assert.Equal(t, 3, got.Failed)
	assert.Equal(t, "deny", got.Results[1].Got)
	assert.Contains(t, got.Results[1].Explanation, "it is held in: A")

	// Invalid files: exit 2.
	for name, tc := range map[string]struct{ file, msg string }{
		"bad expect":     {`{"worlds": ["world.json"], "cases": [{"name": "x", "principal": "user:a", "project": "A", "permission": "P", "expect": "maybe"}]}`, `cases[0].expect`},
		"no worlds":      {`{"cases": [{"name": "x", "principal": "user:a", "project": "A", "permission": "P", "expect": "allow"}]}`, `"worlds"`},
		"both targets":   {`{"worlds": ["world.json"], "cases": [{"name": "x", "principal": "user:a", "project": "A", "organization": "acme", "permission": "P", "expect": "allow"}]}`, `exactly one of "project" and "organization"`},
		"unknown field":  {`{"worlds": ["world.json"], "cases": [{"name": "x", "principal": "user:a", "projects": "A", "permission": "P", "expect": "allow"}]}`, `did you mean "project"?`},
		"same name":      {`{"worlds": ["world.json"], "cases": [{"name": "x", "principal": "user:a", "project": "A", "permission": "P", "expect": "allow"}, {"name": "x", "principal": "user:a", "project": "A", "permission": "P", "expect": "allow"}]}`, `already the name of cases[0]`},
		"missing world":  {`{"worlds": ["nope.json"], "cases": [{"name": "x", "principal": "user:a", "project": "A", "permission": "P", "expect": "allow"}]}`, `nope.json`},
		"bad principal":  {`{"worlds": ["world.json"], "cases": [{"name": "x", "principal": "a", "project": "A", "permission": "P", "expect": "allow"}]}`, `"a" is not a principal`},
		"not JSON":       {`{"worlds": [`, `syntax error`},
		"no cases":       {`{"worlds": ["world.json"], "cases": []}`, `at least one case`},
		"no permission":  {`{"worlds": ["world.json"], "cases": [{"name": "x", "principal": "user:a", "project": "A", "expect": "allow"}]}`, `"permission"`},
		"invalid worlds": {`{"worlds": ["bad_test.json"], "cases": [{"name": "x", "principal": "user:a", "project": "A", "permission": "P", "expect": "allow"}]}`, `assertion file`},
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, "bad_test.json")
			require.NoError(t, os.WriteFile(path, []byte(tc.file), 0o644))
			o := runIAM(t, "test", path).expect(t, exitError)
			assert.Contains(t, o.stderr, tc.msg)
			assert.Empty(t, o.stdout)
		})
	}
	runIAM(t, "test").expect(t, exitError)
	runIAM(t, "test", world).expect(t, exitError) // not an assertion file
}

func TestExport(t *testing.T) {
	o := runIAM(t, "export", acme).expect(t, exitOK)
	store := newStore()
	for _, f := range []string{world, "testdata/acme/team.json"} {
		require.NoError(t, iam.LoadFile(context.Background(), store, f))
	}
	want, err := iamfile.Export(context.Background(), store, "acme")
	require.NoError(t, err)
	assert.Equal(t, string(want), o.stdout, "the export of the world and its policy file together")
	assert.Contains(t, o.stdout, `"name": "user-bob@acme.test"`, "the policy file's nameless policy, named")

	// Exporting an export gives the same bytes.
	exported := writeFile(t, "exported.json", o.stdout)
	again := runIAM(t, "export", exported).expect(t, exitOK)
	assert.Equal(t, o.stdout, again.stdout)

	// Scaleway's format, through the converter.
	o = runIAM(t, "export", "--format", "scaleway", seed)
	var f wire.File
	_, err = wire.Decode(mustRead(t, seed), &f)
	require.NoError(t, err)
	seedStore := newStore()
	require.NoError(t, iam.LoadFile(context.Background(), seedStore, seed))
	canon, err := iamfile.Export(context.Background(), seedStore, "acme")
	require.NoError(t, err)
	var cf wire.File
	_, err = wire.Decode(canon, &cf)
	require.NoError(t, err)
	if sw, err := scalewayFromWorld(cf); err != nil {
		o.expect(t, exitError)
		assert.Contains(t, o.stderr, err.Error())
	} else {
		o.expect(t, exitOK)
		assert.Equal(t, string(sw), o.stdout)
	}

	runIAM(t, "export", "--format", "yaml", seed).expect(t, exitError)
	runIAM(t, "export").expect(t, exitError)
	runIAM(t, "export", "--json", seed).expect(t, exitError)
	two := runIAM(t, "export", seed, "../../testdata/fuzzseed/globex.json").expect(t, exitError)
	assert.Contains(t, two.stderr, "name one with --organization")
	o = runIAM(t, "export", "--organization", "globex", seed, "../../testdata/fuzzseed/globex.json").expect(t, exitOK)
	assert.Contains(t, o.stdout, `"organization": {"id": "globex", "name": "Globex"}`)
}

func TestPlan(t *testing.T) {
	o := runIAM(t, "plan", acme, "testdata/acme-next").expect(t, exitOK)
	assert.Equal(t, `organization acme: 3 entities changed, 2 principals gain or lose grants

entities:
  + user cid@acme.test
  ~ group Billing (users)
  ~ policy prod-c (rules)

grants:
  user:cid@acme.test
    + BillingReadOnly in the organization
    + WebRead in project p-web
  application:production-c
    - InstancesFullAccess in project A
`, o.stdout)
	runIAM(t, "plan", "--exit-code", acme, "testdata/acme-next").expect(t, exitFalse)
	o = runIAM(t, "plan", "--exit-code", acme, acme).expect(t, exitOK)
	assert.Equal(t, "organization acme: no changes\n", o.stdout)

	o = runIAM(t, "plan", "--json", acme, "testdata/acme-next").expect(t, exitOK)
	var got struct {
		Changes    bool `json:"changes"`
		Principals []struct {
			Principal string `json:"principal"`
			Lost      []struct {
				PermissionSet string `json:"permission_set"`
				Scope         string `json:"scope"`
			} `json:"lost"`
		} `json:"principals"`
	}
	require.NoError(t, json.Unmarshal([]byte(o.stdout), &got))
	assert.True(t, got.Changes)
	require.Len(t, got.Principals, 2)
	assert.Equal(t, "application:production-c", got.Principals[1].Principal)
	assert.Equal(t, "InstancesFullAccess", got.Principals[1].Lost[0].PermissionSet)
	assert.Equal(t, "project A", got.Principals[1].Lost[0].Scope)

	// Files, comma-separated.
	o = runIAM(t, "plan", world+","+acme+"/team.json", "testdata/acme-next/world.json,testdata/acme-next/team.json").expect(t, exitOK)
	assert.Contains(t, o.stdout, "3 entities changed")

	o = runIAM(t, "plan", seed, world).expect(t, exitOK)
	assert.Contains(t, o.stdout, "+ project p-web")
	o = runIAM(t, "plan", seed, "../../testdata/fuzzseed/globex.json").expect(t, exitError)
	assert.Contains(t, o.stderr, `OLD describes organization "acme" and NEW "globex"`)
	runIAM(t, "plan", seed).expect(t, exitError)
	runIAM(t, "plan", seed, "nope.json").expect(t, exitError)
}

func TestFmt(t *testing.T) {
	messy := "{\"organization\":{\"name\":\"Acme\",\"id\":\"acme\"},\n\"permission_sets\": [], \"users\":[{\"email\":\"o@acme.test\",\"type\":\"owner\",\"locked\":false}]}"
	path := writeFile(t, "messy.json", messy)
	want := `{
  "organization": {"id": "acme", "name": "Acme"},
  "users": [
    {"email": "o@acme.test", "type": "owner"}
  ],
  "permission_sets": []
}
`
	o := runIAM(t, "fmt", path).expect(t, exitOK)
	assert.Equal(t, want, o.stdout)
	o = runIAM(t, "fmt", "-l", path).expect(t, exitFalse)
	assert.Equal(t, path+"\n", o.stdout)
	runIAM(t, "fmt", "-w", path).expect(t, exitOK)
	assert.Equal(t, want, string(mustRead(t, path)))
	o = runIAM(t, "fmt", "-l", path).expect(t, exitOK)
	assert.Empty(t, o.stdout)

	// Every shipped file is already canonical.
	o = runIAM(t, "fmt", "-l", acme, "testdata/acme-next", "../../examples/quickstart/world_test.json").expect(t, exitOK)
	assert.Empty(t, o.stdout)

	// A policy file stays one policy object; an assertion file stays one.
	o = runIAM(t, "fmt", writeFile(t, "p.json", `{"rules":[],"name":"p"}`)).expect(t, exitOK)
	assert.Equal(t, "{\n  \"name\": \"p\",\n  \"rules\": []\n}\n", o.stdout)
	o = runIAM(t, "fmt", writeFile(t, "t.json", `{"cases":[{"expect":"allow","name":"n"}],"worlds":["w.json"]}`)).expect(t, exitOK)
	assert.Equal(t, "{\n  \"worlds\": [\"w.json\"],\n  \"cases\": [\n    {\"name\": \"n\", \"expect\": \"allow\"}\n  ]\n}\n", o.stdout)

	o = runIAM(t, "fmt", writeFile(t, "broken.json", `{"organization": {"id": "x",`)).expect(t, exitError)
	assert.Contains(t, o.stderr, "broken.json:1:")
	runIAM(t, "fmt").expect(t, exitError)
}

func TestSchema(t *testing.T) {
	for kind, want := range map[string][]byte{"world": schemaWorld(), "policy": schemaPolicy(), "test": schemaTest()} {
		o := runIAM(t, "schema", kind).expect(t, exitOK)
		assert.Equal(t, string(want), o.stdout)
		var v map[string]any
		require.NoError(t, json.Unmarshal([]byte(o.stdout), &v), "a JSON Schema is JSON")
		assert.Equal(t, "https://json-schema.org/draft/2020-12/schema", v["$schema"])
	}
	runIAM(t, "schema", "nope").expect(t, exitError)
	runIAM(t, "schema").expect(t, exitError)
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	return data
}
