package caps_test

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"valence.dev/caps"
	"valence.dev/ipc"
)

// harness runs one operation sequence, decoded from bytes, against a
// System and the reference model side by side. After every operation it
// compares what each returned, runs Check, and compares the whole visible
// state: every live capability's Info, every table's length, every
// object's holder count. It also checks that no table ever issues the same
// handle value twice.
type harness struct {
	t      testing.TB
	in     []byte
	sys    *caps.System
	tables [nTables]*caps.Table
	objs   [nObjects]*object
	m      model
	issued [nTables][]ipc.Handle // every value each table returned, for picking
	seen   [nTables]map[ipc.Handle]bool
	log    []logEntry
}

// logEntry is an operation, formatted only when a failure prints it.
type logEntry struct {
	format string
	args   []any
}

func runOps(t testing.TB, in []byte) {
	x := &harness{t: t, in: in, sys: caps.NewSystem()}
	for i := range x.objs {
		x.objs[i] = &object{fmt.Sprintf("obj%d", i)}
	}
	for ti := range nTables {
		x.renew(ti, 6+ti*5)
	}
	for len(x.in) > 0 && len(x.log) < maxOps {
		x.step()
		x.verify()
	}
}

// maxOps bounds one run, so the fuzzer spends its time on variety.
const maxOps = 2000

// next consumes one byte of input; past the end it reads zeros.
func (x *harness) next() byte {
	if len(x.in) == 0 {
		return 0
	}
	b := x.in[0]
	x.in = x.in[1:]
	return b
}

func (x *harness) table() int { return int(x.next()) % nTables }

func (x *harness) object() int { return int(x.next()) % nObjects }

func (x *harness) badge() uint64 { return uint64(x.next() % 4) }

// handle picks a value to use in table ti: half the time a live one, else
// mostly one the table issued (live or not), sometimes a forged one.
func (x *harness) handle(ti int) ipc.Handle {
	b := x.next()
	issued := x.issued[ti]
	if b < 0x80 {
		var live []ipc.Handle
		for _, c := range x.m.caps {
			if c.table == ti {
				live = append(live, c.h)
			}
		}
		if len(live) > 0 {
			return live[int(b)%len(live)]
		}
	}
	if b < 0xe0 && len(issued) > 0 {
		return issued[int(b)%len(issued)]
	}
	switch b % 4 {
	case 0:
		return 0
	case 1: // a small slot and generation
		return caps.MakeHandle(uint32(x.next()%8), uint32(x.next()%4))
	case 2: // the next generation of an issued value
		if len(issued) > 0 {
			return issued[int(x.next())%len(issued)] + 1<<32
		}
		return math.MaxUint64
	default: // another table's value
		other := x.issued[(ti+1)%nTables]
		if len(other) > 0 {
			return other[int(x.next())%len(other)]
		}
		return 1
	}
}

// rights picks rights for a new capability: usually a subset of src's
// (nil src: every right), sometimes arbitrary, unknown bit included.
func (x *harness) rights(src *mcap) ipc.Rights {
	b := x.next()
	have := ipc.RightsAll
	if src != nil {
		have = src.rights
	}
	switch {
	case b < 0x80:
		return have &^ (1 << (b % 8)) // drop one right, or none
	case b < 0xc0:
		return have
	case b < 0xf8:
		return ipc.Rights(x.next()) & ipc.RightsAll // may grow
	default:
		return ipc.Rights(x.next()) | unknownRight
	}
}

// need picks the rights a Lookup asks for: one right, unknown included.
func (x *harness) need() ipc.Rights { return 1 << (x.next() % 8) }

func (x *harness) renew(ti, limit int) {
	x.tables[ti] = x.sys.NewTable(limit)
	x.m.limits[ti], x.m.dead[ti] = limit, false
	x.issued[ti], x.seen[ti] = nil, map[ipc.Handle]bool{}
}

// fail reports a mismatch with the sequence of operations that led to it.
func (x *harness) fail(format string, args ...any) {
	x.t.Helper()
	var tail []string
	for _, e := range x.log[max(0, len(x.log)-40):] {
		tail = append(tail, fmt.Sprintf(e.format, e.args...))
	}
	x.t.Fatalf("after %d operations: %s\n\nlast operations:\n%s",
		len(x.log), fmt.Sprintf(format, args...), strings.Join(tail, "\n"))
}

// expect compares an error with the model's prediction.
func (x *harness) expect(err, want error) {

	if (want == nil) != (err == nil) || (want != nil && !errors.Is(err, want)) {
		x.fail("error %v, model says %v", err, want)
	}
}

// issue records a new handle value of table ti, which must be fresh.
func (x *harness) issue(ti int, h ipc.Handle) {
	if h == 0 || x.seen[ti][h] {
		x.fail("table %d issued handle %#x, which is zero or was issued before", ti, h)
	}
	x.seen[ti][h] = true
	x.issued[ti] = append(x.issued[ti], h)
}

// verify checks the invariants and compares all visible state.
func (x *harness) verify() {
	if err := x.sys.Check(); err != nil {
		x.fail("Check: %v", err)
	}
	for ti, tb := range x.tables {
		if n, want := tb.Len(), x.m.count(ti); n != want && !x.m.dead[ti] {
			x.fail("table %d: Len %d, model %d", ti, n, want)
		}
	}
	for _, c := range x.m.caps {
		got, err := x.tables[c.table].Info(c.h)
		want := caps.Cap{Object: x.objs[c.obj], Rights: c.rights, Badge: c.badge}
		if err != nil || got != want {
			x.fail("table %d handle %#x: Info %v, %v; model %v", c.table, c.h, describe(got), err, describe(want))
		}
	}
	for i, o := range x.objs {
		if got, want := x.sys.Holders(o), x.m.holders(i); got != want {
			x.fail("Holders(%v) = %d, model %d", o, got, want)
		}
	}
}

// TestModelRandom runs long random sequences through the harness.
func TestModelRandom(t *testing.T) {
	seeds := 200
	if testing.Short() {
		seeds = 20
	}
	for seed := range seeds {
		r := rand.New(rand.NewPCG(uint64(seed), 0x5eed))
		in := make([]byte, 6000)
		for i := range in {
			in[i] = byte(r.Uint32())
		}
		t.Run(fmt.Sprint(seed), func(t *testing.T) { runOps(t, in) })
	}
}

// FuzzOps interprets its input as an operation sequence over three tables
// and four objects (see harness.step), checking every result against the
// model and every invariant after every operation.
func FuzzOps(f *testing.F) {
	// Seeds: each exercises one feature, so the fuzzer starts from
	// sequences that reach deep states.
	f.Add([]byte{0, 0, 0, 0x90, 0, 5, 0, 0, 0x90, 1, 11, 0, 0})                             // insert, mint by duplicate, revoke
	f.Add([]byte{0, 0, 1, 0x90, 0, 7, 0, 0, 1, 0x90, 7, 1, 0, 2, 0x90, 10, 1, 0, 11, 0, 0}) // grant chain, close the middle, revoke
	f.Add([]byte{0, 1, 2, 0x90, 3, 12, 1, 0, 12, 1, 0, 0, 1, 0, 0x90, 0})                   // destroy, renew
	f.Add([]byte{0, 0, 0, 0x90, 0, 9, 0, 0, 14, 0, 0, 1, 0, 0, 0, 0x90, 0, 9, 0, 0,
		0, 0, 0, 0x90, 0, 9, 0, 0, 0, 0, 0, 0x90, 0}) // fast-forward to retirement
	f.Add([]byte{0, 2, 1, 0x90, 2, 8, 2, 0, 0, 13, 1, 0}) // move, revoke object
	f.Add([]byte{0, 0, 0, 0x90, 0, 0, 0, 1, 0x90, 0, 16, 0, 2, 0, 1, 1,
		16, 0, 3, 0, 1, 0, 1, 16, 1, 2, 0, 1, 1}) // batch moves: two, a repeat, back again
	f.Add([]byte{0, 0, 0, 0x90, 0, 17, 0, 3, 0, 0, 0, 1, 11, 1, 0}) // batch grant with a repeat, revoke
	f.Fuzz(func(t *testing.T, in []byte) { runOps(t, in) })
}

// ids names objects by model index, for comparing orphan lists.
func (x *harness) ids(objs []caps.Object) []int {
	var out []int
	for _, o := range objs {
		out = append(out, slices.Index(x.objs[:], o.(*object)))
	}
	return out
}
