package timespec

import (
	"strings"
	"unicode/utf8"
)

// closest returns the candidate nearest to word, ignoring case, if it is near
// enough to be what the writer meant: within maxDist edits, and strictly
// nearer than any other candidate, so that a suggestion is never a coin toss.
func closest(word string, candidates []string, maxDist int) (string, bool) {
	word = strings.ToLower(word)
	best, bestDist, tie := "", maxDist+1, false
	for _, c := range candidates {
		// The limit is one past the best so far, so that an equal distance is
		// seen for what it is: a tie.
		d := editDistance(word, strings.ToLower(c), bestDist+1)
		switch {
		case d < bestDist:
			best, bestDist, tie = c, d, false
		case d == bestDist && best != "" && !strings.EqualFold(c, best):
			tie = true
		}
	}
	if best == "" || tie {
		return "", false
	}
	return best, true
}

// editDistance is the Levenshtein distance between a and b, counted in runes.
// Once the distance is known to be at least limit it stops and returns limit,
// which keeps comparing a long string against many candidates cheap.
func editDistance(a, b string, limit int) int {
	ra, rb := []rune(a), []rune(b)
	if n := len(ra) - len(rb); n >= limit || -n >= limit {
		return limit
	}
	prev := make([]int, len(rb)+1)
	curr := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		curr[0] = i
		rowMin := curr[0]
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			curr[j] = min(prev[j]+1, curr[j-1]+1, prev[j-1]+cost)
			rowMin = min(rowMin, curr[j])
		}
		if rowMin >= limit {
			return limit
		}
		prev, curr = curr, prev
	}
	return min(prev[len(rb)], limit)
}

// runeLen is the number of runes in s.
func runeLen(s string) int { return utf8.RuneCountInString(s) }
