package fsclient

import (
	"valence.dev/ipc"
	"valence.dev/microkernel/obj"
)

// Handles is the handles a server's reply brought, in flight: proc's
// transit table, which the endpoint hands over as obj.Call.ReplyTr. The
// client keeps them only for Attach, whose reply names the memory of a
// shared buffer, and drops the rest.
type Handles interface {
	obj.Dropper
	// Values are the handles' values in flight, as the reply names
	// them; none for a nil table.
	Values() []ipc.Handle
	// Object returns the object handle h names.
	Object(h ipc.Handle) (any, bool)
}

// handleValues is h.Values, none for no table.
func handleValues(h Handles) []ipc.Handle {
	if h == nil {
		return nil
	}
	return h.Values()
}
