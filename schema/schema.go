// Package schema holds the JSON Schemas (draft 2020-12) of iamkit's files:
// world files, policy files and the test files of "iam test". Editors that
// know JSON Schema use them to complete and check the files as they are
// written, and show each field's description on hover; "iam schema world"
// prints one.
//
// The schemas follow the loader (iam.Load) field by field: the same keys
// (an unknown key is an error), the same required fields and types (null
// reads as a field left out, except inside a list), exactly one scope per
// rule, at most one principal per policy, one bearer per API key, and the
// same limits (ID, name, description and tag lengths, tag counts, the
// shapes of emails, secret hashes, times, permission patterns and
// permission set names). What a schema cannot see is left to the loader:
// whether a reference names an entity of the organization, IDs, group
// names and keys used twice, permission sets unknown to the catalogue or
// of the wrong scope type, include cycles and overlapping levels,
// conditions that do not compile, dates that do not exist (February 30),
// and an email's length in bytes (the schema counts characters). So a file
// that passes its schema can still be refused by the loader for one of
// those reasons, and a file the loader accepts passes its schema, but for
// one case where the schema is stricter: a project entry with the
// organization's ID that edits the default project without naming it
// (the schema asks for the name).
package schema

import (
	"bytes"
	_ "embed"
)

//go:embed world.schema.json
var world []byte

//go:embed policy.schema.json
var policy []byte

//go:embed test.schema.json
var test []byte

// World returns the JSON Schema of a world file, a fresh copy.
func World() []byte { return bytes.Clone(world) }

// Policy returns the JSON Schema of a policy file: one policy object, or
// {"policies": [...]}, a fresh copy.
func Policy() []byte { return bytes.Clone(policy) }

// Test returns the JSON Schema of a test file of "iam test": {"worlds":
// [...], "cases": [...]}, a fresh copy.
func Test() []byte { return bytes.Clone(test) }
