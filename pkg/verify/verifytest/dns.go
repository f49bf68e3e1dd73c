package verifytest

import (
	"encoding/binary"
	"net"
	"strings"
	"sync"
	"testing"
)

// DNS is a UDP DNS server that answers A queries from a table, for the
// dns.resolve check's --resolver. Other query types get an empty answer;
// unknown names get NXDOMAIN.
type DNS struct {
	conn net.PacketConn
	mu   sync.Mutex
	a    map[string][]net.IP
}

// NewDNS starts a server on a free loopback port.
func NewDNS(t testing.TB) *DNS {
	t.Helper()
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	d := &DNS{conn: conn, a: map[string][]net.IP{}}
	t.Cleanup(func() { conn.Close() })
	go d.serve()
	return d
}

// Addr returns the server's 127.0.0.1:PORT.
func (d *DNS) Addr() string { return d.conn.LocalAddr().String() }

// SetA makes name resolve to ips.
func (d *DNS) SetA(name string, ips ...string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	var list []net.IP
	for _, s := range ips {
		list = append(list, net.ParseIP(s).To4())
	}
	d.a[strings.ToLower(strings.TrimSuffix(name, "."))] = list
}

func (d *DNS) serve() {
	buf := make([]byte, 1500)
	for {
		n, from, err := d.conn.ReadFrom(buf)
		if err != nil {
			return
		}
		if resp := d.answer(buf[:n]); resp != nil {
			_, _ = d.conn.WriteTo(resp, from)
		}
	}
}

// answer builds the response to one query, or nil for garbage.
func (d *DNS) answer(q []byte) []byte {
	if len(q) < 12 || binary.BigEndian.Uint16(q[4:6]) != 1 {
		return nil
	}
	// The question: labels up to the zero byte, then type and class.
	i := 12
	var labels []string
	for i < len(q) && q[i] != 0 {
		l := int(q[i])
		if l > 63 || i+1+l > len(q) {
			return nil
		}
		labels = append(labels, string(q[i+1:i+1+l]))
		i += 1 + l
	}
	if i+5 > len(q) {
		return nil
	}
	qtype := binary.BigEndian.Uint16(q[i+1 : i+3])
	question := q[12 : i+5]
	name := strings.ToLower(strings.Join(labels, "."))

	d.mu.Lock()
	ips, known := d.a[name]
	d.mu.Unlock()

	resp := make([]byte, 12, 12+len(question)+16*len(ips))
	copy(resp[0:2], q[0:2]) // id
	flags := uint16(0x8180) // a response; recursion desired and available
	if !known {
		flags |= 3 // NXDOMAIN
	}
	binary.BigEndian.PutUint16(resp[2:4], flags)
	binary.BigEndian.PutUint16(resp[4:6], 1)
	var answers []net.IP
	if qtype == 1 {
		answers = ips
	}
	binary.BigEndian.PutUint16(resp[6:8], uint16(len(answers)))
	resp = append(resp, question...)
	for _, ip := range answers {
		resp = append(resp, 0xc0, 0x0c)                // the name in the question
		resp = binary.BigEndian.AppendUint16(resp, 1)  // A
		resp = binary.BigEndian.AppendUint16(resp, 1)  // IN
		resp = binary.BigEndian.AppendUint32(resp, 60) // TTL
		resp = binary.BigEndian.AppendUint16(resp, 4)
		resp = append(resp, ip...)
	}
	return resp
}
