package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/iamkit/iam"
	"github.com/iamkit/iam/internal/wire"
)

// problem is one finding of validate.
type problem struct {
	File     string `json:"file"`
	Line     int    `json:"line,omitempty"`
	Column   int    `json:"column,omitempty"`
	Path     string `json:"path,omitempty"`
	Severity string `json:"severity"` // "error" or "warning"
	Message  string `json:"message"`
}

func (p problem) String() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Line > 0 {
		fmt.Fprintf(&b, ":%d:%d", p.Line, p.Column)
	}
	b.WriteString(": ")
	if p.Severity == "warning" {
		b.WriteString("warning: ")
	}
	b.WriteString(p.Message)
	return b.String()
}

// problemOf turns a loader's error into a problem: the position from the
// error, the message without the "iam: file:line:col: " that the position
// fields say.
func problemOf(file string, err error) problem {
	p := problem{File: file, Severity: "error"}
	var ve *iam.ValidationError
	var fe *iam.FileError
	switch {
	case errors.As(err, &ve):
		p.Line, p.Column, p.Path = ve.Line, ve.Column, ve.Path
		if ve.File != "" {
			p.File = ve.File
		}
	case errors.As(err, &fe):
		p.Line, p.Column, p.Path = fe.Line, fe.Column, fe.Path
		if fe.File != "" {
			p.File = fe.File
		}
	}
	msg := strings.TrimPrefix(err.Error(), "iam: ")
	prefix := p.File
	if p.Line > 0 {
		prefix += fmt.Sprintf(":%d:%d", p.Line, p.Column)
	}
	p.Message = strings.TrimPrefix(msg, prefix+": ")
	return p
}

// maxProblems bounds the problems reported for one file.
const maxProblems = 50

// policyAt matches the path of a policy of a world file or a policy list.
var policyAt = regexp.MustCompile(`^policies\[(\d+)\]`)

// loadAll loads a file with load, and after an error in one policy loads
// it again without that policy, so that every broken policy of a file is
// reported, not only the first. A policy is taken out by blanking its
// bytes to an empty object of the same length, so that the positions of
// the others do not move. load must change nothing when it fails (Load
// is all or nothing).
func loadAll(name string, data []byte, load func(data []byte) error) []problem {
	var out []problem
	data = bytes.Clone(data)
	for len(out) < maxProblems {
		err := load(data)
		if err == nil {
			return out
		}
		p := problemOf(name, err)
		out = append(out, p)
		m := policyAt.FindStringSubmatch(p.Path)
		if m == nil {
			return out
		}
		n, _ := strconv.Atoi(m[1])
		start, end, ok := wire.Span(data, "policies["+strconv.Itoa(n)+"]")
		if !ok || end-start < 2 {
			return out
		}
		copy(data[start:end], "{}"+strings.Repeat(" ", int(end-start)-2))
	}
	return out
}

// warnings flags what a world or policy file may say but probably does
// not mean.
func warnings(in input, now time.Time) []problem {
	var f wire.File
	if _, err := wire.Decode(in.data, &f); err != nil {
		return nil
	}
	var out []problem
	warn := func(path, format string, args ...any) {
		off, _ := wire.Locate(in.data, path)
		line, col := wire.LineColumn(in.data, off)
		out = append(out, problem{File: in.path, Line: line, Column: col, Path: path, Severity: "warning", Message: fmt.Sprintf(format, args...)})
	}
	policies := f.Policies
	list := "policies"
	if in.kind == kindPolicy && f.Policies == nil {
		policies, list = []wire.Policy{f.Policy()}, ""
	}
	for i, p := range policies {
		path := list
		if list != "" {
			path = fmt.Sprintf("%s[%d]", list, i)
		}
		name := policyName(p)
		if p.User == "" && p.Application == "" && p.Group == "" {
			warn(path, "policy %s has no principal: it grants nothing (name one with \"user\", \"application\" or \"group\")", name)
		}
		if len(p.Rules) == 0 {
			warn(path, "policy %s has no rules: it grants nothing", name)
		}
	}
	for i, g := range f.Groups {
		if len(g.Users) == 0 && len(g.Applications) == 0 && !g.AllUsers && !g.AllApplications {
			warn(fmt.Sprintf("groups[%d]", i), "group %q has no members: its policies grant nothing to anyone", g.Name)
		}
	}
	for i, k := range f.APIKeys {
		if t, err := time.Parse(time.RFC3339, k.ExpiresAt); err == nil && !now.Before(t) {
			warn(fmt.Sprintf("api_keys[%d].expires_at", i), "API key %q expired at %s: it authenticates nothing", k.AccessKey, k.ExpiresAt)
		}
	}
	return out
}

func policyName(p wire.Policy) string {
	switch {
	case p.ID != "":
		return strconv.Quote(p.ID)
	case p.Name != "":
		return strconv.Quote(p.Name)
	}
	return "without a name"
}

func (c *cli) validate(args []string) int {
	if len(args) == 0 {
		return c.failf("validate needs at least one file")
	}
	ins, err := readInputs(args, true)
	if err != nil {
		return c.fail(err)
	}
	ctx, now := c.ctx, time.Now()
	var problems []problem
	invalid := map[string]bool{}
	report := func(ps ...problem) {
		for _, p := range ps {
			problems = append(problems, p)
			if p.Severity == "error" {
				invalid[p.File] = true
			}
		}
	}

	// World files, each in a store of its own; then policy files, in a
	// store that holds every valid world.
	worlds := newStore()
	var policies, tests []input
	for _, in := range ins {
		switch in.kind {
		case kindWorld, kindScaleway:
			name, data, err := loadable(in)
			if err != nil {
				report(problemOf(in.path, err))
				continue
			}
			ps := loadAll(name, data, func(data []byte) error { return iam.Load(ctx, newStore(), name, data) })
			report(ps...)
			if len(ps) == 0 {
				// Policy files are checked against the worlds that fit in
				// one store (two versions of one organization do not).
				_ = iam.Load(ctx, worlds, name, data)
			}
			report(warnings(in, now)...)
		case kindPolicy:
			policies = append(policies, in)
		case kindTest:
			tests = append(tests, in)
		default:
			if err := iam.Load(ctx, newStore(), in.path, in.data); err != nil {
				report(problemOf(in.path, err))
			}
		}
	}
	orgs, err := worlds.ListOrganizations(ctx)
	if err != nil {
		return c.fail(err)
	}
	for _, in := range policies {
		if len(orgs) == 0 {
			// Without a world, only the shape can be checked.
			var f wire.File
			if _, err := wire.Decode(in.data, &f); err != nil {
				if err := iam.Load(ctx, newStore(), in.path, in.data); err != nil {
					report(problemOf(in.path, err))
				}
				continue
			}
			report(problem{File: in.path, Severity: "warning", Message: "no world file given: references and permission sets not checked (validate it with its world file)"})
		} else {
			report(c.loadPolicyFile(in, worlds, orgs)...)
		}
		report(warnings(in, now)...)
	}
	for _, in := range tests {
		tf, err := readTestFile(in)
		if err != nil {
			report(problemOf(in.path, err))
			continue
		}
		if _, err := tf.load(ctx); err != nil {
			report(problemOf(in.path, err))
		}
	}

	if c.json {
		files := []map[string]any{}
		for _, in := range ins {
			files = append(files, map[string]any{"file": in.path, "kind": in.kind.String(), "valid": !invalid[in.path]})
		}
		if problems == nil {
			problems = []problem{}
		}
		c.printJSON(map[string]any{"valid": len(invalid) == 0, "files": files, "problems": problems})
	} else {
		var warned int
		for _, p := range problems {
			fmt.Fprintln(c.stdout, p)
			if p.Severity == "warning" {
				warned++
			}
		}
		fmt.Fprintf(c.stdout, "%d %s checked: %d invalid, %d %s\n", len(ins), plural(len(ins), "file", "files"), len(invalid), warned, plural(warned, "warning", "warnings"))
	}
	if len(invalid) > 0 {
		return exitFalse
	}
	return exitOK
}

// loadPolicyFile loads a policy file into the store of the world files:
// into the organization named with --organization, or else into the first
// organization it fits. When it fits none, the problems reported are those
// of the organization it fits best.
func (c *cli) loadPolicyFile(in input, worlds *iam.MemoryStore, orgs []iam.Organization) []problem {
	var best []problem
	for _, o := range orgs {
		if c.org != "" && o.ID != c.org && o.Name != c.org {
			continue
		}
		ps := loadAll(in.path, in.data, func(data []byte) error {
			return iam.Load(c.ctx, worlds, in.path, data, iam.IntoOrganization(o.ID))
		})
		if len(ps) == 0 {
			return nil
		}
		if best == nil || len(ps) < len(best) {
			best = ps
		}
	}
	if best == nil {
		return []problem{{File: in.path, Severity: "error", Message: fmt.Sprintf("no organization %q among the world files", c.org)}}
	}
	return best
}

func (c *cli) validateFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.org, "organization", "", "the organization that policy files apply to, when the world files hold several (default: the first they fit)")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
