package guard

import (
	"bufio"
	"net/netip"
	"os"
	"strconv"
	"strings"
)

// socketOwner finds, in /proc/net/tcp and /proc/net/tcp6, the TCP socket
// of this machine whose local end is client and remote end is server (the
// client's side of a connection to the engine), and returns the user ID
// that owns it. Both files list every TCP socket of the network namespace;
// the scan stops at the one sought.
func socketOwner(client, server netip.AddrPort) (int, bool) {
	for _, file := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		if uid, ok := scanSockets(file, client, server); ok {
			return uid, true
		}
	}
	return 0, false
}

func scanSockets(file string, client, server netip.AddrPort) (int, bool) {
	f, err := os.Open(file)
	if err != nil {
		return 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 4096), 4096)
	sc.Scan() // the header
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 8 {
			continue
		}
		local, ok1 := parseProcAddr(fields[1])
		remote, ok2 := parseProcAddr(fields[2])
		if !ok1 || !ok2 || !sameEnd(local, client) || !sameEnd(remote, server) {
			continue
		}
		uid, err := strconv.Atoi(fields[7])
		if err != nil {
			return 0, false
		}
		return uid, true
	}
	return 0, false
}

func sameEnd(a, b netip.AddrPort) bool {
	return a.Port() == b.Port() && a.Addr().Unmap() == b.Addr().Unmap()
}
