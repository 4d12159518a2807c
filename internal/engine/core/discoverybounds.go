// What one plugin's discovery on one environment may make the engine
// store (docs/engine.md, "Environments, dSources and VDBs"): every
// repository and source config it returns is a row of the database and an
// event of the job, and every repository one more source config discovery
// of up to 4 MiB, so a hostile plugin could otherwise fill the data
// directory's disk from a single environment add.

package core

import (
	"fmt"
	"unicode/utf8"

	"github.com/dvpkit/dvp/internal/pluginhost"
)

const (
	// MaxDiscoveredRepositories bounds the repositories one plugin's
	// discovery.repository() returns on one environment.
	MaxDiscoveredRepositories = 1000
	// MaxDiscoveredSourceConfigs bounds the source configs one plugin's
	// discovery.source_config() calls return on one environment, in all.
	MaxDiscoveredSourceConfigs = 10000
	// MaxDiscoveredSourceConfigBytes bounds their JSON, in all.
	MaxDiscoveredSourceConfigBytes = 64 << 20
	// maxEventName bounds a plugin-given name quoted in a job's event.
	maxEventName = 256
)

// discoveryTooMuch is the failure of a discovery that returned more than
// the engine keeps.
func discoveryTooMuch(op, format string, args ...any) error {
	return &pluginhost.PluginError{Kind: pluginhost.KindBadOutput, Operation: op,
		Message: fmt.Sprintf(format, args...),
		Action:  "Return only the repositories and source configs that exist on the environment; if that many do, discover them on more than one environment or ask the plugin's author to group them."}
}

// checkRepositoryCount refuses an answer of discovery.repository() with
// more than MaxDiscoveredRepositories repositories, before any is stored.
func checkRepositoryCount(n int) error {
	if n > MaxDiscoveredRepositories {
		return discoveryTooMuch("discovery.repository", "discovery.repository() returned %d repositories: the engine keeps at most %d of one plugin on one environment. Nothing of this discovery was stored.", n, MaxDiscoveredRepositories)
	}
	return nil
}

// countSourceConfigs adds one answer of discovery.source_config() (n
// source configs, size bytes of JSON) to what the discovery found so far,
// and refuses it, before any of it is stored, when the total goes over
// MaxDiscoveredSourceConfigs or MaxDiscoveredSourceConfigBytes.
func (d *discoveryRun) countSourceConfigs(repo string, n, size int) error {
	d.scCount += n
	d.scBytes += size
	switch {
	case d.scCount > MaxDiscoveredSourceConfigs:
		return discoveryTooMuch("discovery.source_config", "discovery.source_config() returned %d source configs in repository %q, %d in all on this environment: the engine keeps at most %d source configs of one plugin on one environment.", n, eventName(repo), d.scCount, MaxDiscoveredSourceConfigs)
	case d.scBytes > MaxDiscoveredSourceConfigBytes:
		return discoveryTooMuch("discovery.source_config", "discovery.source_config() returned %d bytes of source configs in repository %q, %d in all on this environment: the engine keeps at most %d MiB of source configs of one plugin on one environment.", size, eventName(repo), d.scBytes, MaxDiscoveredSourceConfigBytes>>20)
	}
	return nil
}

// eventName is a plugin-given name as a job's event quotes it: at most
// maxEventName bytes, cut on a rune boundary, saying how much was left out.
func eventName(s string) string {
	if len(s) <= maxEventName {
		return s
	}
	n := maxEventName
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return fmt.Sprintf("%s... (%d more bytes)", s[:n], len(s)-n)
}
