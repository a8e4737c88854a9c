package engine

// The split function. It is part of the language's contract: a customer who
// landed in a variant lands in it again on every replay, on every node, in
// every version of Waymark. Never change it.
//
//  1. h = FNV-1a 64 (offset basis 0xcbf29ce484222325, prime 0x100000001b3)
//     over the bytes of customerID, 0x00, journey name, 0x00, stage name.
//  2. h = fmix64(h), MurmurHash3's finaliser:
//     h ^= h>>33; h *= 0xff51afd7ed558ccd; h ^= h>>33;
//     h *= 0xc4ceb9fe1a85ec53; h ^= h>>33.
//     FNV-1a alone leaves the low bits poorly mixed for ids that differ
//     only in their last characters, and the modulus below reads low bits.
//  3. x = h mod W, where W is the sum of the variants' weights.
//  4. The variant is the first, in source order, whose cumulative weight
//     exceeds x.
//
// Changing a variant's weight therefore moves only customers near the
// boundaries it shifts; renaming a variant moves nobody.

const (
	fnvOffset = 0xcbf29ce484222325
	fnvPrime  = 0x100000001b3
)

// splitHash is steps 1 and 2 above.
func splitHash(customer, journey, stage string) uint64 {
	h := uint64(fnvOffset)
	add := func(s string) {
		for i := 0; i < len(s); i++ {
			h ^= uint64(s[i])
			h *= fnvPrime
		}
	}
	add(customer)
	h ^= 0
	h *= fnvPrime
	add(journey)
	h ^= 0
	h *= fnvPrime
	add(stage)
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return h
}

// pick chooses the split's variant for a customer (steps 3 and 4), as
// Variant does.
func (st *stage) pick(customer, journey string) *variant {
	x := splitHash(customer, journey, st.name) % st.total
	for k := range st.variants {
		v := &st.variants[k]
		if x < v.weight {
			return v
		}
		x -= v.weight
	}
	return &st.variants[len(st.variants)-1] // not reached: x < total
}

// Variant returns the index of the variant, among variants with the given
// integer weights in source order, that the split puts a customer in: the
// same function the engine runs. Tools use it (a scenario test's author
// picking a customer id for each variant, an editor showing where a
// customer lands). It returns -1 when a weight is not positive.
func Variant(customerID, journey, stage string, weights []int) int {
	var total uint64
	for _, w := range weights {
		if w <= 0 {
			return -1
		}
		total += uint64(w)
	}
	if total == 0 {
		return -1
	}
	x := splitHash(customerID, journey, stage) % total
	for i, w := range weights {
		if x < uint64(w) {
			return i
		}
		x -= uint64(w)
	}
	return len(weights) - 1
}
