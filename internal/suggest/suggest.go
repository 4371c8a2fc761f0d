// Package suggest finds the "did you mean" candidate for a misspelt name.
package suggest

import (
	"strings"
	"unicode/utf8"
)

// Closest returns the candidate nearest to s by edit distance, ignoring
// case, or "" when none is within a third of s's length (at least 2
// edits). Ties go to the earliest candidate; s itself is never suggested.
func Closest(s string, candidates []string) string {
	best, bestD := "", -1
	limit := max(2, utf8.RuneCountInString(s)/3)
	ls := strings.ToLower(s)
	for _, c := range candidates {
		if c == "" || c == s {
			continue
		}
		d := Distance(ls, strings.ToLower(c))
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
