package manifest

import (
	"fmt"
	"sort"
	"strings"
)

// findCycle returns an error spelling the first dependency cycle found
// ("dependency cycle: a -> b -> a"), or nil. Services are visited in
// name order and dependencies in the order listed, so the answer is the
// same on every run.
func findCycle(all []*Service, byName map[string]*Service) error {
	const (
		unseen = iota
		onPath
		done
	)
	state := map[string]int{}
	var path []string
	var visit func(s *Service) error
	visit = func(s *Service) error {
		state[s.Name] = onPath
		path = append(path, s.Name)
		for _, d := range s.Depends {
			switch state[d] {
			case onPath:
				i := indexOf(path, d)
				cycle := append(append([]string(nil), path[i:]...), d)
				return fmt.Errorf("dependency cycle: %s", strings.Join(cycle, " -> "))
			case unseen:
				if err := visit(byName[d]); err != nil {
					return err
				}
			}
		}
		path = path[:len(path)-1]
		state[s.Name] = done
		return nil
	}
	for _, s := range all {
		if state[s.Name] == unseen {
			if err := visit(s); err != nil {
				return err
			}
		}
	}
	return nil
}

func indexOf(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}

// order sorts services so that each comes after its dependencies,
// choosing among those ready the least name first (Kahn's algorithm with
// a sorted ready set). The graph must be acyclic.
func order(all []*Service) ([]*Service, error) {
	byName := map[string]*Service{}
	waiting := map[string]int{} // dependencies not yet placed
	users := map[string][]string{}
	for _, s := range all {
		byName[s.Name] = s
		waiting[s.Name] = len(s.Depends)
		for _, d := range s.Depends {
			users[d] = append(users[d], s.Name)
		}
	}
	var ready []string
	for _, s := range all {
		if waiting[s.Name] == 0 {
			ready = append(ready, s.Name)
		}
	}
	var out []*Service
	for len(ready) > 0 {
		sort.Strings(ready)
		n := ready[0]
		ready = ready[1:]
		out = append(out, byName[n])
		for _, u := range users[n] {
			if waiting[u]--; waiting[u] == 0 {
				ready = append(ready, u)
			}
		}
	}
	if len(out) != len(all) {
		return nil, fmt.Errorf("dependency cycle among the services") // findCycle runs first
	}
	return out, nil
}

// Ready returns, in manifest order, the services not yet started whose
// dependencies have all settled: the services init may start now, in
// parallel. started says which services have been started (or skipped);
// settled which have finished starting, whatever the outcome.
func (m *Manifest) Ready(started, settled map[string]bool) []*Service {
	var out []*Service
next:
	for _, s := range m.Services {
		if started[s.Name] {
			continue
		}
		for _, d := range s.Depends {
			if !settled[d] {
				continue next
			}
		}
		out = append(out, s)
	}
	return out
}

// Names returns the services' names in manifest order.
func (m *Manifest) Names() []string {
	out := make([]string, len(m.Services))
	for i, s := range m.Services {
		out[i] = s.Name
	}
	return out
}
