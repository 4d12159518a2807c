package cli

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// stepProgress shows, on a terminal only (progress(app)), which step of a
// long command runs and for how long, on one line of stderr that it clears
// when done. Off a terminal, or with -q, it prints nothing.
type stepProgress struct {
	w     io.Writer
	label string
	mu    sync.Mutex
	step  string
	drawn bool // the progress line is on the screen
	start time.Time
	stop  chan struct{}
	done  chan struct{}
}

// startProgress starts the progress line of a command called label; nil
// when app has no terminal to draw on.
func startProgress(app *App, label string) *stepProgress {
	w := progress(app)
	if w == nil {
		return nil
	}
	p := &stepProgress{w: w, label: label, start: time.Now(), stop: make(chan struct{}), done: make(chan struct{})}
	go p.loop()
	return p
}

// Step names the step that starts now.
func (p *stepProgress) Step(name string) {
	if p == nil {
		return
	}
	p.mu.Lock()
	p.step = name
	p.mu.Unlock()
}

// Println prints a line above the progress line (which the next tick
// draws again); a nil progress prints it on w.
func (p *stepProgress) Println(w io.Writer, line string) {
	if p == nil {
		fmt.Fprintln(w, line)
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn {
		fmt.Fprint(p.w, "\r\033[K")
		p.drawn = false
	}
	fmt.Fprintln(p.w, line)
}

// Done clears the progress line.
func (p *stepProgress) Done() {
	if p == nil {
		return
	}
	close(p.stop)
	<-p.done
}

func (p *stepProgress) loop() {
	defer close(p.done)
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	frames := `|/-\`
	for i := 0; ; i++ {
		select {
		case <-p.stop:
			p.mu.Lock()
			if p.drawn {
				fmt.Fprint(p.w, "\r\033[K")
			}
			p.mu.Unlock()
			return
		case <-t.C:
			// Only work that takes more than a second is shown.
			if time.Since(p.start) < time.Second {
				continue
			}
			p.mu.Lock()
			fmt.Fprintf(p.w, "\r\033[K%c %s: %s (%ds)", frames[i%len(frames)], p.label, p.step, int(time.Since(p.start).Seconds()))
			p.drawn = true
			p.mu.Unlock()
		}
	}
}
