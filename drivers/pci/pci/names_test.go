package pci

import "testing"

func TestFunctionString(t *testing.T) {
	cases := []struct {
		f    Function
		want string
	}{
		{
			Function{Addr: Address{0, 4, 0}, Vendor: 0x1b36, Device: 0x0010, Class: 0x01, Subclass: 0x08, ProgIF: 0x02, Revision: 2},
			"00:04.0 Non-Volatile memory controller [0108]: Red Hat, Inc. [1b36:0010] (rev 02)",
		},
		{
			Function{Addr: Address{0, 0, 0}, Vendor: 0x8086, Device: 0x29c0, Class: 0x06},
			"00:00.0 Host bridge [0600]: Intel Corporation [8086:29c0]",
		},
		{
			Function{Addr: Address{1, 0, 0}, Vendor: 0x1af4, Device: 0x1041, Class: 0x02, Revision: 1},
			"01:00.0 Ethernet controller [0200]: Red Hat, Inc. [1af4:1041] (rev 01)",
		},
		{
			Function{Addr: Address{0, 0x1f, 3}, Vendor: 0x8086, Device: 0x2930, Class: 0x0c, Subclass: 0x05, Revision: 2},
			"00:1f.3 SMBus [0c05]: Intel Corporation [8086:2930] (rev 02)",
		},
		{
			Function{Addr: Address{0, 1, 0}, Vendor: 0x1234, Device: 0x1111, Class: 0x03, Revision: 2},
			"00:01.0 VGA compatible controller [0300]: QEMU [1234:1111] (rev 02)",
		},
		{ // known class, unknown subclass: the class's name
			Function{Addr: Address{0xff, 31, 7}, Vendor: 0xabcd, Device: 0x1234, Class: 0x01, Subclass: 0x42},
			"ff:1f.7 Mass storage controller [0142]: Device [abcd:1234]",
		},
		{ // unknown class and vendor
			Function{Addr: Address{2, 3, 4}, Vendor: 0xabcd, Device: 0x0001, Class: 0xab, Subclass: 0xcd, Revision: 0x10},
			"02:03.4 Class ab [abcd]: Device [abcd:0001] (rev 10)",
		},
	}
	for _, c := range cases {
		if got := c.f.String(); got != c.want {
			t.Errorf("String() = %q\n             want %q", got, c.want)
		}
	}
}

// TestClassTable checks the table's shape: every class has a name, and
// no subclass is named after nothing.
func TestClassTable(t *testing.T) {
	for class, c := range classes {
		if c.name == "" {
			t.Errorf("class %#02x has no name", class)
		}
		for sub, n := range c.sub {
			if n == "" {
				t.Errorf("class %#02x subclass %#02x has no name", class, sub)
			}
		}
	}
}
