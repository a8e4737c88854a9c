package stats

import (
	"math"
	"sort"
)

// Z95 is the two-sided 95% standard normal quantile.
const Z95 = 1.959963984540054

// Alpha is the family-wise significance level of an experiment's verdict.
const Alpha = 0.05

// Verdicts of a variant against the baseline arm.
const (
	Inconclusive = "inconclusive" // too few customers for the normal approximation
	Better       = "better"       // converts more, significant after Bonferroni
	Worse        = "worse"        // converts less, significant after Bonferroni
	NoDifference = "no_difference"
)

// Rate is converted/assigned, 0 for an empty arm.
func Rate(converted, assigned int) float64 {
	if assigned <= 0 {
		return 0
	}
	return float64(converted) / float64(assigned)
}

// TwoProportionPValue is the two-sided p-value of the pooled two-proportion
// z-test of x1/n1 against x2/n2. It is 1 when the test is undefined (an
// empty arm, or a pooled rate of 0 or 1: no variance, no evidence).
func TwoProportionPValue(x1, n1, x2, n2 int) float64 {
	if n1 <= 0 || n2 <= 0 {
		return 1
	}
	p := float64(x1+x2) / float64(n1+n2)
	se := math.Sqrt(p * (1 - p) * (1/float64(n1) + 1/float64(n2)))
	if se == 0 {
		return 1
	}
	z := (Rate(x1, n1) - Rate(x2, n2)) / se
	return math.Erfc(math.Abs(z) / math.Sqrt2)
}

// Lift is the absolute difference of rates x1/n1 − x2/n2 with its 95% Wald
// interval (unpooled standard error). The Wald interval is the one the
// z-test's normal approximation already assumes; the verdict rule keeps it
// to arms large enough for it.
func Lift(x1, n1, x2, n2 int) (lift, low, high float64) {
	p1, p2 := Rate(x1, n1), Rate(x2, n2)
	lift = p1 - p2
	if n1 <= 0 || n2 <= 0 {
		return lift, lift, lift
	}
	se := math.Sqrt(p1*(1-p1)/float64(n1) + p2*(1-p2)/float64(n2))
	return lift, lift - Z95*se, lift + Z95*se
}

// Bonferroni multiplies a p-value by the number of comparisons m, capped
// at 1.
func Bonferroni(p float64, m int) float64 {
	if m > 1 {
		p *= float64(m)
	}
	return math.Min(p, 1)
}

// Enough says whether an arm is large enough for the normal approximation:
// at least 100 assigned and np ≥ 5 and n(1−p) ≥ 5, with p its observed rate.
func Enough(converted, assigned int) bool {
	return assigned >= 100 && converted >= 5 && assigned-converted >= 5
}

// Verdict decides a variant (x1/n1) against the baseline (x2/n2) given its
// Bonferroni-adjusted p-value: inconclusive unless both arms are Enough.
func Verdict(x1, n1, x2, n2 int, adjustedP float64) string {
	switch {
	case !Enough(x1, n1) || !Enough(x2, n2):
		return Inconclusive
	case adjustedP >= Alpha:
		return NoDifference
	case Rate(x1, n1) > Rate(x2, n2):
		return Better
	default:
		return Worse
	}
}

// SampleRatio is the chi-square goodness-of-fit test of the arms' assigned
// counts against their weights: the statistic and its p-value (k−1 degrees
// of freedom). A small p-value (the usual alarm is below 0.001) says the
// split did not assign as designed, and its results are not to be trusted.
// Arms of weight 0 are left out; with fewer than two arms or no customers
// the p-value is 1.
func SampleRatio(assigned []int, weights []float64) (chi2, p float64) {
	var n int
	var w float64
	k := 0
	for i := range assigned {
		if i < len(weights) && weights[i] > 0 {
			n += assigned[i]
			w += weights[i]
			k++
		}
	}
	if k < 2 || n == 0 {
		return 0, 1
	}
	for i := range assigned {
		if i >= len(weights) || weights[i] <= 0 {
			continue
		}
		e := float64(n) * weights[i] / w
		d := float64(assigned[i]) - e
		chi2 += d * d / e
	}
	return chi2, ChiSquareSurvival(chi2, k-1)
}

// ChiSquareSurvival is P(X ≥ x) for X chi-square with df degrees of
// freedom: the regularized upper incomplete gamma Q(df/2, x/2).
func ChiSquareSurvival(x float64, df int) float64 {
	if x <= 0 || df <= 0 {
		return 1
	}
	return gammaQ(float64(df)/2, x/2)
}

// gammaQ is the regularized upper incomplete gamma function, by its power
// series below a+1 and its continued fraction (modified Lentz) above.
func gammaQ(a, x float64) float64 {
	lg, _ := math.Lgamma(a)
	front := math.Exp(-x + a*math.Log(x) - lg)
	if x < a+1 {
		sum, term := 1/a, 1/a
		for n := 1; n < 1000; n++ {
			term *= x / (a + float64(n))
			sum += term
			if math.Abs(term) < math.Abs(sum)*1e-15 {
				break
			}
		}
		return math.Max(0, 1-front*sum)
	}
	const tiny = 1e-300
	b := x + 1 - a
	c := 1 / tiny
	d := 1 / b
	h := d
	for i := 1; i < 1000; i++ {
		an := -float64(i) * (float64(i) - a)
		b += 2
		d = an*d + b
		if math.Abs(d) < tiny {
			d = tiny
		}
		c = b + an/c
		if math.Abs(c) < tiny {
			c = tiny
		}
		d = 1 / d
		del := d * c
		h *= del
		if math.Abs(del-1) < 1e-15 {
			break
		}
	}
	return front * h
}

// Metric kinds (the `kind` of a metric block).
const (
	NPS  = "nps"
	CSAT = "csat"
	CES  = "ces"
	Mean = "mean"
)

// Score computes a metric of kind over its responses; 0 without any.
//   - nps: responses on 0–10; % promoters (9–10) − % detractors (0–6),
//     from −100 to 100.
//   - csat: responses on 1–5; % satisfied (4 or 5).
//   - ces and mean: the arithmetic mean.
//
// An unknown kind scores as a mean. It is Responses.Score of the values
// added one by one: the analytics tallies keep only those counts, and the
// two cannot disagree.
func Score(kind string, values []float64) float64 {
	var r Responses
	for _, v := range values {
		r.Add(v)
	}
	return r.Score(kind)
}

// Responses are the sufficient statistics of a metric's score: how many
// responses, how many were promoters (9 or more), detractors (6 or less)
// and satisfied (4 or more), and the sum of their values. Sums of
// Responses are Responses of the union.
type Responses struct {
	N, Promoters, Detractors, Satisfied int64
	Sum                                 float64
}

// Add counts one response of value v.
func (r *Responses) Add(v float64) {
	r.N++
	r.Sum += v
	if IsPromoter(v) {
		r.Promoters++
	}
	if IsDetractor(v) {
		r.Detractors++
	}
	if IsSatisfied(v) {
		r.Satisfied++
	}
}

// Plus is the Responses of both r's responses and o's.
func (r Responses) Plus(o Responses) Responses {
	return Responses{N: r.N + o.N, Promoters: r.Promoters + o.Promoters, Detractors: r.Detractors + o.Detractors,
		Satisfied: r.Satisfied + o.Satisfied, Sum: r.Sum + o.Sum}
}

// IsPromoter, IsDetractor and IsSatisfied classify one response value
// (NPS's 9–10 and 0–6, CSAT's 4–5).
func IsPromoter(v float64) bool  { return v >= 9 }
func IsDetractor(v float64) bool { return v <= 6 }
func IsSatisfied(v float64) bool { return v >= 4 }

// Score is the metric of kind over the responses counted (see Score); 0
// without any.
func (r Responses) Score(kind string) float64 {
	if r.N == 0 {
		return 0
	}
	n := float64(r.N)
	switch kind {
	case NPS:
		return 100 * float64(r.Promoters-r.Detractors) / n
	case CSAT:
		return 100 * float64(r.Satisfied) / n
	default:
		return r.Sum / n
	}
}

// Quantile is the q-quantile (0 ≤ q ≤ 1) of values by the nearest-rank
// method: the smallest value with at least q of the values at or below it,
// so it is always one of the values (a duration someone really had). It
// sorts values in place; 0 for none.
func Quantile(values []float64, q float64) float64 {
	if len(values) == 0 {
		return 0
	}
	sort.Float64s(values)
	r := int(math.Ceil(q * float64(len(values))))
	if r < 1 {
		r = 1
	}
	if r > len(values) {
		r = len(values)
	}
	return values[r-1]
}

// Durations are kept as a histogram by the analytics tallies: DurationBucket
// names the bucket of a duration, BucketValue the duration a bucket stands
// for. A duration under a second is rounded to the millisecond, a longer
// one to three significant digits of its milliseconds (half up): the value
// a bucket stands for is within 0.5% of every duration in it (relative
// error under 1%), or within half a millisecond below 0.1 s. Zero, every whole millisecond under a second, every
// hundredth of a second under 10 s and every whole second under 1,000 s
// are exact. Buckets grow with the durations they hold, so their order is
// the order of the values.
//
// Bucket b < 1000 holds b ms; above, b = 1000 + 900*(e-1) + (m-100) holds
// m × 10^e ms (m = 100..999, e ≥ 1).
func DurationBucket(seconds float64) int {
	if !(seconds > 0) { // also NaN
		return 0
	}
	x := min(seconds*1000, 1e15) // milliseconds; beyond 31,000 years, one bucket
	if x < 999.5 {
		return int(math.Round(x))
	}
	// Rounded once, from the value itself: rounding to the millisecond
	// first would add a second error to the bound.
	e := int(math.Floor(math.Log10(x))) - 2
	p := math.Pow10(e)
	if x/p >= 1000 { // Log10 a hair low
		e, p = e+1, p*10
	} else if x/p < 100 { // or high
		e, p = e-1, p/10
	}
	m := int(math.Round(x / p)) // half away from zero: half up, here
	if m == 1000 {
		m, e = 100, e+1
	}
	return 1000 + 900*(e-1) + m - 100
}

// BucketValue is the duration, in seconds, that bucket b stands for (see
// DurationBucket); 0 for a negative b.
func BucketValue(b int) float64 {
	switch {
	case b <= 0:
		return 0
	case b < 1000:
		return float64(b) / 1000
	}
	e, m := (b-1000)/900+1, (b-1000)%900+100
	return float64(m) * math.Pow10(e) / 1000
}

// HistogramQuantile is Quantile over a histogram of durations: counts by
// bucket (DurationBucket). It is the value of the bucket holding the
// nearest-rank q-quantile, so it is within DurationBucket's bound of
// Quantile over the durations themselves; 0 for an empty histogram.
func HistogramQuantile(counts map[int]int64, q float64) float64 {
	var n int64
	buckets := make([]int, 0, len(counts))
	for b, c := range counts {
		if c > 0 {
			n += c
			buckets = append(buckets, b)
		}
	}
	if n == 0 {
		return 0
	}
	sort.Ints(buckets)
	r := int64(math.Ceil(q * float64(n)))
	r = max(1, min(r, n))
	var seen int64
	for _, b := range buckets {
		seen += counts[b]
		if seen >= r {
			return BucketValue(b)
		}
	}
	return BucketValue(buckets[len(buckets)-1])
}
