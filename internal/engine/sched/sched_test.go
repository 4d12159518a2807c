package sched

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestParseEvery(t *testing.T) {
	for _, ok := range []string{"1s", "90s", "30m", "1h30m", " 24h "} {
		if s, err := ParseEvery(ok); err != nil || s.Every <= 0 {
			t.Errorf("ParseEvery(%q) = %v, %v", ok, s, err)
		}
	}
	for v, want := range map[string]string{
		"":     "is not a duration",
		"5":    "is not a duration",
		"5x":   "is not a duration",
		"-1h":  "shorter than 1s",
		"10ms": "shorter than 1s",
		"0s":   "shorter than 1s",
	} {
		if _, err := ParseEvery(v); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseEvery(%q) = %v, want %q", v, err, want)
		}
	}
}

func TestParseCron(t *testing.T) {
	for _, ok := range []string{"0 2 * * *", "*/15 * * * 1-5", "  5  4 1 JAN,JUL *", "0 0 29 2 *"} {
		if s, err := ParseCron(ok); err != nil || s.cron == nil {
			t.Errorf("ParseCron(%q) = %v, %v", ok, s, err)
		}
	}
	for v, want := range map[string]string{
		"":             "is empty",
		"* * * *":      "has 4 field(s)",
		"0 0 * * * *":  "has 6 field(s)",
		"@daily":       "descriptors such as @daily",
		"@every 1h":    "descriptors such as @daily",
		"TZ=UTC":       "time zone prefix",
		"CRON_TZ=UTC":  "time zone prefix",
		"61 * * * *":   "is not a cron expression",
		"x y z w v":    "is not a cron expression",
		"0 0 30 2 *":   "never matches",
		"*/0 * * * *":  "is not a cron expression",
		"0 0 * * 1-99": "is not a cron expression",
	} {
		_, err := ParseCron(v)
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "five fields") {
			t.Errorf("ParseCron(%q) = %v, want %q and the help", v, err, want)
		}
	}
}

func TestParse(t *testing.T) {
	if s, err := Parse("", "", "--sync-every", "--sync-schedule"); err != nil || !s.IsZero() {
		t.Errorf("nothing: %v %v", s, err)
	}
	if _, err := Parse("1h", "0 * * * *", "--sync-every", "--sync-schedule"); err == nil || err.Error() != "give --sync-every or --sync-schedule, not both" {
		t.Errorf("both: %v", err)
	}
	if _, err := Parse("1x", "", "--sync-every", "--sync-schedule"); err == nil || !strings.HasPrefix(err.Error(), `--sync-every: "1x" is not a duration`) {
		t.Errorf("bad every: %v", err)
	}
	if _, err := Parse("", "1 2 3", "--sync-every", "--sync-schedule"); err == nil || !strings.HasPrefix(err.Error(), `--sync-schedule: "1 2 3" has 3 field(s)`) {
		t.Errorf("bad cron: %v", err)
	}
}

func TestSpecNext(t *testing.T) {
	t0 := time.Date(2026, 3, 4, 10, 17, 0, 0, time.Local)
	every, _ := ParseEvery("90m")
	if got := every.Next(t0); !got.Equal(t0.Add(90 * time.Minute)) {
		t.Errorf("every: %v", got)
	}
	c, _ := ParseCron("0 2 * * *")
	if got, want := c.Next(t0), time.Date(2026, 3, 5, 2, 0, 0, 0, time.Local); !got.Equal(want) {
		t.Errorf("cron: %v, want %v", got, want)
	}
	if s := (Spec{}); !s.IsZero() || !s.Next(t0).IsZero() || s.String() != "never" {
		t.Errorf("zero spec: %v", s)
	}
	if every.String() != "every 1h30m0s" || c.String() != "cron 0 2 * * *" {
		t.Errorf("String: %q %q", every, c)
	}
}

// runScheduler runs a scheduler on a fake clock; its runs arrive on the
// returned channel.
func runScheduler(t *testing.T, clock *FakeClock) (*Scheduler, <-chan Run) {
	t.Helper()
	runs := make(chan Run, 100)
	s := New(clock, func(r Run) { runs <- r })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return s, runs
}

func next(t *testing.T, runs <-chan Run) Run {
	t.Helper()
	select {
	case r := <-runs:
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("no run came")
	}
	return Run{}
}

func TestSchedulerFiresEachPeriodOnce(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := NewFakeClock(t0)
	s, runs := runScheduler(t, clock)
	every, _ := ParseEvery("1m")
	if n := s.Set("a", every, time.Time{}); !n.Equal(t0.Add(time.Minute)) {
		t.Fatalf("first next: %v", n)
	}
	clock.Advance(time.Minute)
	r := next(t, runs)
	if r.Key != "a" || !r.Due.Equal(t0.Add(time.Minute)) || !r.Next.Equal(t0.Add(2*time.Minute)) || r.Missed {
		t.Errorf("first run: %+v", r)
	}
	if n, ok := s.Next("a"); !ok || !n.Equal(t0.Add(2*time.Minute)) {
		t.Errorf("Next: %v %v", n, ok)
	}

	// Ten periods pass at once: one run, the next one a period after now.
	clock.Advance(10 * time.Minute)
	r = next(t, runs)
	if r.Key != "a" || !r.Due.Equal(t0.Add(2*time.Minute)) || !r.Next.Equal(t0.Add(12*time.Minute)) || r.Missed {
		t.Errorf("late run: %+v", r)
	}
	// A key due now comes next: no other run of "a" was fired before it.
	s.Set("b", every, clock.Now())
	if r := next(t, runs); r.Key != "b" {
		t.Errorf("a second run of a late key: %+v", r)
	}

	// Removed keys never fire; the others go on.
	s.Remove("a")
	if _, ok := s.Next("a"); ok {
		t.Error("a removed key has a next run")
	}
	clock.Advance(time.Minute)
	if r := next(t, runs); r.Key != "b" {
		t.Errorf("after removing a: %+v", r)
	}
	s.Set("b", Spec{}, time.Time{})
	if _, ok := s.Next("b"); ok {
		t.Error("a zero spec did not remove the key")
	}
}

func TestSchedulerMissedRunsFireOnce(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	clock := NewFakeClock(t0)
	s, runs := runScheduler(t, clock)
	hourly, _ := ParseCron("0 * * * *")
	// Stored before a stop: due at 09:00, three hours ago.
	s.Set("a", hourly, t0.Add(-3*time.Hour))
	r := next(t, runs)
	if r.Key != "a" || !r.Missed || !r.Due.Equal(t0.Add(-3*time.Hour)) || !r.Next.Equal(t0.Add(time.Hour)) {
		t.Errorf("missed run: %+v", r)
	}
	s.Set("b", hourly, clock.Now())
	if r := next(t, runs); r.Key != "b" || r.Missed {
		t.Errorf("a missed key fired twice, or a key due now is missed: %+v", r)
	}
	clock.Advance(time.Hour)
	got := map[string]Run{}
	for range 2 {
		r := next(t, runs)
		got[r.Key] = r
	}
	if got["a"].Missed || got["b"].Missed || !got["a"].Next.Equal(t0.Add(2*time.Hour)) {
		t.Errorf("on time: %+v", got)
	}
}
