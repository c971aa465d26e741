package chat

import "slices"

// Pages of names (who, the API's online list) are cut from a map held
// under a lock: the names after the cursor are copied under it
// (namesAfter), then sorted and cut outside it (firstPage).

// namesAfter returns the keys of m greater than after. The caller holds
// the lock that guards m.
func namesAfter[V any](m map[string]V, after string, limit int) []string {
	names := make([]string, 0, min(len(m), limit+1))
	for n := range m {
		if n > after {
			names = append(names, n)
		}
	}
	return names
}

// firstPage sorts names and returns the first limit of them, and whether
// more follow.
func firstPage(names []string, limit int) ([]string, bool) {
	slices.Sort(names)
	if len(names) > limit {
		return names[:limit], true
	}
	return names, false
}
