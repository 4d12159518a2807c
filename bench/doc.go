// Package bench holds dvp's comparative benchmarks (its _test.go files):
// each measures dvp and a baseline in the same run and reports the ratio.
// make bench runs them and prints one table through bench/cmd/benchtable;
// docs/performance.md says what each measures and the limits dvp keeps.
package bench
