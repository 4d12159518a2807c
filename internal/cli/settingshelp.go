package cli

import (
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/dvpkit/dvp/internal/settings"
	"github.com/dvpkit/dvp/internal/termsafe"
)

// The settings a command that talks to an engine takes from the
// environment or ~/.dvp/config as well as from its flags (docs/settings.md)
// are shown twice: --help ends with their values now and where each comes
// from (settingsHelp), and -v says where each value in use came from
// (logSettings). A password is never shown, only where it comes from.

// connectionKeys are the settings with layers, and their flags.
var connectionKeys = []struct{ key, flag string }{
	{settings.KeyEngine, "-e/--engine"},
	{settings.KeyUser, "-u/--user"},
	{settings.KeyPassword, "--password-stdin, --password"},
}

// usesConnection tells whether c takes the engine connection flags.
func usesConnection(c *cobra.Command) bool {
	return c.Flags().Lookup(settings.KeyEngine) != nil && c.Flags().Lookup("password-stdin") != nil
}

// settingsHelp is the end of the help of a command that talks to an
// engine: each layered setting, its value now without flags (the
// password as "set"), and the environment variable or file line it comes
// from, or how to give it.
func settingsHelp(app *App, c *cobra.Command) string {
	var b strings.Builder
	path := settings.ConfigPath(app.IO.Home)
	if app.IO.Home == "" {
		path = "~/.dvp/config"
	}
	fmt.Fprintf(&b, "\nEngine settings (flags first, then the environment, then %s):\n", path)
	s, err := settings.Load(settings.Options{Home: app.IO.Home, Getenv: app.IO.Getenv})
	if err != nil {
		fmt.Fprintf(&b, "  Error: %s (the commands that talk to an engine stop until it is fixed)\n", firstLine(err.Error()))
		s, _ = settings.Load(settings.Options{Getenv: app.IO.Getenv})
	}
	private := c.Name() == "test" && c.Parent() != nil && c.Parent().Parent() == nil
	for _, k := range connectionKeys {
		val, src := s.Get(k.key)
		var now string
		switch {
		case private && k.key == settings.KeyEngine:
			now = "a private engine, unless -e is given (dvp test reads no DVP_ENGINE nor engine in the file)"
		case src == settings.FromNowhere && k.key == settings.KeyPassword:
			now = fmt.Sprintf("not set: dvp asks for it on a terminal (or give %s, DVP_PASSWORD or password in the file)", k.flag)
		case src == settings.FromNowhere:
			now = fmt.Sprintf("not set: give %s, %s or %s in the file", k.flag, settings.EnvName(k.key), k.key)
		case k.key == settings.KeyPassword:
			now = "set (not shown), from " + sourceName(src, k.key, path)
		default:
			now = shownValue(val) + ", from " + sourceName(src, k.key, path)
		}
		fmt.Fprintf(&b, "  %-9s %s\n", k.key, now)
	}
	for _, w := range s.Warnings() {
		fmt.Fprintf(&b, "  Warning: %s\n", termsafe.String(w))
	}
	return b.String()
}

// sourceName says where a value came from, for a person.
func sourceName(src settings.Source, key, path string) string {
	switch src {
	case settings.FromFlag:
		return "the flag --" + key
	case settings.FromEnv:
		return "the environment variable " + settings.EnvName(key)
	case settings.FromFile:
		return fmt.Sprintf("%s ([default] %s)", path, key)
	}
	return "the default"
}

// logEngineSetting says at -v which engine the command uses and where
// that came from, as soon as it is known (before the address is checked).
func logEngineSetting(app *App, s *settings.Settings) {
	path := s.ConfigFile()
	if path == "" {
		path = "~/.dvp/config"
	}
	engine, esrc := s.Get(settings.KeyEngine)
	app.Log.Info(fmt.Sprintf("Engine %s, from %s.", shownValue(engine), sourceName(esrc, settings.KeyEngine, path)))
}

// logSettings says at -v where the other settings of the connection came
// from (logEngineSetting the engine's): the user with its value, the
// password without it.
func logSettings(app *App, s *settings.Settings, o *ConnectionOptions, cmd *cobra.Command, passwordFrom string) {
	path := s.ConfigFile()
	if path == "" {
		path = "~/.dvp/config"
	}
	user, usrc := s.Get(settings.KeyUser)
	app.Log.Info(fmt.Sprintf("User %s, from %s.", termsafe.String(user), sourceName(usrc, settings.KeyUser, path)))
	app.Log.Info(fmt.Sprintf("Password (not shown) from %s.", passwordFrom))
	from := "the default"
	if cmd.Flags().Changed("read-timeout") {
		from = "the flag --read-timeout"
	}
	app.Log.Info(fmt.Sprintf("Read timeout %s, from %s.", o.ReadTimeout.Round(time.Millisecond), from))
}

// shownValue is a setting's value as help and -v show it: escaped for the
// terminal, and an engine URL's password (http://user:PASSWORD@host) as
// xxxxx.
func shownValue(v string) string {
	if u, err := url.Parse(v); err == nil && u.User != nil {
		if _, ok := u.User.Password(); ok {
			v = u.Redacted()
		}
	}
	return termsafe.String(v)
}

// firstLine is s up to its first newline.
func firstLine(s string) string {
	first, _, _ := strings.Cut(s, "\n")
	return first
}

// writeSettingsHelp appends settingsHelp to the help of c when c talks to
// an engine.
func writeSettingsHelp(app *App, c *cobra.Command, w io.Writer) {
	if usesConnection(c) {
		io.WriteString(w, settingsHelp(app, c))
	}
}
