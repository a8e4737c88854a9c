package analytics

import (
	"time"

	"github.com/waymark-dev/waymark/compiler/ir"
)

// Analytics is the document of GET /v1/journeys/{name}/analytics.
type Analytics struct {
	Journey   string    `json:"journey"`
	Persona   string    `json:"persona,omitempty"` // the journey map's persona
	Since     time.Time `json:"since"`
	Until     time.Time `json:"until"`
	Entered   int       `json:"entered"`
	Active    int       `json:"active"`
	Completed int       `json:"completed"`
	Converted int       `json:"converted"`
	Exited    int       `json:"exited"`
	Stages    []Stage   `json:"stages"`
	Edges     []Edge    `json:"edges"`
	Goals     []Goal    `json:"goals"`
	Sends     []Send    `json:"sends"`
	Splits    []Split   `json:"splits"`
	Metrics   []Metric  `json:"metrics"`
}

// Stage is one stage's figures. Entered counts entries (an instance that
// loops back counts again); the durations are of the entries that left.
// Leakage is the share of the instances that entered the stage that ended
// by an exit or completed without a goal (active ones have not leaked yet).
type Stage struct {
	Name          string         `json:"name"`
	Map           *ir.Map        `json:"map,omitempty"` // the designed journey map, as the program declares it
	Entered       int            `json:"entered"`
	Active        int            `json:"active"`
	MedianSeconds float64        `json:"median_seconds"`
	P90Seconds    float64        `json:"p90_seconds"`
	LeftTo        map[string]int `json:"left_to"`
	Exits         map[string]int `json:"exits"`
	Leaked        int            `json:"leaked"`
	Leakage       float64        `json:"leakage"`
}

// Edge is a move from a stage to a stage, `end`, `goal:EVENT` or
// `exit:CAUSE`, with how many times it was taken.
type Edge struct {
	From  string `json:"from"`
	To    string `json:"to"`
	Count int    `json:"count"`
}

// Goal is one goal (named by its event): the instances it converted, their
// share of those that entered, and the median time from entry to it.
type Goal struct {
	Name          string  `json:"name"`
	Conversions   int     `json:"conversions"`
	Rate          float64 `json:"rate"`
	MedianSeconds float64 `json:"median_seconds"`
}

// Send is one send action: its decisions by fate, and the delivery state
// of those decided "deliver".
type Send struct {
	Name     string         `json:"name"`
	Fates    map[string]int `json:"fates"`
	Delivery map[string]int `json:"delivery"`
}

// Split is the experiment of one split stage. SRMPValue is the
// sample-ratio-mismatch test of the assigned counts against the weights: a
// value under 0.001 says the assignment did not follow the design.
type Split struct {
	Stage     string    `json:"stage"`
	Baseline  string    `json:"baseline"`
	SRMChi2   float64   `json:"srm_chi2"`
	SRMPValue float64   `json:"srm_p_value"`
	Variants  []Variant `json:"variants"`
}

// Variant is one arm of a split against the baseline arm: rate, absolute
// lift with its 95% Wald interval, the two-proportion z-test p-value with
// the Bonferroni correction across the split's variants, and the verdict
// (stats.Inconclusive, Better, Worse, NoDifference; "baseline" for the
// baseline arm itself).
type Variant struct {
	Name      string  `json:"name"`
	Weight    int     `json:"weight"`
	Assigned  int     `json:"assigned"`
	Converted int     `json:"converted"`
	Rate      float64 `json:"rate"`
	Lift      float64 `json:"lift"`
	CILow     float64 `json:"ci_low"`
	CIHigh    float64 `json:"ci_high"`
	PValue    float64 `json:"p_value"`
	Verdict   string  `json:"verdict"`
}

// Metric is a CX score over its responses, as a whole and by stage.
type Metric struct {
	Name      string        `json:"name"`
	Kind      string        `json:"kind"`
	Responses int           `json:"responses"`
	Score     float64       `json:"score"`
	ByStage   []StageMetric `json:"by_stage"`
}

// StageMetric is a metric's score over the responses attributed to a stage.
type StageMetric struct {
	Stage     string  `json:"stage"`
	Responses int     `json:"responses"`
	Score     float64 `json:"score"`
}

// Paths is the document of GET /v1/journeys/{name}/paths: a Sankey of the
// first Steps stages of every instance. Nodes are named "{step}_{stage}"
// (so a loop stays drawable), and a path ends in a node "{step}_end",
// "{step}_goal:EVENT", "{step}_exit:CAUSE" or "{step}_active" — drop-off
// is explicit. At most MaxLinks links are kept, the largest; Other sums
// the rest.
type Paths struct {
	Journey string    `json:"journey"`
	Since   time.Time `json:"since"`
	Until   time.Time `json:"until"`
	Steps   int       `json:"steps"`
	Nodes   []Node    `json:"nodes"`
	Links   []Link    `json:"links"`
	Other   Other     `json:"other"`
}

// Node is one Sankey node; DropOff marks the ends that are not a goal
// (an exit, or completing without converting).
type Node struct {
	Name    string `json:"name"`
	Step    int    `json:"step"`
	Stage   string `json:"stage"`
	DropOff bool   `json:"drop_off,omitempty"`
}

// Link is a Sankey link between two nodes with the instances that took it.
type Link struct {
	Source string `json:"source"`
	Target string `json:"target"`
	Value  int    `json:"value"`
}

// Other is what the links beyond MaxLinks carried.
type Other struct {
	Links int `json:"links"`
	Value int `json:"value"`
}

// MaxLinks is the most links a Paths document holds.
const MaxLinks = 50
