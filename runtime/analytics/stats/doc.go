// Package stats holds the statistics of journey analytics as pure
// functions over counts and samples: conversion rates, the two-proportion
// z-test, the absolute lift with its 95% Wald interval, the Bonferroni
// correction, the verdict rule of an experiment, the sample-ratio-mismatch
// chi-square test, the CX scores (NPS, CSAT, CES, mean) and quantiles.
//
// Data flows in one direction: runtime/analytics counts the records a store
// keeps and hands the counts here; nothing here reads a store or a clock,
// so every function has a known answer that its tests check.
package stats
