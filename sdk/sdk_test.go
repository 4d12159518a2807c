package sdk

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func env(ref string) RemoteEnvironment { return RemoteEnvironment{Name: "e", Reference: ref} }

func TestEnvironmentByReference(t *testing.T) {
	for _, ref := range []string{"UNIX_HOST_ENVIRONMENT-10", "WINDOWS_HOST_ENVIRONMENT-24"} {
		e, err := EnvironmentByReference(ref)
		if err != nil || e.Reference != ref {
			t.Errorf("EnvironmentByReference(%q) = %+v, %v", ref, e, err)
		}
	}
	for _, ref := range []string{"UNIX_HOST-ENVIRONMENT-15", "UNIX-10", "USER-9", "ALERT-17", "HOST-24", "random string", "UNIX_HOST_ENVIRONMENT-", "UNIX_HOST_ENVIRONMENT-1x", ""} {
		_, err := EnvironmentByReference(ref)
		want := fmt.Sprintf("Reference '%s' is not a correctly formatted host environment reference.", ref)
		var rfe *ReferenceFormatError
		if !errors.As(err, &rfe) || err.Error() != want {
			t.Errorf("EnvironmentByReference(%q) error = %v, want %q", ref, err, want)
		}
	}
}

func TestMountSpecificationChecks(t *testing.T) {
	one := Mount{RemoteEnvironment: env("UNIX_HOST_ENVIRONMENT-1"), MountPath: "/mnt/a"}
	shared := one
	shared.SharedPath = "/sub"
	tests := []struct {
		name    string
		spec    MountSpecification
		staged  bool
		wantErr string
	}{
		{"staged no mounts", MountSpecification{}, true, "Mount must be provided for staging sources. Found 0 mounts."},
		{"staged single shared", MountSpecification{Mounts: []Mount{shared}}, true, "Shared path is not supported for linked sources."},
		{"staged single", MountSpecification{Mounts: []Mount{one}}, true, ""},
		{"staged several with shared", MountSpecification{Mounts: []Mount{one, shared}}, true, ""},
		{"virtual no mounts", MountSpecification{}, false, ""},
		{"virtual single shared", MountSpecification{Mounts: []Mount{shared}}, false, ""},
		{"no environment", MountSpecification{Mounts: []Mount{{MountPath: "/x"}}}, false, "Mount 1 of the mount specification (mount path '/x') has no remote environment"},
		{"no path", MountSpecification{Mounts: []Mount{one, {RemoteEnvironment: env("E-2")}}}, true, "Mount 2 of the mount specification (environment 'E-2') has an empty mount path."},
		{"negative uid", MountSpecification{Mounts: []Mount{one}, OwnershipSpecification: &OwnershipSpecification{UID: -1}}, false,
			"OwnershipSpecification's parameter 'uid' was -1 but should be a non-negative integer."},
		{"ownership ok", MountSpecification{Mounts: []Mount{one}, OwnershipSpecification: &OwnershipSpecification{UID: 10, GID: 20}}, true, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			if tc.staged {
				err = tc.spec.ValidateStaged()
			} else {
				err = tc.spec.Validate()
			}
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("unexpected error %v", err)
			case tc.wantErr != "" && (err == nil || !strings.HasPrefix(err.Error(), tc.wantErr)):
				t.Fatalf("error = %v, want prefix %q", err, tc.wantErr)
			}
		})
	}
}

type params struct {
	Port int `json:"port"`
}

func TestStagedSourceJSON(t *testing.T) {
	conn := `{"environment":{"name":"n","reference":"UNIX_HOST_ENVIRONMENT-1","host":{"name":"h","reference":"H","binary_path":"/b","scratch_path":"/s"}},"user":{"name":"u","reference":"U"}}`
	mount := `{"remote_environment":{"name":"n","reference":"UNIX_HOST_ENVIRONMENT-1","host":{"name":"h","reference":"H","binary_path":"","scratch_path":""}},"mount_path":"/mnt/s"}`
	base := `"guid":"g","source_connection":` + conn + `,"staged_connection":` + conn + `,"parameters":{"port":5432}`

	var s StagedSource[params]
	if err := json.Unmarshal([]byte(`{`+base+`,"staged_mount":`+mount+`}`), &s); err != nil {
		t.Fatal(err)
	}
	if s.Mount == nil || s.Mount.MountPath != "/mnt/s" || s.Mounts != nil || s.Parameters.Port != 5432 ||
		s.StagedConnection.Environment.Host.ScratchPath != "/s" {
		t.Fatalf("decoded %+v", s)
	}

	s = StagedSource[params]{}
	if err := json.Unmarshal([]byte(`{`+base+`,"staged_mount":{"mount_path":""},"mounts":[`+mount+`,`+mount+`]}`), &s); err != nil {
		t.Fatal(err)
	}
	if s.Mount != nil || len(s.Mounts) != 2 {
		t.Fatalf("with mounts: Mount=%v Mounts=%v", s.Mount, s.Mounts)
	}

	err := json.Unmarshal([]byte(`{`+base+`,"staged_mount":`+mount+`,"mounts":[`+mount+`]}`), &s)
	if !errors.Is(err, ErrBothStagedMounts) ||
		err.Error() != "Either staged_mount or mounts can be present for staging source. Found both staged_mount and mounts." {
		t.Fatalf("both: %v", err)
	}

	// Encoding uses the protocol's field names.
	b, _ := json.Marshal(StagedSource[params]{GUID: "g", Mount: &Mount{MountPath: "/m", SharedPath: ""}})
	for _, key := range []string{`"staged_connection"`, `"source_connection"`, `"staged_mount"`, `"mount_path"`, `"binary_path"`, `"scratch_path"`} {
		if !strings.Contains(string(b), key) {
			t.Errorf("%s lacks %s", b, key)
		}
	}
	if strings.Contains(string(b), `"mounts"`) || strings.Contains(string(b), `"shared_path"`) {
		t.Errorf("%s has empty optional fields", b)
	}
}

func TestStatusJSON(t *testing.T) {
	b, err := json.Marshal(StatusInactive)
	if err != nil || string(b) != `"INACTIVE"` {
		t.Fatalf("marshal = %s, %v", b, err)
	}
	if _, err := json.Marshal(Status(3)); err == nil {
		t.Fatal("Status(3) marshalled")
	}
	for in, want := range map[string]Status{`"ACTIVE"`: StatusActive, `"INACTIVE"`: StatusInactive, `0`: StatusActive, `1`: StatusInactive} {
		var s Status
		if err := json.Unmarshal([]byte(in), &s); err != nil || s != want {
			t.Errorf("unmarshal %s = %v, %v", in, s, err)
		}
	}
	for _, in := range []string{`"active"`, `2`, `null`, `{}`} {
		var s Status
		if err := json.Unmarshal([]byte(in), &s); err == nil {
			t.Errorf("unmarshal %s accepted", in)
		}
	}
}

func TestMigrationTypeText(t *testing.T) {
	b, err := json.Marshal(map[string]MigrationType{"a": LuaMigration})
	if err != nil || string(b) != `{"a":"LUA"}` {
		t.Fatalf("%s %v", b, err)
	}
	var mt MigrationType
	if err := json.Unmarshal([]byte(`"PLATFORM"`), &mt); err != nil || mt != PlatformMigration {
		t.Fatalf("%v %v", mt, err)
	}
	if err := json.Unmarshal([]byte(`"OTHER"`), &mt); err == nil {
		t.Fatal("accepted OTHER")
	}
}

func TestCredentialsMasked(t *testing.T) {
	p := PasswordCredentials{Username: "bob", Password: "s3cret"}
	k := KeyPairCredentials{Username: "amy", PrivateKey: "PRIVATE-KEY", PublicKey: "ssh-rsa AAA"}
	var sb strings.Builder
	logger := slog.New(slog.NewTextHandler(&sb, nil))
	logger.Info("creds", "p", p, "k", k)
	for _, s := range []string{fmt.Sprint(p), fmt.Sprintf("%+v %#v", p, p), fmt.Sprint(k), fmt.Sprintf("%#v", k), sb.String()} {
		if strings.Contains(s, "s3cret") || strings.Contains(s, "PRIVATE-KEY") {
			t.Errorf("secret printed: %s", s)
		}
		if !strings.Contains(s, "bob") && !strings.Contains(s, "amy") {
			t.Errorf("user name missing: %s", s)
		}
	}
	var c Credentials = k
	if c.CredentialsUsername() != "amy" {
		t.Fatal(c.CredentialsUsername())
	}
}

func TestUserError(t *testing.T) {
	var err error = &UserError{Message: "m", Action: "a", Output: "o"}
	var ue *UserError
	if !errors.As(fmt.Errorf("wrapped: %w", err), &ue) || ue.Action != "a" || err.Error() != "m" {
		t.Fatal(err)
	}
}
