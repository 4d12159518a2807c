//go:build !linux

package guard

import "net/netip"

// socketOwner is known on Linux only: elsewhere a loopback client is
// keyed by its address (ClientKey).
func socketOwner(client, server netip.AddrPort) (int, bool) { return 0, false }
