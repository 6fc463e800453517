package vma

import "errors"

// Errors reported by Check, one per invariant so a failure names the rule
// that broke.
var (
	ErrCheckWindow = errors.New("vma: check: window unaligned or inverted")
	ErrCheckCount  = errors.New("vma: check: region count outside storage")
	ErrCheckRegion = errors.New("vma: check: region empty, unaligned, outside the window or with bad prot")
	ErrCheckOrder  = errors.New("vma: check: regions overlap or are out of order")
	ErrCheckMerge  = errors.New("vma: check: touching regions of the same kind not merged")
)

// Check verifies the invariants listed in the package documentation and
// returns the first violation found, or nil.
func (s *Set) Check() error {
	if s.lo&pageMask != 0 || s.hi&pageMask != 0 || s.lo > s.hi {
		return ErrCheckWindow
	}
	if s.n < 0 || s.n > len(s.regs) {
		return ErrCheckCount
	}
	for k := 0; k < s.n; k++ {
		r := s.regs[k]
		if r.Start >= r.End || r.Start&pageMask != 0 || r.End&pageMask != 0 ||
			r.Start < s.lo || r.End > s.hi || r.Prot&^protAll != 0 {
			return ErrCheckRegion
		}
		if k == 0 {
			continue
		}
		p := s.regs[k-1]
		if p.End > r.Start {
			return ErrCheckOrder
		}
		if p.End == r.Start && p.sameKind(r) {
			return ErrCheckMerge
		}
	}
	return nil
}
