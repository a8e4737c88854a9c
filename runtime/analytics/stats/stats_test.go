package stats

import (
	"math"
	"math/rand/v2"
	"testing"
)

func near(got, want, tol float64) bool { return math.Abs(got-want) <= tol }

// 45/100 against 30/100, worked by hand: pooled p = 75/200 = 0.375,
// se = √(0.375·0.625·(1/100+1/100)) = 0.0684653, z = 0.15/se = 2.190890,
// two-sided p = erfc(z/√2) = 0.0284597.
func TestTwoProportionPValue(t *testing.T) {
	tests := []struct {
		name           string
		x1, n1, x2, n2 int
		want           float64
	}{
		{"45/100 vs 30/100 (by hand)", 45, 100, 30, 100, 0.0284597},
		{"symmetric", 30, 100, 45, 100, 0.0284597},
		{"equal rates", 10, 100, 20, 200, 1},
		{"empty arm", 0, 0, 5, 100, 1},
		{"no variance", 0, 100, 0, 100, 1},
		{"all converted", 50, 50, 80, 80, 1},
	}
	for _, tt := range tests {
		if got := TwoProportionPValue(tt.x1, tt.n1, tt.x2, tt.n2); !near(got, tt.want, 1e-6) {
			t.Errorf("%s: p = %.7f, want %.7f", tt.name, got, tt.want)
		}
	}
}

// Wald interval of 0.45 − 0.30, by hand: se = √(0.45·0.55/100 + 0.30·0.70/100)
// = 0.0676387, half-width 1.959964·se = 0.1325695.
func TestLift(t *testing.T) {
	lift, lo, hi := Lift(45, 100, 30, 100)
	if !near(lift, 0.15, 1e-12) || !near(lo, 0.0174305, 1e-6) || !near(hi, 0.2825695, 1e-6) {
		t.Errorf("Lift(45/100, 30/100) = %.7f [%.7f, %.7f], want 0.15 [0.0174305, 0.2825695]", lift, lo, hi)
	}
	lift, lo, hi = Lift(0, 0, 3, 10)
	if lift != -0.3 || lo != lift || hi != lift {
		t.Errorf("Lift with an empty arm = %v [%v, %v], want a point -0.3", lift, lo, hi)
	}
}

func TestBonferroni(t *testing.T) {
	for _, tt := range []struct {
		p    float64
		m    int
		want float64
	}{{0.01, 3, 0.03}, {0.4, 3, 1}, {0.02, 1, 0.02}, {0.02, 0, 0.02}} {
		if got := Bonferroni(tt.p, tt.m); !near(got, tt.want, 1e-12) {
			t.Errorf("Bonferroni(%v, %d) = %v, want %v", tt.p, tt.m, got, tt.want)
		}
	}
}

func TestVerdict(t *testing.T) {
	tests := []struct {
		name           string
		x1, n1, x2, n2 int
		p              float64
		want           string
	}{
		{"too few assigned", 60, 99, 10, 100, 0.0001, Inconclusive},
		{"too few conversions (np < 5)", 4, 1000, 40, 1000, 0.0001, Inconclusive},
		{"too few non-conversions", 196, 200, 100, 200, 0.0001, Inconclusive},
		{"baseline too small", 50, 100, 5, 99, 0.0001, Inconclusive},
		{"better", 45, 100, 30, 100, 0.0285, Better},
		{"worse", 30, 100, 45, 100, 0.0285, Worse},
		{"not significant after Bonferroni", 45, 100, 30, 100, 0.0854, NoDifference},
		{"exactly alpha is not significant", 45, 100, 30, 100, 0.05, NoDifference},
	}
	for _, tt := range tests {
		if got := Verdict(tt.x1, tt.n1, tt.x2, tt.n2, tt.p); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}

// Critical values from any chi-square table (e.g. NIST/SEMATECH e-Handbook
// of Statistical Methods, 1.3.6.7.4): the upper 5% points of 1, 2, 3 and 10
// degrees of freedom, and the upper 0.1% point of 1. With 2 degrees of
// freedom the survival function is exactly e^(−x/2).
func TestChiSquareSurvival(t *testing.T) {
	tests := []struct {
		x    float64
		df   int
		want float64
	}{
		{3.841, 1, 0.05},
		{5.991, 2, 0.05},
		{7.815, 3, 0.05},
		{18.307, 10, 0.05},
		{10.828, 1, 0.001},
		{1, 2, math.Exp(-0.5)},
		{40, 2, math.Exp(-20)},
		{0, 3, 1},
	}
	for _, tt := range tests {
		got := ChiSquareSurvival(tt.x, tt.df)
		if !near(got, tt.want, tt.want*1e-3) {
			t.Errorf("ChiSquareSurvival(%v, %d) = %.6g, want %.6g", tt.x, tt.df, got, tt.want)
		}
	}
}

// 5050 against 4950 on a 50/50 split: chi² = 2·50²/5000 = 1, p =
// P(χ²₁ ≥ 1) = erfc(1/√2) = 0.3173105. 600/400: chi² = 2·100²/500 = 40.
func TestSampleRatio(t *testing.T) {
	chi, p := SampleRatio([]int{5050, 4950}, []float64{50, 50})
	if !near(chi, 1, 1e-12) || !near(p, 0.3173105, 1e-6) {
		t.Errorf("5050/4950 at 50/50: chi2 %v p %v, want 1 and 0.3173105", chi, p)
	}
	chi, p = SampleRatio([]int{600, 400}, []float64{1, 1})
	if !near(chi, 40, 1e-9) || p > 1e-9 {
		t.Errorf("600/400 at 50/50: chi2 %v p %v, want 40 and p < 1e-9", chi, p)
	}
	// 90/10 weights met exactly: no mismatch. A weight-0 arm is ignored.
	chi, p = SampleRatio([]int{900, 100, 7}, []float64{90, 10, 0})
	if chi != 0 || p != 1 {
		t.Errorf("900/100 at 90/10: chi2 %v p %v, want 0 and 1", chi, p)
	}
	if _, p := SampleRatio([]int{10}, []float64{1}); p != 1 {
		t.Errorf("one arm: p %v, want 1", p)
	}
}

func TestScore(t *testing.T) {
	tests := []struct {
		kind   string
		values []float64
		want   float64
	}{
		// 3 promoters (10, 10, 9), 1 passive (7), 1 detractor (3) of 5:
		// 60% − 20% = 40.
		{NPS, []float64{10, 10, 9, 7, 3}, 40},
		{NPS, []float64{0, 6, 8}, -66.66666666666667},
		// 2 of 4 answer 4 or 5.
		{CSAT, []float64{5, 4, 3, 1}, 50},
		{CES, []float64{1, 2, 6}, 3},
		{Mean, []float64{2.5, 3.5}, 3},
		{NPS, nil, 0},
	}
	for _, tt := range tests {
		if got := Score(tt.kind, tt.values); !near(got, tt.want, 1e-9) {
			t.Errorf("Score(%s, %v) = %v, want %v", tt.kind, tt.values, got, tt.want)
		}
	}
}

// The nearest-rank example of Wikipedia's "Percentile" article: of
// {15, 20, 35, 40, 50} the 30th and 40th percentiles are 20, the 50th is 35,
// the 100th 50.
func TestQuantile(t *testing.T) {
	for _, tt := range []struct {
		q    float64
		want float64
	}{{0.05, 15}, {0.3, 20}, {0.4, 20}, {0.5, 35}, {0.9, 50}, {1, 50}, {0, 15}} {
		v := []float64{50, 15, 40, 20, 35}
		if got := Quantile(v, tt.q); got != tt.want {
			t.Errorf("Quantile(%v) = %v, want %v", tt.q, got, tt.want)
		}
	}
	if got := Quantile(nil, 0.5); got != 0 {
		t.Errorf("Quantile(nil) = %v, want 0", got)
	}
}

// An A/A test: both arms convert at the same 10%. Run 2,000 experiments of
// 1,000 customers an arm from a fixed seed; the z-test at 5% should call
// about 5% of them significant. The bounds are ±3 binomial standard errors
// (√(0.05·0.95/2000) = 0.0049).
func TestAAFalsePositiveRate(t *testing.T) {
	const runs, n, rate = 2000, 1000, 0.10
	rng := rand.New(rand.NewPCG(13, 2026))
	arm := func() int {
		x := 0
		for range n {
			if rng.Float64() < rate {
				x++
			}
		}
		return x
	}
	positives := 0
	for range runs {
		x1, x2 := arm(), arm()
		if Verdict(x1, n, x2, n, TwoProportionPValue(x1, n, x2, n)) != NoDifference {
			positives++
		}
	}
	fpr := float64(positives) / runs
	t.Logf("A/A false-positive rate: %.4f over %d experiments", fpr, runs)
	if fpr < 0.0353 || fpr > 0.0647 {
		t.Errorf("A/A false-positive rate %.4f, want within 0.05 ± 0.0147", fpr)
	}
}

func TestDurationBucket(t *testing.T) {
	for _, tt := range []struct {
		seconds float64
		bucket  int
		value   float64
	}{
		{0, 0, 0},
		{-5, 0, 0},         // a clock step back: no time
		{math.NaN(), 0, 0}, // nothing sensible: no time
		{0.0004, 0, 0},     // under half a millisecond
		{0.0006, 1, 0.001},
		{0.5, 500, 0.5},
		{0.999, 999, 0.999},
		{1, 1000, 1}, // whole seconds are exact...
		{7, 1600, 7},
		{59, 1000 + 900 + 490, 59},
		{999, 1000 + 1800 + 899, 999}, // ... up to 999 s
		{1.2346, 1000 + 23, 1.23},     // three significant digits of the milliseconds
		{1.2356, 1000 + 24, 1.24},
		{1.0147, 1000 + 1, 1.01}, // rounded once: 1.02 would be 0.52% off
		{9.9996, 1000 + 900, 10}, // rounds up into the next decade
		{1000, 1000 + 2700, 1000},
		{3600 + 1, 1000 + 2700 + 260, 3600},      // an hour and a second: 0.03% off
		{86400 * 30, 1000 + 6*900 + 159, 2.59e6}, // 30 days
	} {
		b := DurationBucket(tt.seconds)
		if b != tt.bucket || BucketValue(b) != tt.value {
			t.Errorf("DurationBucket(%g) = %d (%g s), want %d (%g s)", tt.seconds, b, BucketValue(b), tt.bucket, tt.value)
		}
	}
}

// The documented bound: under 0.5% (or half a millisecond), and buckets in
// the order of their values.
func TestDurationBucketBound(t *testing.T) {
	prev := -1
	for x := 0.0; x < 1e8; x = x*1.0007 + 0.0001 {
		b := DurationBucket(x)
		if b < prev {
			t.Fatalf("DurationBucket(%g) = %d, below the bucket of a smaller duration (%d)", x, b, prev)
		}
		prev = b
		if v := BucketValue(b); math.Abs(v-x) > math.Max(0.005*x, 0.0005)+1e-12 {
			t.Fatalf("DurationBucket(%g) stands for %g: beyond the bound", x, v)
		}
	}
	for s := 0; s < 1000; s++ {
		if v := BucketValue(DurationBucket(float64(s))); v != float64(s) {
			t.Fatalf("%d s stands for %g, not itself", s, v)
		}
	}
}

func TestHistogramQuantile(t *testing.T) {
	values := []float64{10, 20, 30, 40, 50, 60, 70, 80, 90, 100.4}
	h := map[int]int64{}
	for _, v := range values {
		h[DurationBucket(v)]++
	}
	for _, tt := range []struct{ q, want float64 }{{0.5, 50}, {0.9, 90}, {1, 100}, {0, 10}, {0.05, 10}} {
		if got := HistogramQuantile(h, tt.q); got != tt.want {
			t.Errorf("HistogramQuantile(q=%g) = %g, want %g", tt.q, got, tt.want)
		}
		if exact := Quantile(append([]float64(nil), values...), tt.q); math.Abs(exact-tt.want) > 0.005*exact {
			t.Errorf("q=%g: the exact quantile %g is not within the bound of %g", tt.q, exact, tt.want)
		}
	}
	if got := HistogramQuantile(map[int]int64{}, 0.5); got != 0 {
		t.Errorf("empty histogram: %g", got)
	}
	if got := HistogramQuantile(map[int]int64{5: 0, 7: -1}, 0.5); got != 0 {
		t.Errorf("a histogram that counts nothing: %g", got)
	}
}

// Score and Responses agree: Score is Responses of its values.
func TestResponsesScore(t *testing.T) {
	values := []float64{0, 6, 7, 8, 9, 10, 10, 3, 4, 5}
	var a, b Responses
	for i, v := range values {
		if i < 4 {
			a.Add(v)
		} else {
			b.Add(v)
		}
	}
	all := a.Plus(b)
	if all.N != 10 || all.Promoters != 3 || all.Detractors != 5 || all.Satisfied != 8 || all.Sum != 62 {
		t.Fatalf("Responses %+v", all)
	}
	for _, kind := range []string{NPS, CSAT, CES, Mean, "unknown"} {
		if got, want := all.Score(kind), Score(kind, values); got != want {
			t.Errorf("%s: Responses.Score %g, Score %g", kind, got, want)
		}
	}
	if got := all.Score(NPS); got != -20 {
		t.Errorf("NPS %g, want (3-5)/10 = -20", got)
	}
}
