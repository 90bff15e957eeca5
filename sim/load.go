package sim

import (
	"math"
	"math/rand/v2"
	"time"
)

// RNG streams: each concern draws from its own PCG stream so that adding draws in one
// place (a new emitter, a new event) does not reshuffle everything else.
const (
	streamBuild uint64 = iota + 1
	streamLoad
	streamTraffic
	streamUsage
	streamNames
	streamTelemetry
	streamBilling
)

func newRand(seed int64, stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(seed), stream*0x9e3779b97f4a7c15))
}

// studentT3 draws a Student-t variate with 3 degrees of freedom scaled to unit
// variance: heavy tails (infinite kurtosis in theory) without extreme outliers that
// would dominate every chart.
func studentT3(r *rand.Rand) float64 {
	z := r.NormFloat64()
	chi := 0.0
	for range 3 {
		n := r.NormFloat64()
		chi += n * n
	}
	return z / math.Sqrt(chi/3) / math.Sqrt(3)
}

// poisson draws a Poisson count; above 30 the normal approximation is close enough
// and keeps the cost constant.
func poisson(r *rand.Rand, lambda float64) float64 {
	switch {
	case lambda <= 0:
		return 0
	case lambda > 30:
		return math.Max(0, math.Round(lambda+math.Sqrt(lambda)*r.NormFloat64()))
	}
	limit, k, p := math.Exp(-lambda), 0.0, r.Float64()
	for p > limit {
		k++
		p *= r.Float64()
	}
	return k
}

func normCDF(x float64) float64 { return 0.5 * math.Erfc(-x/math.Sqrt2) }

// diurnal is the deterministic shape of user traffic: a daily cycle peaking in the
// afternoon (UTC), a smaller second harmonic, and quieter weekends.
func diurnal(t time.Time) float64 {
	h := float64(t.Hour()) + float64(t.Minute())/60 + float64(t.Second())/3600
	phase := 2 * math.Pi * (h - 9) / 24
	f := 1 + 0.35*math.Sin(phase) + 0.08*math.Sin(2*phase)
	if wd := t.Weekday(); wd == time.Saturday || wd == time.Sunday {
		f *= 0.7
	}
	return f
}

// noiseProcess is a log-space AR(1) process with Student-t shocks: load that wanders
// and sometimes jumps, the way request rates do.
type noiseProcess struct {
	phi, sigma float64
	x          float64
	r          *rand.Rand
	// lastShock is the innovation of the latest step, kept for statistical tests.
	lastShock float64
}

func newNoiseProcess(r *rand.Rand, phi, sigma float64) *noiseProcess {
	p := &noiseProcess{phi: phi, sigma: sigma, r: r}
	p.x = sigma * studentT3(r)
	return p
}

// next advances one step and returns a multiplicative factor with mean about 1.
func (p *noiseProcess) next() float64 {
	p.lastShock = studentT3(p.r)
	p.x = p.phi*p.x + math.Sqrt(1-p.phi*p.phi)*p.sigma*p.lastShock
	// Clamp so a single extreme shock cannot produce absurd traffic.
	x := math.Max(-4*p.sigma, math.Min(4*p.sigma, p.x))
	return math.Exp(x - p.sigma*p.sigma/2)
}
