package pluginhost

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/dvpkit/dvp/internal/testio"
	"github.com/dvpkit/dvp/sdk/protocol"
)

// The plugin's log lines start with a time of one fixed width (UTC, six
// fraction digits), so their columns line up whatever the clock says: a
// time whose nanoseconds end in zeros is not shorter.
func TestLogTimeHasAFixedWidth(t *testing.T) {
	var debug testio.Buffer
	l := &LocalLibraries{DebugLog: &debug, InfoLog: &testio.Buffer{}, ErrorLog: &testio.Buffer{}}
	for range 200 {
		l.Log(context.Background(), protocol.LevelDebug, "m")
	}
	line := regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z DEBUG m$`)
	for _, s := range strings.Split(strings.TrimSuffix(debug.String(), "\n"), "\n") {
		if !line.MatchString(s) {
			t.Fatalf("log line %q: want <YYYY-MM-DDTHH:MM:SS.ffffffZ> DEBUG m", s)
		}
	}
}
