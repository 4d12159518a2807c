package guard

import (
	"encoding/binary"
	"encoding/hex"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
)

// localUserPrefix starts the throttle key of a client on this machine
// whose connection's owner is known (ClientKey).
const localUserPrefix = "local user ID "

// ClientKey is who a login comes from, for the throttle: for a connection
// from this machine (a loopback address), the user ID that owns the
// client's socket ("local user ID 1000"), when the kernel says it
// (Linux: /proc/net/tcp); else the client's IP address, an IPv6 one by its
// /64 network (what one host is usually given).
//
// Every process of the machine reaches a loopback engine from 127.0.0.1
// (and may pick any address of 127.0.0.0/8): keyed by address, another
// user's failed logins locked the admin's dvp out, and one user could
// spread its guesses over millions of addresses. The owner of the socket
// is neither shared nor chosen.
func ClientKey(r *http.Request) string {
	client, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return ClientAddress(r)
	}
	addr := client.Addr().Unmap()
	if addr.IsLoopback() {
		if la, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
			if server, err := netip.ParseAddrPort(la.String()); err == nil {
				if uid, ok := socketOwner(client, server); ok {
					return localUserPrefix + strconv.Itoa(uid)
				}
			}
		}
	}
	if addr.Is6() {
		if p, err := addr.Prefix(64); err == nil {
			return p.String()
		}
	}
	return addr.String()
}

// describeClient says a throttle key in a refusal.
func describeClient(key string) string {
	if strings.HasPrefix(key, localUserPrefix) {
		return "from the processes of " + strings.TrimPrefix(key, "local ") + " on this machine"
	}
	return "from the address " + key
}

// parseProcAddr reads an address of /proc/net/tcp{,6}: the IP as 32-bit
// words in the machine's byte order, each printed as 8 hex digits, then
// ':' and the port in hex.
func parseProcAddr(s string) (netip.AddrPort, bool) {
	ipHex, portHex, ok := strings.Cut(s, ":")
	if !ok {
		return netip.AddrPort{}, false
	}
	port, err := strconv.ParseUint(portHex, 16, 16)
	if err != nil {
		return netip.AddrPort{}, false
	}
	raw, err := hex.DecodeString(ipHex)
	if err != nil || (len(raw) != 4 && len(raw) != 16) {
		return netip.AddrPort{}, false
	}
	ip := make([]byte, len(raw))
	for i := 0; i < len(raw); i += 4 {
		binary.NativeEndian.PutUint32(ip[i:], binary.BigEndian.Uint32(raw[i:]))
	}
	addr, _ := netip.AddrFromSlice(ip)
	return netip.AddrPortFrom(addr, uint16(port)), true
}
