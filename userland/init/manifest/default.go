package manifest

import _ "embed"

// defaultTOML is the built-in manifest: the services and behaviour init
// had before it read a manifest (pcid, the root disk's fsd, netd, the
// console program). images/default/etc/init.toml is the same file; a
// hosted test keeps them equal.
//
//go:embed default.toml
var defaultTOML []byte

// DefaultName names the built-in manifest in messages.
const DefaultName = "the built-in manifest"

// Default returns the built-in manifest. It cannot fail: TestDefault
// parses it on the host.
func Default() *Manifest {
	m, err := Parse(DefaultName, defaultTOML)
	if err != nil {
		panic("init: " + err.Error())
	}
	return m
}
