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
// An unknown kind scores as a mean.
func Score(kind string, values []float64) float64 {
	if len(values) == 0 {
		return 0
	}
	n := float64(len(values))
	switch kind {
	case NPS:
		var pro, det float64
		for _, v := range values {
			switch {
			case v >= 9:
				pro++
			case v <= 6:
				det++
			}
		}
		return 100 * (pro - det) / n
	case CSAT:
		var sat float64
		for _, v := range values {
			if v >= 4 {
				sat++
			}
		}
		return 100 * sat / n
	default:
		var sum float64
		for _, v := range values {
			sum += v
		}
		return sum / n
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
