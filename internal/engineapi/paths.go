package engineapi

import (
	"net/url"
	"strconv"
)

// APIPrefix is the path of every API resource; the paths below are
// relative to it.
const APIPrefix = "/resources/json/"

// SessionCookie is the name of the session cookie.
const SessionCookie = "JSESSIONID"

// Resource paths, under APIPrefix.
const (
	PathSession            = "delphix/session"
	PathLogin              = "delphix/login"
	PathLogout             = "delphix/logout"
	PathRequestUploadToken = "delphix/toolkit/requestUploadToken"
	PathUpload             = "delphix/data/upload"
	PathToolkits           = "delphix/toolkit"
	PathBundleGenerate     = "delphix/service/support/bundle/generate"
	PathDownload           = "delphix/data/downloadOutputStream"
	PathEnvironments       = "delphix/" + KindEnvironment
	PathRepositories       = "delphix/" + KindRepository
	PathSourceConfigs      = "delphix/" + KindSourceConfig
	PathContainers         = "delphix/" + KindContainer
	PathLink               = PathContainers + "/link"
	PathProvision          = PathContainers + "/provision"
	PathCreateEmpty        = PathContainers + "/createEmpty"
	PathSnapshots          = "delphix/" + KindSnapshot
	PathJobs               = "delphix/job"
	PathActions            = "delphix/action"
)

// Environment operations of POST delphix/environment/{ref}/{op}.
const (
	EnvironmentRefresh = "refresh"
	EnvironmentDelete  = "delete"
)

// seg escapes a reference or name for a path segment or a query value.
func seg(s string) string { return url.PathEscape(s) }

// EnvironmentOpPath is POST delphix/environment/{ref}/{op}; ref may be a
// name.
func EnvironmentOpPath(ref, op string) string { return PathEnvironments + "/" + seg(ref) + "/" + op }

// EnvironmentPath is GET (read) and POST (update) delphix/environment/{ref};
// ref may be a name.
func EnvironmentPath(ref string) string { return PathEnvironments + "/" + seg(ref) }

// SourceConfigPath is GET (read) and POST (update)
// delphix/sourceconfig/{ref}; ref may be a name.
func SourceConfigPath(ref string) string { return PathSourceConfigs + "/" + seg(ref) }

// ContainerPath is GET (show) and POST (update) delphix/database/{ref};
// ref may be a name.
func ContainerPath(ref string) string { return PathContainers + "/" + seg(ref) }

// ContainerOpPath is POST delphix/database/{ref}/{op} (ContainerOps); ref
// may be a name.
func ContainerOpPath(ref, op string) string { return PathContainers + "/" + seg(ref) + "/" + op }

// SourceConfigDeletePath is POST delphix/sourceconfig/{ref}/delete; ref
// may be a name.
func SourceConfigDeletePath(ref string) string { return PathSourceConfigs + "/" + seg(ref) + "/delete" }

// RepositoriesOfPath lists the repositories of an environment (reference
// or name).
func RepositoriesOfPath(env string) string { return PathRepositories + "?environment=" + seg(env) }

// SnapshotsOfPath lists the snapshots of a dSource or VDB (reference or
// name).
func SnapshotsOfPath(container string) string { return PathSnapshots + "?database=" + seg(container) }

// JobPath is GET delphix/job/{ref}.
func JobPath(ref string) string { return PathJobs + "/" + seg(ref) }

// JobSincePath is GET delphix/job/{ref}?eventsSince=N: the job with its
// events but the first n.
func JobSincePath(ref string, n int) string {
	if n <= 0 {
		return JobPath(ref)
	}
	return JobPath(ref) + "?" + QueryEventsSince + "=" + strconv.Itoa(n)
}

// JobCancelPath is POST delphix/job/{ref}/cancel.
func JobCancelPath(ref string) string { return JobPath(ref) + "/cancel" }

// JobsPath is GET delphix/job, with the filters that are not empty:
// jobState and target (a reference or name).
func JobsPath(state, target string) string {
	q := url.Values{}
	if state != "" {
		q.Set(QueryJobState, state)
	}
	if target != "" {
		q.Set(QueryJobTarget, target)
	}
	if len(q) == 0 {
		return PathJobs
	}
	return PathJobs + "?" + q.Encode()
}

// ActionPath is GET delphix/action/{ref}.
func ActionPath(ref string) string { return PathActions + "/" + seg(ref) }

// ActionJobPath is GET delphix/action/{ref}/getJob.
func ActionJobPath(ref string) string { return ActionPath(ref) + "/getJob" }

// ActionJobSincePath is GET delphix/action/{ref}/getJob?eventsSince=N.
func ActionJobSincePath(ref string, n int) string {
	if n <= 0 {
		return ActionJobPath(ref)
	}
	return ActionJobPath(ref) + "?" + QueryEventsSince + "=" + strconv.Itoa(n)
}

// DownloadPath is GET delphix/data/downloadOutputStream?token=... . The
// token is escaped as Python's urllib.parse.quote(s, safe="") escapes it:
// every byte but letters, digits and -_.~ .
func DownloadPath(token string) string { return PathDownload + "?token=" + queryEscape(token) }

func queryEscape(s string) string {
	const hex = "0123456789ABCDEF"
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || ch == '-' || ch == '_' || ch == '.' || ch == '~' {
			b = append(b, ch)
		} else {
			b = append(b, '%', hex[ch>>4], hex[ch&15])
		}
	}
	return string(b)
}
