package amd64

// The MC146818-compatible real-time clock in CMOS (ports 0x70/0x71). Read
// once at boot to learn the wall-clock time.

func cmosRead(reg uint8) uint8 {
	Outb(0x70, reg|0x80) // bit 7 keeps NMIs disabled while we read
	return Inb(0x71)
}

// RTCTime is a calendar time as the RTC keeps it (UTC by convention on
// QEMU).
type RTCTime struct {
	Year, Month, Day, Hour, Minute, Second int
}

// ReadRTC reads the clock, retrying until two consecutive reads agree so an
// update in the middle cannot tear the result, and decodes BCD and 12-hour
// modes according to status register B.
func ReadRTC() RTCTime {
	var last RTCTime
	for i := 0; i < 100; i++ {
		for j := 0; j < 100000 && cmosRead(0x0A)&0x80 != 0; j++ {
			Pause() // update in progress
		}
		t := RTCTime{
			Second: int(cmosRead(0x00)),
			Minute: int(cmosRead(0x02)),
			Hour:   int(cmosRead(0x04)),
			Day:    int(cmosRead(0x07)),
			Month:  int(cmosRead(0x08)),
			Year:   int(cmosRead(0x09)),
		}
		if i > 0 && t == last {
			break
		}
		last = t
	}
	b := cmosRead(0x0B)
	t := last
	pm := t.Hour&0x80 != 0
	t.Hour &= 0x7F
	if b&0x04 == 0 { // BCD
		bcd := func(v int) int { return v&0x0F + (v>>4)*10 }
		t.Second, t.Minute, t.Hour = bcd(t.Second), bcd(t.Minute), bcd(t.Hour)
		t.Day, t.Month, t.Year = bcd(t.Day), bcd(t.Month), bcd(t.Year)
	}
	if b&0x02 == 0 && pm { // 12-hour clock
		t.Hour = (t.Hour + 12) % 24
	}
	t.Year += 2000
	return t
}
