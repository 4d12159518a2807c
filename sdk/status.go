package sdk

import (
	"encoding/json"
	"fmt"
)

// Status is what the status operations return.
type Status int

const (
	// StatusActive: the dataset is running.
	StatusActive Status = 0
	// StatusInactive: the dataset is not running.
	StatusInactive Status = 1
)

// String returns ACTIVE or INACTIVE.
func (s Status) String() string {
	switch s {
	case StatusActive:
		return "ACTIVE"
	case StatusInactive:
		return "INACTIVE"
	}
	return fmt.Sprintf("Status(%d)", int(s))
}

// MarshalJSON encodes the status by name ("ACTIVE" or "INACTIVE"); any other
// value is an error.
func (s Status) MarshalJSON() ([]byte, error) {
	if s != StatusActive && s != StatusInactive {
		return nil, fmt.Errorf("%d is not a valid status: use sdk.StatusActive or sdk.StatusInactive", int(s))
	}
	return json.Marshal(s.String())
}

// UnmarshalJSON accepts the names "ACTIVE"/"INACTIVE" and the platform's
// integer values 0/1.
func (s *Status) UnmarshalJSON(b []byte) error {
	var name string
	if err := json.Unmarshal(b, &name); err == nil {
		switch name {
		case "ACTIVE":
			*s = StatusActive
			return nil
		case "INACTIVE":
			*s = StatusInactive
			return nil
		}
		return fmt.Errorf("status %q is not ACTIVE or INACTIVE", name)
	}
	var n int
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("status %s is not ACTIVE or INACTIVE", b)
	}
	if Status(n) != StatusActive && Status(n) != StatusInactive {
		return fmt.Errorf("status %d is not 0 (ACTIVE) or 1 (INACTIVE)", n)
	}
	*s = Status(n)
	return nil
}

// MigrationType tells how an upgrade migration is run.
type MigrationType int

const (
	// PlatformMigration is a data migration written in Go, identified by a
	// migration id such as "2019.04.01".
	PlatformMigration MigrationType = 0
	// LuaMigration is a migration that replaces a Lua upgrade script of a
	// plugin formerly written in Lua, identified by a "major.minor" version.
	LuaMigration MigrationType = 1
)

// String returns PLATFORM or LUA.
func (t MigrationType) String() string {
	switch t {
	case PlatformMigration:
		return "PLATFORM"
	case LuaMigration:
		return "LUA"
	}
	return fmt.Sprintf("MigrationType(%d)", int(t))
}

// MarshalText encodes the type by name.
func (t MigrationType) MarshalText() ([]byte, error) {
	if t != PlatformMigration && t != LuaMigration {
		return nil, fmt.Errorf("%d is not a valid migration type", int(t))
	}
	return []byte(t.String()), nil
}

// UnmarshalText decodes PLATFORM or LUA.
func (t *MigrationType) UnmarshalText(b []byte) error {
	switch string(b) {
	case "PLATFORM":
		*t = PlatformMigration
	case "LUA":
		*t = LuaMigration
	default:
		return fmt.Errorf("migration type %q is not PLATFORM or LUA", b)
	}
	return nil
}
