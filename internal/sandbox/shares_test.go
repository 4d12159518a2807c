package sandbox

import "testing"

func TestProcessSharesStayWithinTheLimit(t *testing.T) {
	for _, n := range []int{22, 64, 100, 1024, 4096} {
		p, c := ProcessShares(n, 16)
		if p < 1 || c < 1 || p+16*c > n {
			t.Errorf("ProcessShares(%d, 16) = %d, %d: together %d, over %d", n, p, c, p+16*c, n)
		}
	}
	if p, c := ProcessShares(1024, 16); p != 256 || c != 48 {
		t.Errorf("ProcessShares(1024, 16) = %d, %d; want 256, 48", p, c)
	}
	if p, c := ProcessShares(0, 16); p != 0 || c != 0 {
		t.Errorf("no limit: %d, %d", p, c)
	}
}
