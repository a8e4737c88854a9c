package suggest

import (
	"fmt"
	"strings"
)

// Closest returns the candidate nearest to name, or "" when none is close.
// Ties go to the earlier candidate, so results are stable.
func Closest(name string, candidates []string) string {
	best, bestDist := "", -1
	limit := maxDistance(name)
	for _, c := range candidates {
		if c == name {
			continue
		}
		d := distance(strings.ToLower(name), strings.ToLower(c))
		if d <= limit && (bestDist < 0 || d < bestDist) {
			best, bestDist = c, d
		}
	}
	return best
}

// Hint returns ` Did you mean "x"?` when a candidate is close to name; else,
// when list is not empty, list followed by the candidates; else "".
func Hint(name string, candidates []string, list string) string {
	if c := Closest(name, candidates); c != "" {
		return fmt.Sprintf(" Did you mean %q?", c)
	}
	if list == "" || len(candidates) == 0 {
		return ""
	}
	return " " + list + strings.Join(candidates, ", ") + "."
}

// maxDistance allows one edit for short names and about one in three for
// longer ones.
func maxDistance(name string) int {
	n := len([]rune(name))
	switch {
	case n <= 2:
		return 0
	case n <= 4:
		return 1
	default:
		return max(2, n/3)
	}
}

// distance is the optimal-string-alignment distance between a and b.
func distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev2 := make([]int, len(rb)+1)
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
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}
