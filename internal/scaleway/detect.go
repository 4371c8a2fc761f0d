package scaleway

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"sync"

	"github.com/iamkit/iam/internal/wire"
)

// IsScaleway reports whether data is an export in Scaleway's format rather
// than a world or policy file, from the document's own keys: the keys of
// its objects that only Scaleway's format has ("organization_id",
// "user_ids", "user_id", "no_principal", "project_ids",
// "permission_set_names", "created_at", ...) outnumber those that only a
// world file has ("users" in a group, "user" in a policy, "projects" and
// "permission_sets" in a rule, "secret_sha256", a top-level
// "permission_sets", ...). So a world file with a stray Scaleway key is
// still a world file, whose loader names that key, and the other way round.
// Keys are compared as written (an escaped key is not recognised). A
// document that is not a JSON object is not an export.
//
// A document holding none of the most telling Scaleway keys is answered at
// the cost of a few substring searches, without being parsed.
func IsScaleway(data []byte) bool {
	if !mayBeScaleway(data) {
		return false
	}
	var top map[string]json.RawMessage
	if json.Unmarshal(data, &top) != nil {
		return false
	}
	ks := keySets()
	score := 0
	if _, ok := top["permission_sets"]; ok {
		score--
	}
	vote := func(obj map[string]json.RawMessage, kind string) {
		for k := range obj {
			switch {
			case ks.scaleway[kind][k]:
				score++
			case ks.world[kind][k]:
				score--
			}
		}
	}
	for _, list := range []string{"projects", "users", "applications", "groups", "policies", "api_keys"} {
		var objs []map[string]json.RawMessage
		if json.Unmarshal(top[list], &objs) != nil {
			continue
		}
		for _, obj := range objs {
			vote(obj, list)
			if list != "policies" {
				continue
			}
			for _, key := range []string{"rules", "Rules"} {
				var rules []map[string]json.RawMessage
				if json.Unmarshal(obj[key], &rules) != nil {
					continue
				}
				for _, r := range rules {
					vote(r, "rules")
				}
			}
		}
	}
	return score > 0
}

// mayBeScaleway reports whether data holds, as a quoted string, one of the
// most telling keys of Scaleway's format: those that an export of any
// substance holds and a world file never does. It reads data once: every
// such key but "Rules" has an underscore, and a world file has few.
func mayBeScaleway(data []byte) bool {
	if bytes.Contains(data, []byte(`Rules"`)) { // faster to find than `"Rules"`
		return true
	}
	const longest = len("permission_set_names")
	for i := 0; i < len(data); i++ {
		j := bytes.IndexByte(data[i:], '_')
		if j < 0 {
			return false
		}
		i += j
		start := bytes.LastIndexByte(data[max(0, i-longest):i], '"')
		if start < 0 {
			continue
		}
		start += max(0, i-longest) + 1
		end := bytes.IndexByte(data[i:min(len(data), start+longest+1)], '"')
		if end < 0 {
			continue
		}
		switch string(data[start : i+end]) {
		case "organization_id", "permission_set_names", "project_ids", "user_ids", "application_ids",
			"user_id", "group_id", "application_id", "no_principal":
			return true
		}
	}
	return false
}

// keySet holds, by kind of object ("users", ..., "rules"), the keys that
// only one of the two formats has.
type keySet struct {
	scaleway, world map[string]map[string]bool
}

// keySets derives the key sets from the two formats' structs, so that they
// follow both.
var keySets = sync.OnceValue(func() keySet {
	pairs := map[string][2]any{
		"projects":     {Project{}, wire.Project{}},
		"users":        {User{}, wire.User{}},
		"applications": {Application{}, wire.Application{}},
		"groups":       {Group{}, wire.Group{}},
		"policies":     {Policy{}, wire.Policy{}},
		"api_keys":     {APIKey{}, wire.APIKey{}},
		"rules":        {Rule{}, wire.Rule{}},
	}
	ks := keySet{scaleway: map[string]map[string]bool{}, world: map[string]map[string]bool{}}
	for kind, p := range pairs {
		s, w := jsonKeys(p[0]), jsonKeys(p[1])
		ks.scaleway[kind], ks.world[kind] = map[string]bool{}, map[string]bool{}
		for k := range s {
			if !w[k] {
				ks.scaleway[kind][k] = true
			}
		}
		for k := range w {
			if !s[k] {
				ks.world[kind][k] = true
			}
		}
	}
	return ks
})

// jsonKeys returns the json keys of a struct value's fields.
func jsonKeys(v any) map[string]bool {
	t := reflect.TypeOf(v)
	keys := map[string]bool{}
	for i := 0; i < t.NumField(); i++ {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name != "" && name != "-" {
			keys[name] = true
		}
	}
	return keys
}
