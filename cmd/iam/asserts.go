package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/iamkit/iam"
	"github.com/iamkit/iam/internal/wire"
)

// testFile is an assertion file: the world files to load, and the checks
// to make with what each must answer.
type testFile struct {
	Worlds []string   `json:"worlds"`
	Cases  []testCase `json:"cases"`
}

// testCase is one assertion: a request and the expected answer.
type testCase struct {
	Name         string `json:"name"`
	Principal    string `json:"principal"`
	Project      string `json:"project"`
	Organization string `json:"organization"`
	Permission   string `json:"permission"`
	Expect       string `json:"expect"` // allow, deny or error
}

// assertions is a read assertion file.
type assertions struct {
	path string
	testFile
}

// readTestFile decodes and checks an assertion file. Its errors are
// *iam.ValidationError values placed in the file.
func readTestFile(in input) (*assertions, error) {
	a := &assertions{path: in.path}
	if _, err := wire.Decode(in.data, &a.testFile); err != nil {
		var we *wire.Error
		if !errors.As(err, &we) {
			return nil, fmt.Errorf("iam: %s: %w", in.path, err)
		}
		line, col := wire.LineColumn(in.data, we.Offset)
		return nil, &iam.ValidationError{File: in.path, Line: line, Column: col, Path: we.Path, Reason: we.Msg, Hint: we.Hint}
	}
	invalid := func(path, reason, hint string) error {
		off, _ := wire.Locate(in.data, path)
		line, col := wire.LineColumn(in.data, off)
		return &iam.ValidationError{File: in.path, Line: line, Column: col, Path: path, Reason: reason, Hint: hint}
	}
	if len(a.Worlds) == 0 {
		return nil, invalid("worlds", `an assertion file names the world files it checks in "worlds"`, `add "worlds": ["world.json"], relative to the assertion file`)
	}
	if len(a.Cases) == 0 {
		return nil, invalid("cases", `an assertion file has at least one case in "cases"`, "")
	}
	names := map[string]int{}
	for i, tc := range a.Cases {
		at := func(field string) string { return fmt.Sprintf("cases[%d]%s", i, field) }
		switch {
		case tc.Name == "":
			return nil, invalid(at(""), `a case needs a "name"`, "the name is what a failure reports")
		case tc.Principal == "":
			return nil, invalid(at(""), `a case needs a "principal"`, `write it as "user:ID", "application:ID", "api_key:ACCESS_KEY" or "group:ID"`)
		case !validPrincipal(tc.Principal):
			return nil, invalid(at(".principal"), fmt.Sprintf("%q is not a principal", tc.Principal), `write it as "user:ID", "application:ID", "api_key:ACCESS_KEY" or "group:ID"`)
		case (tc.Project == "") == (tc.Organization == ""):
			return nil, invalid(at(""), `a case names exactly one of "project" and "organization"`, "")
		case tc.Permission == "":
			return nil, invalid(at(""), `a case needs a "permission"`, "a permission set name or a permission triple")
		case tc.Expect != "allow" && tc.Expect != "deny" && tc.Expect != "error":
			return nil, invalid(at(".expect"), fmt.Sprintf(`"expect" is "allow", "deny" or "error" (got %q)`, tc.Expect), "")
		}
		if j, ok := names[tc.Name]; ok {
			return nil, invalid(at(".name"), fmt.Sprintf("the name %q is already the name of cases[%d]", tc.Name, j), "give each case its own name")
		}
		names[tc.Name] = i
	}
	return a, nil
}

func validPrincipal(s string) bool {
	typ, id, ok := strings.Cut(s, ":")
	if !ok || id == "" {
		return false
	}
	switch typ {
	case "user", "application", "app", "api_key", "api-key", "group":
		return true
	}
	return false
}

// load loads the assertion file's worlds, relative to it.
func (a *assertions) load(ctx context.Context) (*session, error) {
	paths := make([]string, len(a.Worlds))
	for i, w := range a.Worlds {
		if filepath.IsAbs(w) {
			paths[i] = w
		} else {
			paths[i] = filepath.Join(filepath.Dir(a.path), w)
		}
	}
	return open(ctx, paths, time.Time{})
}

// result is one case's outcome.
type result struct {
	File        string `json:"file"`
	Name        string `json:"name"`
	Expect      string `json:"expect"`
	Got         string `json:"got"`
	Passed      bool   `json:"passed"`
	Error       string `json:"error,omitempty"`
	Explanation string `json:"explanation,omitempty"`
}

func (c *cli) testFlags(fs *flag.FlagSet) {
	fs.BoolVar(&c.verbose, "v", false, "also print the cases that pass")
}

func (c *cli) test(args []string) int {
	if len(args) == 0 {
		return c.failf("test needs at least one assertion file")
	}
	ins, err := readInputs(args, true)
	if err != nil {
		return c.fail(err)
	}
	var files []*assertions
	for _, in := range ins {
		if in.kind != kindTest && in.kind != kindUnknown {
			continue // a directory's world and policy files
		}
		a, err := readTestFile(in)
		if err != nil {
			return c.fail(err)
		}
		files = append(files, a)
	}
	if len(files) == 0 {
		return c.failf("no assertion file among %s", strings.Join(args, ", "))
	}
	var results []result
	for _, a := range files {
		rs, err := c.runFile(a)
		if err != nil {
			return c.fail(err)
		}
		results = append(results, rs...)
	}
	passed, failed := 0, 0
	for _, r := range results {
		if r.Passed {
			passed++
		} else {
			failed++
		}
	}
	if c.json {
		if results == nil {
			results = []result{}
		}
		c.printJSON(map[string]any{"passed": passed, "failed": failed, "results": results})
	} else {
		for _, r := range results {
			switch {
			case !r.Passed:
				fmt.Fprintf(c.stdout, "FAIL %s: %s: expected %s, got %s\n", r.File, r.Name, r.Expect, r.Got)
				if r.Error != "" {
					fmt.Fprintf(c.stdout, "    %s\n", r.Error)
				}
				if r.Explanation != "" {
					fmt.Fprintf(c.stdout, "    %s\n", strings.ReplaceAll(r.Explanation, "\n", "\n    "))
				}
			case c.verbose:
				fmt.Fprintf(c.stdout, "ok   %s: %s\n", r.File, r.Name)
			}
		}
		fmt.Fprintf(c.stdout, "%d passed, %d failed\n", passed, failed)
	}
	if failed > 0 {
		return exitFalse
	}
	return exitOK
}

// runFile runs the cases of one assertion file.
func (c *cli) runFile(a *assertions) ([]result, error) {
	s, err := a.load(c.ctx)
	if err != nil {
		return nil, fmt.Errorf("iam: %s: loading its worlds: %w", a.path, err)
	}
	defer s.close()
	r := resolver{ctx: c.ctx, store: s.store}
	out := make([]result, 0, len(a.Cases))
	for _, tc := range a.Cases {
		res := result{File: a.path, Name: tc.Name, Expect: tc.Expect}
		req, err := tc.request(r)
		var dec iam.Decision
		if err == nil {
			dec, err = s.ev.Check(c.ctx, req)
		}
		switch {
		case err != nil:
			res.Got, res.Error = "error", err.Error()
		default:
			res.Got = verdict(dec.Allowed)
		}
		res.Passed = res.Got == tc.Expect
		if !res.Passed && err == nil {
			if x, err := s.ev.Explain(c.ctx, req); err == nil {
				res.Explanation = x.String()
			}
		}
		out = append(out, res)
	}
	return out, nil
}

// request builds the case's request, resolving names as the query
// commands do.
func (tc testCase) request(r resolver) (iam.Request, error) {
	p, err := r.principal(tc.Principal)
	if err != nil {
		return iam.Request{}, err
	}
	req := iam.Request{Principal: p, Permission: tc.Permission}
	if tc.Project != "" {
		req.ProjectID = r.project(tc.Project, p)
	} else {
		req.OrganizationID = r.organization(tc.Organization)
	}
	return req, nil
}
