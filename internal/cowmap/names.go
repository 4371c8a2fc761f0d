package cowmap

// Names is an immutable table from a small, fixed set of names (such as a
// catalogue's permission sets) to int32, built once. Its hash reads at most
// sixteen bytes of the key, so a lookup costs a few nanoseconds; keys are
// always compared whole. The table is built for its own keys, so a hostile
// key cannot slow it beyond a scan of one probe run.
type Names struct {
	slots []nameSlot
	shift uint
}

type nameSlot struct {
	key string
	val int32
}

// load8 reads 8 bytes of s from i (little endian); i+8 <= len(s).
func load8(s string, i int) uint64 {
	_ = s[i+7]
	return uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
		uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
}

func nameHash(s string) uint64 {
	n := len(s)
	var h uint64
	if n >= 8 {
		h = load8(s, 0)*0x9E3779B97F4A7C15 ^ load8(s, n-8)*0xC2B2AE3D27D4EB4F
	} else {
		for i := 0; i < n; i++ {
			h = h<<8 | uint64(s[i])
		}
		h *= 0x9E3779B97F4A7C15
	}
	h ^= uint64(n) * 0x165667B19E3779F9
	return h ^ h>>29
}

// NewNames builds a Names table of m.
func NewNames(m map[string]int32) Names {
	size, shift := 1, uint(64)
	for size < 4*len(m) {
		size <<= 1
		shift--
	}
	t := Names{slots: make([]nameSlot, size), shift: shift}
	for k, v := range m {
		i := t.start(k)
		for t.slots[i].key != "" {
			i = (i + 1) & (len(t.slots) - 1)
		}
		t.slots[i] = nameSlot{key: k, val: v}
	}
	return t
}

func (t Names) start(key string) int {
	if t.shift >= 64 {
		return 0
	}
	return int(nameHash(key) >> t.shift)
}

// Get returns the value for key; keys are never empty.
func (t Names) Get(key string) (int32, bool) {
	if len(t.slots) == 0 || key == "" {
		return 0, false
	}
	mask := len(t.slots) - 1
	for i := t.start(key); ; i = (i + 1) & mask {
		s := &t.slots[i]
		if s.key == key {
			return s.val, true
		}
		if s.key == "" {
			return 0, false
		}
	}
}
