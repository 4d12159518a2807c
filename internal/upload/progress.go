package upload

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// progress draws a one-line progress indicator on a terminal, at most five
// times a second.
type progress struct {
	w     io.Writer
	label string
	total int64 // -1: unknown
	mu    sync.Mutex
	n     int64
	start time.Time
	last  time.Time
}

func newProgress(w io.Writer, label string, total int64) *progress {
	return &progress{w: w, label: label, total: total, start: time.Now()}
}

func (p *progress) reader(r io.Reader) io.Reader { return &progressReader{r: r, p: p} }

type progressReader struct {
	r io.Reader
	p *progress
}

func (pr *progressReader) Read(b []byte) (int, error) {
	n, err := pr.r.Read(b)
	pr.p.add(int64(n))
	return n, err
}

func (p *progress) add(n int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n += n
	if now := time.Now(); now.Sub(p.last) >= 200*time.Millisecond {
		p.last = now
		p.draw(now)
	}
}

func (p *progress) draw(now time.Time) {
	rate := float64(p.n) / max(now.Sub(p.start).Seconds(), 0.001)
	if p.total > 0 {
		fmt.Fprintf(p.w, "\r%s: %3d%% (%s of %s, %s/s)   ", p.label, p.n*100/p.total, humanBytes(float64(p.n)), humanBytes(float64(p.total)), humanBytes(rate))
	} else {
		fmt.Fprintf(p.w, "\r%s: %s (%s/s)   ", p.label, humanBytes(float64(p.n)), humanBytes(rate))
	}
}

// done draws the final state and ends the line.
func (p *progress) done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.draw(time.Now())
	fmt.Fprintln(p.w)
}

func humanBytes(b float64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB"}
	i := 0
	for b >= 1024 && i < len(units)-1 {
		b /= 1024
		i++
	}
	if i == 0 {
		return fmt.Sprintf("%.0f %s", b, units[i])
	}
	return fmt.Sprintf("%.1f %s", b, units[i])
}
