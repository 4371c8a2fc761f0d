// Package suggest finds the "did you mean" candidate for a misspelt name.
package suggest

import (
	"strings"
	"unicode/utf8"
)

// MaxLength is the length in bytes past which Closest suggests nothing:
// no name worth suggesting is that long, and an edit distance costs the
// product of the two lengths.
const MaxLength = 1024

// Closest returns the candidate nearest to s by edit distance, ignoring
// case, or "" when none is within a third of s's length (at least 2
// edits). Ties go to the earliest candidate; s itself is never suggested.
// A candidate whose length differs from s's by more than that is skipped
// unmeasured, and an s or candidate longer than MaxLength bytes is never
// measured, so the work is bounded whatever the input.
func Closest(s string, candidates []string) string {
	if len(s) > MaxLength {
		return ""
	}
	best, bestD := "", -1
	limit := max(2, utf8.RuneCountInString(s)/3)
	ls := strings.ToLower(s)
	n := utf8.RuneCountInString(ls)
	for _, c := range candidates {
		if c == "" || c == s || len(c) > MaxLength {
			continue
		}
		lc := strings.ToLower(c)
		if m := utf8.RuneCountInString(lc); m-n > limit || n-m > limit {
			continue // the distance is at least the difference in length
		}
		d := Distance(ls, lc)
		if d <= limit && (bestD < 0 || d < bestD) {
			best, bestD = c, d
		}
	}
	return best
}

// Distance is the Levenshtein distance between a and b, in runes.
func Distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
