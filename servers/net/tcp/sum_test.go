package tcp

import (
	"valence.dev/servers/net/checksum"
	"valence.dev/servers/net/ipv4"
)

func pseudoSum(b []byte) uint16 {
	s := checksum.Pseudo(src, dst, ipv4.ProtoTCP, len(b))
	s.Add(b)
	return s.Finish()
}
