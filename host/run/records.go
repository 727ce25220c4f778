package run

import (
	"encoding/json"

	"bohost/host/worker"
)

// Trial is one line of trials.jsonl (docs/rundir.md): one finished
// evaluation attempt.
type Trial struct {
	Trial     int `json:"trial"` // 0-based line number
	Iteration int `json:"iteration"`
	// Candidate is the index of the evaluation among its iteration's (the
	// initial design's points, the W set's w's in all_w mode; 0 in pair
	// mode). Absent in lines written before asynchronous runs.
	Candidate int                `json:"candidate"`
	Time      string             `json:"time"`
	ElapsedS  float64            `json:"elapsed_s"`
	X         map[string]float64 `json:"x"`
	XVec      []float64          `json:"x_vec"`
	W         []float64          `json:"w"`
	EnvIndex  int                `json:"env_index"` // -1 for continuous w
	EnvID     string             `json:"env_id,omitempty"`
	Status    string             `json:"status"`
	Y         *float64           `json:"y"`
	Told      *float64           `json:"told"`
	// Tell is what the optimiser was told: "ok", "worst", "skip", or "retry"
	// (not told: the candidate was evaluated again).
	Tell         string         `json:"tell"`
	Attempt      int            `json:"attempt"` // 1-based
	Score        map[string]any `json:"score"`
	Seconds      float64        `json:"seconds"`
	Worker       int            `json:"worker"`
	PID          int            `json:"pid,omitempty"`
	PeakRSSBytes int64          `json:"peak_rss_bytes"`
	Error        *string        `json:"error"`
	ErrorKind    string         `json:"error_kind,omitempty"`
	Death        *worker.Death  `json:"death"`
}

// Iteration is one line of iterations.jsonl.
type Iteration struct {
	Iteration        int                `json:"iteration"`
	Time             string             `json:"time"`
	ElapsedS         float64            `json:"elapsed_s"`
	NTrials          int                `json:"n_trials"`
	RecommendedX     map[string]float64 `json:"recommended_x"`
	RecommendedXVec  []float64          `json:"recommended_x_vec"`
	PosteriorCVaR    *float64           `json:"posterior_cvar"`
	PosteriorMean    *float64           `json:"posterior_mean"`
	BestObservedCVaR *float64           `json:"best_observed_cvar"`
	AcqValue         *float64           `json:"acq_value"`
	FitS             float64            `json:"fit_s"`
	AcqS             float64            `json:"acq_s"`
	RecommendError   string             `json:"recommend_error,omitempty"`
}

// Event is one line of events.jsonl.
type Event struct {
	Time     string         `json:"time"`
	ElapsedS float64        `json:"elapsed_s"`
	Event    string         `json:"event"`
	Msg      string         `json:"msg"`
	Death    *worker.Death  `json:"death,omitempty"`
	Extra    map[string]any `json:"extra,omitempty"`
}

// Summary is summary.json.
type Summary struct {
	Status           string             `json:"status"` // finished | interrupted | failed
	Reason           string             `json:"reason"`
	Iterations       int                `json:"iterations"`
	Trials           int                `json:"trials"`
	Alpha            float64            `json:"alpha"`
	Convention       string             `json:"convention"`
	NW               int                `json:"n_w"`
	Seed             uint64             `json:"seed"`
	Acquisition      string             `json:"acquisition"`
	RecommendedX     map[string]float64 `json:"recommended_x"`
	RecommendedXVec  []float64          `json:"recommended_x_vec"`
	PosteriorCVaR    *float64           `json:"posterior_cvar"`
	BestObservedCVaR *float64           `json:"best_observed_cvar"`
	FinalEval        *FinalEval         `json:"final_eval"`
	Failures         map[string]int     `json:"failures"`
	WallS            float64            `json:"wall_s"`
	PeakRSSBytes     int64              `json:"peak_rss_bytes"`
	Sessions         int                `json:"sessions"`
	Dir              string             `json:"dir"`
}

// FinalEval scores the recommended x on every environment (airline).
type FinalEval struct {
	EnvIDs []string   `json:"env_ids"`
	Scores []*float64 `json:"scores"` // null where the evaluation failed
	CVaR   *float64   `json:"cvar"`
	Mean   *float64   `json:"mean"`
	Best   *EnvImage  `json:"best"`
	Worst  *EnvImage  `json:"worst"`
	Failed int        `json:"failed"`
}

// EnvImage is the best or worst environment of the final evaluation.
type EnvImage struct {
	EnvID string       `json:"env_id"`
	Image string       `json:"image"`
	Score float64      `json:"score"`
	Lines [][4]float64 `json:"lines"`
	GT    [][4]float64 `json:"gt"`
}

// configFile is config.json.
type configFile struct {
	Format        int    `json:"format"`
	BohostVersion string `json:"bohost_version"`
	// A summary of the optimiser for readers (host/report, pandas); the
	// complete bo.Config is Config's "optimizer".
	Space       []spaceDim `json:"space"`
	Env         envDesc    `json:"env"`
	Alpha       float64    `json:"alpha"`
	Convention  string     `json:"convention"`
	NW          int        `json:"n_w"`
	Acquisition string     `json:"acquisition"`
	Mode        string     `json:"mode"`
	NInitial    int        `json:"n_initial"`
	Seed        uint64     `json:"seed"`
	// Config is every option by its json tag (encoding/json flattens it:
	// "iterations", "objective", "optimizer", ...), and what ReadConfig
	// returns.
	Config
}

type spaceDim struct {
	Name  string  `json:"name"`
	Lo    float64 `json:"lo"`
	Hi    float64 `json:"hi"`
	Scale string  `json:"scale"`
}

type envDesc struct {
	Kind   string       `json:"kind"` // "list" or "box"
	N      int          `json:"n,omitempty"`
	IDs    []string     `json:"ids,omitempty"`
	Bounds [][2]float64 `json:"bounds,omitempty"`
	Select string       `json:"select"`
}

// fingerprint is what a resume must find unchanged (besides script and data).
type fingerprint struct {
	Optimizer     json.RawMessage `json:"optimizer"`
	Objective     json.RawMessage `json:"objective"`
	OnFailure     string          `json:"on_failure"`
	Retries       int             `json:"retries"`
	RetryFallback string          `json:"retry_fallback"`
	InFlight      int             `json:"in_flight,omitempty"` // only when > 1: older runs keep their fingerprint
	Schedule      string          `json:"schedule,omitempty"`  // only when interleave: older runs keep their fingerprint
}
