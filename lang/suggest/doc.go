// Package suggest finds the name a person most likely meant when they wrote a
// name that does not exist: the "did you mean" of every diagnostic.
//
// It compares by edit distance (insertions, deletions, substitutions and
// transpositions of adjacent characters) and only proposes a candidate that is
// close enough to be a plausible typo, so that a wrong name never gets a
// misleading suggestion.
package suggest
