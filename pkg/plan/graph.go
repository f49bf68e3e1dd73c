package plan

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
)

// ErrSkipped marks a node that did not run because something it depends on
// failed or was skipped; the original failure is reported once, on its node.
var ErrSkipped = errors.New("skipped")

// walk runs fn for every node once all of its dependencies have finished
// successfully, running at most parallel nodes at a time. A node whose
// dependency failed is not run; its result is ErrSkipped. Dependencies that
// are not nodes are ignored. When ctx is cancelled no new node starts; the
// ones not started report ctx.Err(). The returned map has an entry (nil for
// success) for every node.
func walk(ctx context.Context, nodes []string, deps map[string][]string, parallel int, fn func(ctx context.Context, id string) error) map[string]error {
	if parallel < 1 {
		parallel = 1
	}
	isNode := map[string]bool{}
	for _, n := range nodes {
		isNode[n] = true
	}
	waiting := map[string]int{}
	dependents := map[string][]string{}
	for _, n := range nodes {
		for _, d := range deps[n] {
			if isNode[d] && d != n {
				waiting[n]++
				dependents[d] = append(dependents[d], n)
			}
		}
	}
	results := make(map[string]error, len(nodes))
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, parallel)
	var start func(id string)
	finish := func(id string, err error) {
		mu.Lock()
		results[id] = err
		var ready []string
		var skip []string
		for _, dep := range dependents[id] {
			if err != nil {
				skip = append(skip, dep)
				continue
			}
			waiting[dep]--
			if _, skipped := results[dep]; waiting[dep] == 0 && !skipped {
				ready = append(ready, dep)
			}
		}
		mu.Unlock()
		for _, s := range skip {
			mu.Lock()
			_, done := results[s]
			if !done {
				results[s] = nil // placeholder so it is skipped once
			}
			mu.Unlock()
			if !done {
				wg.Add(1)
				go func(s string) {
					defer wg.Done()
					finishSkipped(s, id, &mu, results, dependents, &wg)
				}(s)
			}
		}
		for _, r := range ready {
			start(r)
		}
	}
	start = func(id string) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				finish(id, ctx.Err())
				return
			}
			if ctx.Err() != nil {
				<-sem
				finish(id, ctx.Err())
				return
			}
			err := safeCall(ctx, id, fn)
			<-sem
			finish(id, err)
		}()
	}
	// Pick the roots before starting any: once nodes run, finish changes
	// waiting, and a root loop reading it then could start a node twice.
	var roots []string
	for _, n := range nodes {
		if waiting[n] == 0 {
			roots = append(roots, n)
		}
	}
	sort.Strings(roots)
	for _, n := range roots {
		start(n)
	}
	wg.Wait()
	return results
}

// finishSkipped marks s and, transitively, its dependents as skipped.
func finishSkipped(s, cause string, mu *sync.Mutex, results map[string]error, dependents map[string][]string, wg *sync.WaitGroup) {
	mu.Lock()
	results[s] = fmt.Errorf("%w: depends on %s, which did not complete", ErrSkipped, cause)
	next := dependents[s]
	var todo []string
	for _, n := range next {
		if _, done := results[n]; !done {
			results[n] = nil
			todo = append(todo, n)
		}
	}
	mu.Unlock()
	for _, n := range todo {
		finishSkipped(n, cause, mu, results, dependents, wg)
	}
}

// safeCall turns a panic in fn into an error, so one bad driver cannot crash
// the whole apply without a summary.
func safeCall(ctx context.Context, id string, fn func(context.Context, string) error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("internal error: %v", r)
		}
	}()
	return fn(ctx, id)
}
