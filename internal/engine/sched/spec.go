// Package sched decides when the local engine's policies run: a dSource's
// sync policy and a VDB's refresh policy are each a Spec (a fixed interval,
// or a cron expression), and a Scheduler fires them on a Clock that tests
// replace, so that a schedule test never sleeps for minutes.
//
// The package knows keys and times, not containers or jobs: package core
// says what a due key runs and stores when it runs next (docs/engine.md,
// "Policies and retention").
package sched

import (
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// MinEvery is the shortest interval a policy may have.
const MinEvery = time.Second

// Spec is when a policy runs: every Every, or at the times of Cron.
type Spec struct {
	Every time.Duration
	Cron  string
	cron  cron.Schedule
}

// IsZero reports whether s runs never.
func (s Spec) IsZero() bool { return s.Every == 0 && s.cron == nil }

// String is the spec as a user gave it: "every 1h0m0s" or the cron
// expression.
func (s Spec) String() string {
	switch {
	case s.Every > 0:
		return "every " + s.Every.String()
	case s.cron != nil:
		return "cron " + s.Cron
	}
	return "never"
}

// Next is the first time after t the policy runs (zero for none).
func (s Spec) Next(t time.Time) time.Time {
	switch {
	case s.Every > 0:
		return t.Add(s.Every)
	case s.cron != nil:
		return s.cron.Next(t)
	}
	return time.Time{}
}

// ParseEvery parses an interval: a Go duration such as 30m, 1h or 24h, of
// at least MinEvery.
func ParseEvery(v string) (Spec, error) {
	d, err := time.ParseDuration(strings.TrimSpace(v))
	if err != nil {
		return Spec{}, fmt.Errorf("%q is not a duration: give a number with a unit, such as 90s, 30m, 1h or 24h", v)
	}
	if d < MinEvery {
		return Spec{}, fmt.Errorf("%q is shorter than %s, the shortest interval a policy may have", v, MinEvery)
	}
	return Spec{Every: d}, nil
}

// parser reads the standard five fields (minute, hour, day of month,
// month, day of week); no seconds, no descriptors such as @daily.
var parser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow)

// cronHelp is the end of every refusal of a cron expression.
const cronHelp = `give five fields, minute hour day-of-month month day-of-week, such as "0 2 * * *" (every day at 02:00) or "*/15 * * * 1-5" (every 15 minutes on weekdays), in the engine's time zone`

// ParseCron parses a cron expression of five fields, evaluated in the
// engine's local time zone.
func ParseCron(v string) (spec Spec, err error) {
	expr := strings.Join(strings.Fields(v), " ")
	switch {
	case expr == "":
		return Spec{}, fmt.Errorf("the cron expression is empty: %s", cronHelp)
	case strings.HasPrefix(expr, "@"):
		return Spec{}, fmt.Errorf("%q: descriptors such as @daily or @every are not taken (for a fixed interval use the -every option): %s", v, cronHelp)
	case strings.HasPrefix(expr, "TZ=") || strings.HasPrefix(expr, "CRON_TZ="):
		return Spec{}, fmt.Errorf("%q: a time zone prefix is not taken, schedules use the engine's time zone: %s", v, cronHelp)
	}
	if n := len(strings.Fields(expr)); n != 5 {
		return Spec{}, fmt.Errorf("%q has %d field(s): %s", v, n, cronHelp)
	}
	defer func() { // the parser must not take the engine down, whatever the text
		if r := recover(); r != nil {
			spec, err = Spec{}, fmt.Errorf("%q is not a cron expression: %s", v, cronHelp)
		}
	}()
	s, perr := parser.Parse(expr)
	if perr != nil {
		return Spec{}, fmt.Errorf("%q is not a cron expression (%v): %s", v, perr, cronHelp)
	}
	spec = Spec{Cron: expr, cron: s}
	if spec.Next(time.Now()).IsZero() {
		return Spec{}, fmt.Errorf("%q never matches a date (such as the 30th of February): %s", v, cronHelp)
	}
	return spec, nil
}

// Parse is ParseEvery of every or ParseCron of expr, whichever is given;
// neither is the zero Spec, both an error. what names the options in the
// error, such as "--sync-every" and "--sync-schedule".
func Parse(every, expr, everyName, exprName string) (Spec, error) {
	switch {
	case every != "" && expr != "":
		return Spec{}, fmt.Errorf("give %s or %s, not both", everyName, exprName)
	case every != "":
		s, err := ParseEvery(every)
		if err != nil {
			return Spec{}, fmt.Errorf("%s: %w", everyName, err)
		}
		return s, nil
	case expr != "":
		s, err := ParseCron(expr)
		if err != nil {
			return Spec{}, fmt.Errorf("%s: %w", exprName, err)
		}
		return s, nil
	}
	return Spec{}, nil
}
