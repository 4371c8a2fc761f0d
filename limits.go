package iam

import (
	"strconv"
	"unicode/utf8"
)

// Bounds on everything a caller or a file can make large. Each exists so
// that no input, however large, makes a write hold the store's lock for
// long, a check take more than microseconds, or a load exhaust memory; each
// leaves real organizations (Scaleway's, whose default quotas are 50
// users, 100 applications, 50 groups and 50 policies, and hosts' larger
// ones) ample room.
//
// All the limits in one place:
//
//   - names (of organizations, projects, users, applications, groups,
//     policies, permission sets): 1 to MaxNameLength (255) characters;
//   - descriptions: at most MaxDescriptionLength (200) characters;
//   - tags: at most MaxTags (10), each 1 to MaxTagLength (70) characters;
//     a permission set has at most MaxTags categories;
//   - IDs: 1 to MaxIDLength (128) characters; emails at most 254 bytes;
//   - a permission triple's segments: 1 to 64 bytes each;
//   - a policy: at most MaxRulesPerPolicy rules; a rule: at most
//     MaxProjectsPerRule projects, MaxPermissionSetsPerRule permission
//     sets and a condition of at most MaxConditionLength characters;
//   - a group: at most MaxGroupMembers users and applications listed;
//   - a permission set: at most MaxPermissionsPerSet patterns and
//     MaxIncludes included sets;
//   - an API key secret: at most MaxSecretLength bytes;
//   - a request: IDs of at most MaxIDLength characters, a permission of at
//     most MaxNameLength bytes, and condition-context strings (user agent,
//     resource ID, name and locality) of at most MaxRequestField bytes;
//   - a world or policy file: at most MaxFileSize bytes.
//
// Lengths of text that people write (names, descriptions, tags,
// conditions) count characters (runes); lengths that bound work done per
// byte (secrets, request context, files) count bytes. A write over a limit
// is a *ValidationError whose Field is the offending list or value and
// whose Reason states the limit; a request over one is ErrInvalid.
const (
	// MaxRulesPerPolicy bounds a policy's rules. Policies written by hand
	// or exported from Scaleway hold a few rules, tens at the most; 200
	// also fits one rule per project of an organization of two hundred
	// projects, while the validation and indexing of one policy write
	// stays bounded (at most 200 × (MaxProjectsPerRule +
	// MaxPermissionSetsPerRule) lookups, and 200 conditions).
	MaxRulesPerPolicy = 200

	// MaxPermissionSetsPerRule bounds the permission sets one rule names.
	// Scaleway's whole catalogue is 202 sets: a rule may name every one of
	// them and hundreds of an organization's own.
	MaxPermissionSetsPerRule = 500

	// MaxProjectsPerRule bounds the projects one rule lists. A rule on the
	// organization covers all current and future projects at once, so
	// long lists are rare; 500 is ten times the projects of a large
	// Scaleway organization.
	MaxProjectsPerRule = 500

	// MaxConditionLength bounds a rule's condition, in characters (runes).
	// The conditions of Scaleway's documentation are under 250 characters
	// (office hours in a time zone is the longest); 2048 leaves room for a
	// list of a hundred IP addresses, and keeps the compilation of one
	// condition to milliseconds (CEL's parse and cost estimate grow faster
	// than the text: ten 95 KB conditions took seconds).
	MaxConditionLength = 2048

	// MaxGroupMembers bounds the users and applications a group lists,
	// together. Scaleway's default quotas (50 users, 100 applications) fit
	// sixty times over; a group of everyone in a larger organization is
	// better written AllUsers or AllApplications, which list nobody.
	MaxGroupMembers = 10_000

	// MaxPermissionsPerSet bounds a permission set's patterns. Sets of
	// Scaleway's catalogue hold at most 4; 1000 fits a host's set listing
	// every permission of dozens of services one by one.
	MaxPermissionsPerSet = 1000

	// MaxIncludes bounds the sets a permission set includes directly.
	// Scaleway's AllProductsFullAccess includes 175, the most of its
	// catalogue; 500 leaves room for an organization's own sets beside.
	MaxIncludes = 500

	// MaxSecretLength bounds an API key secret, in bytes. Scaleway's
	// secrets are UUIDs (36 bytes); 256 fits any random token in hex or
	// base64 with room. Authenticate hashes at most this many bytes of the
	// secret it is given: a longer secret fails as a wrong one does,
	// after the same work as a secret of this length.
	MaxSecretLength = 256

	// MaxRequestField bounds each string of a request's condition context
	// (Request.UserAgent, Resource.ID, Resource.Name, Resource.Locality),
	// in bytes. Resource names and IDs are at most a few hundred bytes
	// (an object storage key, the longest, is at most 1024) and user
	// agents rarely pass 500; a condition's regular expression over 1024
	// bytes costs microseconds, where one over a megabyte cost tens of
	// milliseconds. A request with a longer field is ErrInvalid, whether
	// or not a condition would read it, so that a request's validity
	// never depends on the policies the store holds; the check costs one
	// length comparison per field on every check.
	MaxRequestField = 1024

	// MaxFileSize bounds a world or policy file given to LoadFile or
	// Load, in bytes. A Scaleway organization's world file is kilobytes;
	// a world of 100,000 principals and as many policies is about 82 MB;
	// 256 MiB is three times that. LoadFile reads no more than the bound.
	MaxFileSize = 256 << 20
)

// runesOver reports whether s has more than n runes, without counting
// the runes of a string too long in bytes to fit in any case.
func runesOver(s string, n int) bool {
	return len(s) > n && (len(s) > n*utf8.UTFMax || utf8.RuneCountInString(s) > n)
}

// clip shortens a value over the limits for an error message: its first
// 64 bytes (cut at a character boundary) and its length, so that an
// oversized input never makes an error message as large as itself.
func clip(s string) string {
	const keep = 64
	if len(s) <= 4*keep {
		return s
	}
	n := keep
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "… (" + strconv.Itoa(len(s)) + " bytes)"
}
