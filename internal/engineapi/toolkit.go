package engineapi

// Toolkit is an installed plugin as GET delphix/toolkit lists it: the
// fields a user picks a plugin by and tells builds apart with. The engine
// sends more (the plugin's schemas and manifest), which a client may read
// from the raw answer.
type Toolkit struct {
	Type           string   `json:"type"`
	Reference      string   `json:"reference"`
	Namespace      *string  `json:"namespace"`
	Name           string   `json:"name"`
	PrettyName     string   `json:"prettyName"`
	Identifier     string   `json:"identifier"`
	Language       string   `json:"language"`
	Version        *string  `json:"version"`
	BuildNumber    string   `json:"buildNumber"`
	HostTypes      []string `json:"hostTypes"`
	EntryPoint     string   `json:"entryPoint"`
	ArtifactSHA256 string   `json:"artifactSha256,omitempty"`
	InstalledTime  string   `json:"installedTime,omitempty"`
	UpdatedTime    string   `json:"updatedTime,omitempty"`
}

// ToolkitPath is GET delphix/toolkit/{ref}.
func ToolkitPath(ref string) string { return PathToolkits + "/" + seg(ref) }

// ToolkitDeletePath is POST delphix/toolkit/{ref}/delete.
func ToolkitDeletePath(ref string) string { return ToolkitPath(ref) + "/delete" }
