package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/iamkit/iam"
	"github.com/iamkit/iam/iamfile"
	"github.com/iamkit/iam/internal/wire"
)

func (c *cli) exportFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.format, "format", "world", "the output format: world (iamkit's world file) or scaleway (Scaleway's own)")
	fs.StringVar(&c.org, "organization", "", "the organization to export, when the files hold several")
}

func (c *cli) export(args []string) int {
	if c.format != "world" && c.format != "scaleway" {
		return c.failf("--format %q: world or scaleway", c.format)
	}
	if c.json {
		return c.failf("export prints a file; --json does not apply")
	}
	store, err := loadPaths(c.ctx, args)
	if err != nil {
		return c.fail(err)
	}
	org, err := onlyOrganization(c.ctx, store, c.org)
	if err != nil {
		return c.fail(err)
	}
	out, err := iamfile.Export(c.ctx, store, org)
	if err != nil {
		return c.fail(err)
	}
	if c.format == "scaleway" {
		var f wire.File
		if _, err := wire.Decode(out, &f); err != nil {
			return c.fail(err)
		}
		if out, err = scalewayFromWorld(f); err != nil {
			return c.fail(err)
		}
	}
	if _, err := c.stdout.Write(out); err != nil {
		return c.fail(err)
	}
	return exitOK
}

func (c *cli) planFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.org, "organization", "", "the organization to compare, when the files hold several")
	fs.BoolVar(&c.exit, "exit-code", false, "exit 1 when the plan changes something (as git diff --exit-code)")
}

func (c *cli) plan(args []string) int {
	if len(args) != 2 {
		return c.failf("plan takes two arguments, OLD and NEW: each a file or a directory of files")
	}
	old, err := loadPaths(c.ctx, strings.Split(args[0], ","))
	if err != nil {
		return c.fail(fmt.Errorf("iam: plan: OLD: %w", err))
	}
	next, err := loadPaths(c.ctx, strings.Split(args[1], ","))
	if err != nil {
		return c.fail(fmt.Errorf("iam: plan: NEW: %w", err))
	}
	org, err := onlyOrganization(c.ctx, next, c.org)
	if err != nil {
		return c.fail(err)
	}
	if _, err := old.GetOrganization(c.ctx, org); err != nil {
		if oldOrg, err := onlyOrganization(c.ctx, old, ""); err == nil && oldOrg != org {
			return c.failf("plan: OLD describes organization %q and NEW %q: compare two states of one organization", oldOrg, org)
		}
	}
	p, err := iamfile.Diff(c.ctx, old, next, org)
	if err != nil {
		return c.fail(err)
	}
	if c.json {
		c.printJSON(planJSON(p))
	} else {
		fmt.Fprint(c.stdout, p.String())
	}
	if c.exit && !p.Empty() {
		return exitFalse
	}
	return exitOK
}

// planJSON is a plan in --json output.
func planJSON(p *iamfile.Plan) map[string]any {
	type entity struct {
		Op     string   `json:"op"`
		Kind   string   `json:"kind"`
		ID     string   `json:"id"`
		Fields []string `json:"fields,omitempty"`
	}
	type grant struct {
		Owner         bool   `json:"owner,omitempty"`
		PermissionSet string `json:"permission_set,omitempty"`
		Scope         string `json:"scope,omitempty"`
		Condition     string `json:"condition,omitempty"`
	}
	type principal struct {
		Principal string  `json:"principal"`
		Gained    []grant `json:"gained"`
		Lost      []grant `json:"lost"`
	}
	grants := func(gs []iamfile.Grant) []grant {
		out := []grant{}
		for _, g := range gs {
			if g.Owner {
				out = append(out, grant{Owner: true})
				continue
			}
			out = append(out, grant{PermissionSet: g.PermissionSet, Scope: g.Scope.String(), Condition: g.Condition})
		}
		return out
	}
	entities := []entity{}
	for _, e := range p.Entities {
		entities = append(entities, entity{Op: e.Op.String(), Kind: e.Kind.String(), ID: e.ID, Fields: e.Fields})
	}
	principals := []principal{}
	for _, pc := range p.Principals {
		principals = append(principals, principal{Principal: pc.Principal.String(), Gained: grants(pc.Gained), Lost: grants(pc.Lost)})
	}
	return map[string]any{"organization": p.OrganizationID, "changes": !p.Empty(), "entities": entities, "principals": principals}
}

func (c *cli) fmtFlags(fs *flag.FlagSet) {
	fs.BoolVar(&c.write, "w", false, "rewrite the files in place")
	fs.BoolVar(&c.list, "l", false, "list the files whose layout differs from the canonical one, and exit 1 if there is one")
}

func (c *cli) fmt(args []string) int {
	if len(args) == 0 {
		return c.failf("fmt needs at least one file")
	}
	if c.json {
		return c.failf("fmt prints files; --json does not apply")
	}
	ins, err := readInputs(args, true)
	if err != nil {
		return c.fail(err)
	}
	differs := false
	for _, in := range ins {
		out, err := canonical(c.ctx, in)
		if err != nil {
			return c.fail(err)
		}
		same := bytes.Equal(out, in.data)
		switch {
		case c.list:
			if !same {
				differs = true
				fmt.Fprintln(c.stdout, in.path)
			}
		case c.write:
			if !same {
				if err := replaceFile(in.path, out); err != nil {
					return c.fail(err)
				}
			}
		default:
			if _, err := c.stdout.Write(out); err != nil {
				return c.fail(err)
			}
		}
	}
	if differs {
		return exitFalse
	}
	return exitOK
}

// canonical lays a world, policy or assertion file out canonically,
// keeping its meaning: its entities stay in their order, and its names
// and references as written.
func canonical(ctx context.Context, in input) ([]byte, error) {
	var v any
	switch in.kind {
	case kindTest:
		v = &testFile{}
	case kindWorld, kindPolicy:
		v = &wire.File{}
	case kindScaleway:
		return nil, fmt.Errorf("iam: %s: fmt lays out iamkit's own files, not Scaleway's format (iam export converts it)", in.path)
	default:
		v = &wire.File{}
	}
	if _, err := wire.Decode(in.data, v); err != nil {
		// The readers place the error in the file.
		var placed error
		if in.kind == kindTest {
			_, placed = readTestFile(in)
		} else {
			placed = iam.Load(ctx, iam.NewMemoryStore(iam.WithCatalogue(nil)), in.path, in.data)
		}
		if placed != nil {
			return nil, placed
		}
		return nil, fmt.Errorf("iam: %s: %w", in.path, err)
	}
	return wire.Encode(v), nil
}

// replaceFile replaces the contents of the file at path, keeping its
// mode: the new contents go to a file beside it that is then renamed over
// it, so that a failure never leaves it half written.
func replaceFile(path string, data []byte) error {
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	_, err = tmp.Write(data)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), st.Mode().Perm())
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("iam: %s: %w", path, err)
	}
	return nil
}
