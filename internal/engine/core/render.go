package core

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/dvpkit/dvp/internal/engine/store"
	"github.com/dvpkit/dvp/internal/engineapi"
)

// The engine's objects as the API shows them.

// toolkitObject renders an installed plugin as a Toolkit object
// (docs/engine.md, "Endpoints"). sourceCode is left out: it can be
// hundreds of megabytes; its size and hash are given instead.
func toolkitObject(t *store.Toolkit) (*orderedMap, error) {
	a, err := t.Artifact()
	if err != nil {
		return nil, err
	}
	var version, luaName, minLua any
	if a.ExternalVersion != "" {
		version = a.ExternalVersion
	}
	if a.LuaName != "" {
		luaName = a.LuaName
	}
	if a.MinimumLuaVersion != "" {
		minLua = a.MinimumLuaVersion
	}
	return orderedObject(
		"type", "Toolkit",
		"reference", t.Ref(),
		"namespace", nil,
		"name", a.Name,
		"prettyName", a.Name,
		"identifier", a.PluginID,
		"language", a.Language,
		"version", version,
		"buildNumber", a.BuildNumber,
		"buildApi", a.BuildAPI,
		"engineApi", a.EngineAPI,
		"hostTypes", a.HostTypes,
		"rootSquashEnabled", a.RootSquashEnabled,
		"entryPoint", a.EntryPoint,
		"defaultLocale", a.DefaultLocale,
		"virtualSourceDefinition", a.VirtualSourceDefinition,
		"linkedSourceDefinition", a.LinkedSourceDefinition,
		"discoveryDefinition", a.DiscoveryDefinition,
		"snapshotSchema", a.SnapshotSchema,
		"snapshotParametersDefinition", a.SnapshotParametersDefinition,
		"upgradeDefinition", map[string]any{"type": "ToolkitUpgradeDefinition", "migrationIdList": nonNil(a.Manifest.MigrationIDList)},
		"manifest", a.Manifest,
		"extendedStartStopHooks", a.ExtendedStartStopHooks,
		"luaName", luaName,
		"minimumLuaVersion", minLua,
		"sourceCodeSha256", t.SourceSHA256,
		"sourceCodeSize", t.SourceSize,
		"artifactSha256", t.ArtifactSHA256,
		"installedTime", t.Installed,
		"updatedTime", t.Updated,
	), nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// orderedMap is a JSON object that keeps its keys in the given order.
type orderedMap struct {
	keys []string
	vals []any
}

func orderedObject(kv ...any) *orderedMap {
	om := &orderedMap{}
	for i := 0; i+1 < len(kv); i += 2 {
		om.keys = append(om.keys, kv[i].(string))
		om.vals = append(om.vals, kv[i+1])
	}
	return om
}

func (o *orderedMap) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range o.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		b.Write(kb)
		b.WriteByte(':')
		vb, err := marshalNoEscape(o.vals[i])
		if err != nil {
			return nil, err
		}
		b.Write(vb)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

func marshalNoEscape(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

func actionObject(a *store.Action) *engineapi.Action {
	return &engineapi.Action{
		Type:               "Action",
		Reference:          a.Ref(),
		Title:              a.Title,
		Details:            a.Details,
		ActionType:         a.ActionType,
		StartTime:          a.StartTime,
		EndTime:            a.EndTime,
		User:               a.UserRef,
		State:              a.State,
		FailureDescription: a.FailureDescription,
		FailureAction:      a.FailureAction,
		FailureMessageCode: a.FailureCode,
	}
}

// jobObject renders a job (with its events) as a Job object. Where the
// job dropped events (their numbers leave a gap: store.KeepJobEvents), one
// event says how many and between which times, and NextEventsSince says
// where a client that follows the job goes on.
func jobObject(j *store.Job, a *store.Action) *engineapi.Job {
	events := make([]engineapi.JobEvent, 0, len(j.Events))
	prev, dropped := int64(j.EventsSince), false
	prevTime := ""
	for _, ev := range j.Events {
		if ev.Seq > prev+1 {
			events = append(events, droppedEvent(ev.Seq-prev-1, prevTime, ev, j))
			dropped = true
		}
		prev, prevTime = ev.Seq, ev.Timestamp
		events = append(events, engineapi.JobEvent{
			Type:            "JobEvent",
			Timestamp:       ev.Timestamp,
			State:           ev.State,
			PercentComplete: ev.Percent,
			MessageCode:     ev.MessageCode,
			MessageDetails:  ev.Details,
			MessageAction:   ev.Action,
			EventType:       ev.EventType,
			Diagnoses:       []string{},
		})
	}
	next := 0
	if dropped {
		next = int(prev)
	}
	return &engineapi.Job{
		Type:             "Job",
		Reference:        j.Ref(),
		ActionType:       j.ActionType,
		Title:            j.Title,
		Target:           j.Target,
		TargetObjectType: targetObjectType(j),
		TargetName:       j.TargetName,
		JobState:         j.State,
		StartTime:        j.StartTime,
		UpdateTime:       j.UpdateTime,
		User:             j.UserRef,
		PercentComplete:  j.Percent,
		ParentAction:     a.Ref(),
		Events:           events,
		NextEventsSince:  next,
	}
}

// droppedEvent stands for the n events a job dropped before next (the
// first event kept after them), which came after the time since ("" when
// the answer starts there).
func droppedEvent(n int64, since string, next store.JobEvent, j *store.Job) engineapi.JobEvent {
	when := "before " + next.Timestamp
	if since != "" {
		when = fmt.Sprintf("between %s and %s", since, next.Timestamp)
	}
	first, last := j.EventsKept()
	return engineapi.JobEvent{
		Type: "JobEvent", Timestamp: next.Timestamp, PercentComplete: next.Percent,
		MessageCode: engineapi.EventsDroppedCode, EventType: "WARNING", Diagnoses: []string{},
		MessageDetails: fmt.Sprintf("%d events of this job were dropped (they came %s): a job keeps its first %d and its last %d events.", n, when, first, last),
	}
}

func targetObjectType(j *store.Job) string {
	t := store.TextValue(j.Target)
	switch {
	case strings.HasPrefix(t, "APPDATA_TOOLKIT-"):
		return "Toolkit"
	case strings.HasPrefix(t, engineapi.RefPrefixes[store.KindEnvironment]+"-"):
		return "UnixHostEnvironment"
	case strings.HasPrefix(t, engineapi.RefPrefixes[store.KindContainer]+"-"):
		return "AppDataContainer"
	}
	return "Toolkit"
}
