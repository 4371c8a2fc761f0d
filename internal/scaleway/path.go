package scaleway

import (
	"strings"

	"github.com/iamkit/iam/internal/wire"
)

// Path maps a JSON path of the world that ToWorld made from the export
// data to the path of the same value in data: the entities keep their
// indices, and the keys their Scaleway names ("groups[1].users[0]" is
// "groups[1].user_ids[0]", "policies[0].rules[2].projects" is
// "policies[0].rules[2].project_ids", or "...Rules[2]..." when the export
// lists that policy's rules under "Rules"). A world key with no
// counterpart (an API key's "secret_sha256") maps to its entity; a path it
// cannot read is returned as is.
func Path(data []byte, worldPath string) string {
	if worldPath == "" || strings.ContainsAny(worldPath, `"'`) {
		return worldPath
	}
	type seg struct{ key, index string } // one of the two is set
	var segs []seg
	for rest := worldPath; rest != ""; {
		switch rest[0] {
		case '.':
			rest = rest[1:]
		case '[':
			end := strings.IndexByte(rest, ']')
			if end < 0 {
				return worldPath
			}
			segs = append(segs, seg{index: rest[:end+1]})
			rest = rest[end+1:]
		default:
			end := strings.IndexAny(rest, ".[")
			if end < 0 {
				end = len(rest)
			}
			segs = append(segs, seg{key: rest[:end]})
			rest = rest[end:]
		}
	}

	// renames, by the list the key's object is in.
	renames := map[string]map[string]string{
		"groups":   {"users": "user_ids", "applications": "application_ids"},
		"api_keys": {"user": "user_id", "application": "application_id", "secret_sha256": ""},
		"policies": {"user": "user_id", "application": "application_id", "group": "group_id"},
		"rules":    {"projects": "project_ids", "organization": "organization_id", "permission_sets": "permission_set_names"},
	}
	var b strings.Builder
	list := "" // the list holding the current object
	for i, s := range segs {
		if s.index != "" {
			b.WriteString(s.index)
			continue
		}
		key := s.key
		if to, ok := renames[list][key]; ok {
			if to == "" {
				break
			}
			key = to
		}
		if list == "policies" && key == "rules" {
			// The export may list this policy's rules under the CLI's "Rules".
			if _, exact := wire.LocateKey(data, b.String()+".rules"); !exact {
				if _, exact := wire.LocateKey(data, b.String()+".Rules"); exact {
					key = "Rules"
				}
			}
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(key)
		if i+1 < len(segs) && segs[i+1].index != "" {
			list = s.key
		}
	}
	return b.String()
}
