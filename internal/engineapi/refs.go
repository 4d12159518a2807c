package engineapi

import (
	"fmt"
	"strconv"
	"strings"
)

// Object kinds. A kind is also the collection's path under delphix/
// (delphix/environment, delphix/database, ...).
const (
	KindEnvironment  = "environment"
	KindRepository   = "repository"
	KindSourceConfig = "sourceconfig"
	KindContainer    = "database" // dSources and VDBs
	KindSnapshot     = "snapshot"
)

// RefPrefixes are the reference prefixes of the kinds (Delphix-style: a
// reference is the prefix, "-" and a number).
var RefPrefixes = map[string]string{
	KindEnvironment:  "UNIX_HOST_ENVIRONMENT",
	KindRepository:   "APPDATA_REPOSITORY",
	KindSourceConfig: "APPDATA_SOURCE_CONFIG",
	KindContainer:    "APPDATA_CONTAINER",
	KindSnapshot:     "APPDATA_SNAPSHOT",
}

// Reference prefixes of the objects that are not data objects.
const (
	RefPrefixToolkit = "APPDATA_TOOLKIT"
	RefPrefixJob     = "JOB"
	RefPrefixAction  = "ACTION"
	RefPrefixUser    = "USER"
)

// Ref is the reference of the object of the kind with the id.
func Ref(kind string, id int64) string { return fmt.Sprintf("%s-%d", RefPrefixes[kind], id) }

// ParseRef returns the id of a reference of the kind, or 0.
func ParseRef(kind, ref string) int64 {
	p := RefPrefixes[kind] + "-"
	if !strings.HasPrefix(ref, p) {
		return 0
	}
	id, err := strconv.ParseInt(ref[len(p):], 10, 64)
	if err != nil || id <= 0 || Ref(kind, id) != ref {
		return 0
	}
	return id
}
