package gp

import (
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/stat/distuv"
)

// dist is a prior on a positive hyper-parameter value x (density in x, as in
// GPyTorch: the MAP objective adds log p(x) without a Jacobian term).
type dist interface {
	logPDF(x float64) float64
	dLogPDF(x float64) float64 // d log p / dx
	sample(r *rand.Rand) float64
	mode() float64
}

type logNormal struct{ mu, sigma float64 }

func (p logNormal) logPDF(x float64) float64 {
	z := (math.Log(x) - p.mu) / p.sigma
	return -math.Log(x) - math.Log(p.sigma) - 0.5*math.Log(2*math.Pi) - 0.5*z*z
}

func (p logNormal) dLogPDF(x float64) float64 {
	return -(1 + (math.Log(x)-p.mu)/(p.sigma*p.sigma)) / x
}

func (p logNormal) sample(r *rand.Rand) float64 { return math.Exp(p.mu + p.sigma*r.NormFloat64()) }
func (p logNormal) mode() float64               { return math.Exp(p.mu - p.sigma*p.sigma) }

// gamma is Gamma(shape a, rate b).
type gamma struct{ a, b float64 }

func (p gamma) logPDF(x float64) float64 {
	lg, _ := math.Lgamma(p.a)
	return p.a*math.Log(p.b) - lg + (p.a-1)*math.Log(x) - p.b*x
}

func (p gamma) dLogPDF(x float64) float64 { return (p.a-1)/x - p.b }

func (p gamma) sample(r *rand.Rand) float64 {
	return distuv.Gamma{Alpha: p.a, Beta: p.b, Src: r}.Rand()
}

func (p gamma) mode() float64 { return math.Max(p.a-1, 0) / p.b }

// logUniform is the start distribution used without priors (not a prior: its
// log density is constant and does not enter the objective).
type logUniform struct{ lo, hi, mid float64 }

func (p logUniform) logPDF(float64) float64  { return 0 }
func (p logUniform) dLogPDF(float64) float64 { return 0 }
func (p logUniform) sample(r *rand.Rand) float64 {
	return math.Exp(math.Log(p.lo) + r.Float64()*(math.Log(p.hi)-math.Log(p.lo)))
}
func (p logUniform) mode() float64 { return p.mid }

// priorSet holds the priors (or start distributions) of one prior choice.
type priorSet struct {
	ls, os, noise dist
	learnOS       bool
	flat          bool // no prior terms in the objective (PriorNone)
}

func makePriors(p Prior, d int) priorSet {
	switch p {
	case PriorGamma:
		return priorSet{ls: gamma{3, 6}, os: gamma{2, 0.15}, noise: gamma{1.1, 0.05}, learnOS: true}
	case PriorNone:
		return priorSet{
			ls:      logUniform{0.05, 20, 1},
			os:      logUniform{0.1, 10, 1},
			noise:   logUniform{1e-4, 0.5, 1e-2},
			learnOS: true, flat: true,
		}
	default: // PriorDimScaled
		return priorSet{
			ls:    logNormal{math.Sqrt2 + 0.5*math.Log(float64(d)), math.Sqrt(3)},
			noise: logNormal{-4, 1},
		}
	}
}
