package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/iamkit/iam"
	"github.com/iamkit/iam/conditions"
	"github.com/iamkit/iam/internal/wire"
)

// fileKind is what a file holds.
type fileKind uint8

const (
	kindUnknown  fileKind = iota // not JSON, or not an object
	kindWorld                    // a world file
	kindPolicy                   // a policy file
	kindTest                     // an assertion file
	kindScaleway                 // Scaleway's own format
)

func (k fileKind) String() string {
	return [...]string{"unknown", "world", "policy", "test", "scaleway"}[k]
}

// input is one file read from the command line.
type input struct {
	path string
	data []byte
	kind fileKind
}

// kindOf tells a file's kind from its top-level keys.
func kindOf(data []byte) fileKind {
	if isScaleway(data) {
		return kindScaleway
	}
	var top map[string]json.RawMessage
	if json.Unmarshal(data, &top) != nil {
		return kindUnknown
	}
	switch {
	case top["worlds"] != nil || top["cases"] != nil:
		return kindTest
	case top["organization"] != nil:
		return kindWorld
	}
	return kindPolicy
}

// readInputs reads files, a directory standing for its *.json files
// (assertion files left out, unless keepTests). Within a directory,
// world files come first.
func readInputs(paths []string, keepTests bool) ([]input, error) {
	var out []input
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			in, err := readInput(p)
			if err != nil {
				return nil, err
			}
			out = append(out, in)
			continue
		}
		names, err := filepath.Glob(filepath.Join(p, "*.json"))
		if err != nil {
			return nil, err
		}
		var worlds, others []input
		for _, name := range names {
			in, err := readInput(name)
			if err != nil {
				return nil, err
			}
			switch {
			case in.kind == kindTest && !keepTests:
			case in.kind == kindWorld || in.kind == kindScaleway:
				worlds = append(worlds, in)
			default:
				others = append(others, in)
			}
		}
		if len(worlds)+len(others) == 0 {
			return nil, fmt.Errorf("iam: %s: no .json file in the directory", p)
		}
		out = append(append(out, worlds...), others...)
	}
	return out, nil
}

func readInput(path string) (input, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return input{}, err
	}
	return input{path: path, data: data, kind: kindOf(data)}, nil
}

// newStore returns an empty store with conditions switched on.
func newStore() *iam.MemoryStore { return iam.NewMemoryStore(iam.WithConditions(conditions.New())) }

// loadable returns the name and contents to give iam.Load for a world or
// policy file: a file in Scaleway's format is converted first.
func loadable(in input) (string, []byte, error) {
	if in.kind != kindScaleway {
		return in.path, in.data, nil
	}
	f, err := scalewayToWorld(in.data)
	if err != nil {
		return "", nil, fmt.Errorf("iam: %s: %w", in.path, err)
	}
	return in.path + " (converted from Scaleway's format)", wire.Encode(&f), nil
}

// loadInputs loads world files, then policy files, into a new store.
func loadInputs(ctx context.Context, ins []input) (*iam.MemoryStore, error) {
	store := newStore()
	ordered := slices.Clone(ins)
	slices.SortStableFunc(ordered, func(a, b input) int { return worldFirst(a) - worldFirst(b) })
	for _, in := range ordered {
		if in.kind == kindTest {
			return nil, fmt.Errorf("iam: %s is an assertion file: run it with iam test", in.path)
		}
		name, data, err := loadable(in)
		if err != nil {
			return nil, err
		}
		if err := iam.Load(ctx, store, name, data); err != nil {
			return nil, err
		}
	}
	return store, nil
}

func worldFirst(in input) int {
	if in.kind == kindWorld || in.kind == kindScaleway {
		return 0
	}
	return 1
}

// loadPaths reads and loads files given on the command line.
func loadPaths(ctx context.Context, paths []string) (*iam.MemoryStore, error) {
	if len(paths) == 0 {
		return nil, fmt.Errorf("iam: no file given: name world files with --world")
	}
	ins, err := readInputs(paths, false)
	if err != nil {
		return nil, err
	}
	return loadInputs(ctx, ins)
}

// onlyOrganization returns the ID of the organization the store holds,
// or the one named (by ID or name) when it holds several.
func onlyOrganization(ctx context.Context, store iam.Store, named string) (string, error) {
	orgs, err := store.ListOrganizations(ctx)
	if err != nil {
		return "", err
	}
	var ids []string
	for _, o := range orgs {
		if named != "" && (o.ID == named || o.Name == named) {
			return o.ID, nil
		}
		ids = append(ids, o.ID)
	}
	switch {
	case named != "":
		return "", fmt.Errorf("iam: no organization %q in the files (they hold %s): %w", named, strings.Join(ids, ", "), iam.ErrNotFound)
	case len(ids) == 1:
		return ids[0], nil
	case len(ids) == 0:
		return "", fmt.Errorf("iam: the files hold no organization: %w", iam.ErrNotFound)
	}
	return "", fmt.Errorf("iam: the files hold %d organizations (%s): name one with --organization", len(ids), strings.Join(ids, ", "))
}
