// Package plan decides what to do: it compares the desired resources of an
// env with what the drivers observe live, produces a Plan (plain data that
// every renderer and the saved plan file share), and applies it by walking
// the dependency graph with bounded parallelism.
package plan
