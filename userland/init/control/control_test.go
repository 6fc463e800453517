package control

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func frame(t testing.TB, v any) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := WriteFrame(&b, v); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestRoundTrip(t *testing.T) {
	req := &Request{Version: Version, Op: OpKill, Name: "netd", Signal: 9}
	var got Request
	if err := ReadFrame(bytes.NewReader(frame(t, req)), &got); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(*req, got); diff != "" {
		t.Errorf("(-sent +read):\n%s", diff)
	}
	rep := &Reply{Version: Version, Services: []Status{{Name: "fsd", State: "running", PID: 12, Restarts: 1, UptimeMS: 5000, LastExit: "killed by SIGKILL", Supervisor: "init"}}}
	var gotRep Reply
	if err := ReadFrame(bytes.NewReader(frame(t, rep)), &gotRep); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(*rep, gotRep); diff != "" {
		t.Errorf("(-sent +read):\n%s", diff)
	}
}

func TestReadFrameRefuses(t *testing.T) {
	good := frame(t, &Request{Version: Version, Op: OpList})
	length := func(n uint32, rest []byte) []byte {
		b := binary.LittleEndian.AppendUint32(nil, n)
		return append(b, rest...)
	}
	tests := []struct {
		name string
		in   []byte
		want error // errors.Is target, or nil for "any error"
	}{
		{"nothing", nil, io.EOF},
		{"half a length", []byte{1, 0}, io.ErrUnexpectedEOF},
		{"huge length, no payload read", length(1<<31, nil), ErrTooBig},
		{"one past the bound", length(MaxFrame+1, make([]byte, MaxFrame+1)), ErrTooBig},
		{"short payload", length(10, []byte{Version, 1}), io.ErrUnexpectedEOF},
		{"empty payload", length(0, nil), nil},
		{"other version", length(2, []byte{2, 1}), ErrVersion},
		{"trailing bytes", length(uint32(len(good)-4+1), append(append([]byte(nil), good[4:]...), 0)), nil},
		{"unknown op", frame(t, &Request{Version: Version, Op: 99}), ErrField},
		{"op zero", frame(t, &Request{Version: Version}), ErrField},
		{"start without a name", frame(t, &Request{Version: Version, Op: OpStart}), ErrField},
		{"name too long", frame(t, &Request{Version: Version, Op: OpStop, Name: strings.Repeat("n", MaxName+1)}), ErrField},
		{"kill with signal 0", frame(t, &Request{Version: Version, Op: OpKill, Name: "x"}), ErrField},
		{"kill with signal 65", frame(t, &Request{Version: Version, Op: OpKill, Name: "x", Signal: 65}), ErrField},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var r Request
			err := ReadFrame(bytes.NewReader(tc.in), &r)
			if err == nil {
				t.Fatalf("accepted: %+v", r)
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("error %v, want %v", err, tc.want)
			}
		})
	}
}

func TestPack(t *testing.T) {
	long := strings.Repeat("x", MaxLine)
	var lines []string
	for i := 0; i < 40; i++ {
		lines = append(lines, long)
	}
	var svcs []Status
	for i := 0; i < 30; i++ {
		svcs = append(svcs, Status{Name: "svc", State: "running", LastExit: strings.Repeat("e", 200), Supervisor: "init"})
	}
	frames := Pack(Reply{Errno: 1, Message: "m"}, svcs, append(lines, strings.Repeat("y", 2*MaxLine)))
	var all Reply
	for i, f := range frames {
		var b bytes.Buffer
		if err := WriteFrame(&b, &f); err != nil {
			t.Fatalf("frame %d does not encode: %v", i, err)
		}
		if f.More != (i < len(frames)-1) {
			t.Errorf("frame %d: More = %v", i, f.More)
		}
		all.Services = append(all.Services, f.Services...)
		all.Lines = append(all.Lines, f.Lines...)
	}
	if frames[0].Errno != 1 || frames[0].Message != "m" {
		t.Errorf("the first frame lost the head: %+v", frames[0])
	}
	if len(all.Services) != 30 || len(all.Lines) != 41 || len(all.Lines[40]) != MaxLine {
		t.Errorf("got %d services, %d lines (last %d bytes); want 30, 41, %d", len(all.Services), len(all.Lines), len(all.Lines[40]), MaxLine)
	}
	if len(frames) < 2 {
		t.Errorf("%d frames for %d bytes", len(frames), 41*MaxLine)
	}
}

// pipe is a ReadWriter reading from r and writing to w.
type pipe struct {
	io.Reader
	io.Writer
}

func TestDo(t *testing.T) {
	var answer bytes.Buffer
	for _, f := range Pack(Reply{}, []Status{{Name: "a"}}, []string{"l1", "l2"}) {
		WriteFrame(&answer, &f)
	}
	var sent bytes.Buffer
	r, err := Do(pipe{&answer, &sent}, Request{Op: OpLog, Name: "a"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(Reply{Version: Version, Services: []Status{{Name: "a"}}, Lines: []string{"l1", "l2"}}, r); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	var req Request
	if err := ReadFrame(&sent, &req); err != nil || req.Op != OpLog || req.Name != "a" {
		t.Errorf("sent %+v (%v)", req, err)
	}
	// An answer that never ends is cut off.
	var endless bytes.Buffer
	for i := 0; i <= MaxReplies; i++ {
		WriteFrame(&endless, &Reply{Version: Version, More: true})
	}
	if _, err := Do(pipe{&endless, io.Discard}, Request{Op: OpList}); !errors.Is(err, ErrNoFrames) {
		t.Errorf("endless answer: %v, want ErrNoFrames", err)
	}
	// A request svc itself would refuse is not sent.
	if _, err := Do(pipe{&answer, &sent}, Request{Op: OpKill, Name: "a"}); !errors.Is(err, ErrField) {
		t.Errorf("kill without a signal: %v", err)
	}
}

// FuzzRequest feeds init's request reader arbitrary bytes, as any
// process may connect and send them: it must never panic, and a request
// it accepts must pass Check and encode back to the same frame (the
// encoding is canonical).
func FuzzRequest(f *testing.F) {
	f.Add(frame(f, &Request{Version: Version, Op: OpList}))
	f.Add(frame(f, &Request{Version: Version, Op: OpKill, Name: "netd", Signal: 9}))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff})
	f.Add([]byte{3, 0, 0, 0, 1, 1, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		var r Request
		if err := ReadFrame(bytes.NewReader(data), &r); err != nil {
			return
		}
		if err := r.Check(); err != nil {
			t.Fatalf("accepted a request Check refuses: %v", err)
		}
		again := frame(t, &r)
		n := binary.LittleEndian.Uint32(data)
		if !bytes.Equal(again, data[:4+n]) {
			t.Fatalf("not canonical: read %x, encodes as %x", data[:4+n], again)
		}
	})
}

// FuzzReply is the same for svc's reader of init's answers.
func FuzzReply(f *testing.F) {
	f.Add(frame(f, &Reply{Version: Version, Services: []Status{{Name: "a", PID: 3}}, Lines: []string{"x"}, More: true}))
	f.Fuzz(func(t *testing.T, data []byte) {
		var r Reply
		if err := ReadFrame(bytes.NewReader(data), &r); err != nil {
			return
		}
		if err := r.Check(); err != nil {
			t.Fatalf("accepted a reply Check refuses: %v", err)
		}
	})
}
