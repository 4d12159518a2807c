package engineclient

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/dvpkit/dvp/internal/engineapi"
)

// The engine's data objects (environments, source configs, dSources, VDBs,
// snapshots): docs/engine.md, "Environments, dSources and VDBs".

// Started is the answer to a request that may start a job: its result
// (the reference of the object it made, for most) and the job and action
// it started ("" when none).
type Started struct {
	Result json.RawMessage
	Job    string
	Action string
}

func started(env *engineapi.Envelope) *Started {
	s := &Started{Result: env.Result}
	if env.Job != nil {
		s.Job = *env.Job
	}
	if env.Action != nil {
		s.Action = *env.Action
	}
	return s
}

func (c *Client) start(ctx context.Context, path string, body any) (*Started, error) {
	env, err := c.postJSON(ctx, path, body)
	if err != nil {
		return nil, err
	}
	return started(env), nil
}

// ListPageSize is how many items a list asks the engine for at a time.
const ListPageSize = 100

// MaxListItems and MaxListBytes bound one list read a page at a time: the
// items, and the size of the answers (each at most MaxAnswerBytes).
const (
	MaxListItems = 1_000_000
	MaxListBytes = 256 << 20
)

// list reads the whole list at path a page at a time (pageSize and
// pageOffset, docs/engine.md "Paging"), so that no answer grows with the
// engine's data. An engine that does not page answers the whole list at
// once (overflow false), which ends the loop as well.
func list[T any](ctx context.Context, c *Client, path string) ([]T, error) {
	out := []T{}
	read := 0
	for page := 0; ; page++ {
		var items []T
		l, err := c.getList(ctx, pagedPath(path, ListPageSize, page), &items)
		if err != nil {
			return nil, err
		}
		out = append(out, items...)
		// An engine that says overflow on every page, whatever total it
		// gives, would be read without end, each page kept.
		if read += l.size; len(out) > MaxListItems || read > MaxListBytes {
			return nil, &Error{Kind: KindUnexpected, Msg: fmt.Sprintf(
				"The engine's list at %s goes on past %d items or %d MiB of answers (%d items in %d pages so far, and the engine says more follow), more than dvp reads of one list: dvp stopped reading it.\nCheck that the engine address (-e, DVP_ENGINE, or engine in ~/.dvp/config) names a Delphix Engine or dvp engine serve.",
				c.base.String()+engineapi.APIPrefix+pathOnly(path), MaxListItems, MaxListBytes>>20, len(out), page+1)}
		}
		// A page short of pageSize is the last one; so is the page that
		// reaches the total the engine gave (a guard against an engine
		// that says overflow without moving on).
		if !l.Overflow || len(items) < ListPageSize || len(out) >= l.Total {
			return out, nil
		}
	}
}

// WithoutPaging is a raw query without the paging parameters that lists
// add (for fakes of the engine in tests).
func WithoutPaging(rawQuery string) string {
	var kept []string
	for _, kv := range strings.Split(rawQuery, "&") {
		if kv != "" && !strings.HasPrefix(kv, "pageSize=") && !strings.HasPrefix(kv, "pageOffset=") {
			kept = append(kept, kv)
		}
	}
	return strings.Join(kept, "&")
}

// pagedPath is path asking for page number page of size items.
func pagedPath(path string, size, page int) string {
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	return path + sep + "pageSize=" + strconv.Itoa(size) + "&pageOffset=" + strconv.Itoa(page)
}

// CreateEnvironment adds an environment; its job checks the host and runs
// discovery.
func (c *Client) CreateEnvironment(ctx context.Context, p engineapi.EnvironmentCreateParameters) (*Started, error) {
	if p.Type == "" {
		p.Type = engineapi.TypeEnvironmentCreateParameters
	}
	return c.start(ctx, engineapi.PathEnvironments, p)
}

// RefreshEnvironment runs discovery on an environment (reference or name)
// again.
func (c *Client) RefreshEnvironment(ctx context.Context, env string) (*Started, error) {
	return c.start(ctx, engineapi.EnvironmentOpPath(env, engineapi.EnvironmentRefresh), struct{}{})
}

// UpdateEnvironment changes the SSH settings of an environment, or the OS
// user of a local one (reference or name); its job checks the host with
// them first.
func (c *Client) UpdateEnvironment(ctx context.Context, env string, p engineapi.EnvironmentUpdateParameters) (*Started, error) {
	if p.Type == "" {
		p.Type = engineapi.TypeEnvironmentUpdateParameters
	}
	return c.start(ctx, engineapi.EnvironmentPath(env), p)
}

// DeleteEnvironment deletes an environment (reference or name).
func (c *Client) DeleteEnvironment(ctx context.Context, env string) (*Started, error) {
	return c.start(ctx, engineapi.EnvironmentOpPath(env, engineapi.EnvironmentDelete), struct{}{})
}

// ListEnvironments lists the environments, oldest first.
func (c *Client) ListEnvironments(ctx context.Context) ([]engineapi.Environment, error) {
	return list[engineapi.Environment](ctx, c, engineapi.PathEnvironments)
}

// AddSourceConfig adds a source config to a repository.
func (c *Client) AddSourceConfig(ctx context.Context, p engineapi.SourceConfigCreateParameters) (*Started, error) {
	if p.Type == "" {
		p.Type = engineapi.TypeSourceConfigCreateParameters
	}
	return c.start(ctx, engineapi.PathSourceConfigs, p)
}

// ListSourceConfigs lists the source configs, oldest first.
func (c *Client) ListSourceConfigs(ctx context.Context) ([]engineapi.SourceConfig, error) {
	return list[engineapi.SourceConfig](ctx, c, engineapi.PathSourceConfigs)
}

// UpdateSourceConfig replaces the parameters of a source config
// (reference or name).
func (c *Client) UpdateSourceConfig(ctx context.Context, ref string, p engineapi.SourceConfigUpdateParameters) (*Started, error) {
	if p.Type == "" {
		p.Type = engineapi.TypeSourceConfigUpdateParameters
	}
	return c.start(ctx, engineapi.SourceConfigPath(ref), p)
}

// DeleteSourceConfig deletes a source config (reference or name).
func (c *Client) DeleteSourceConfig(ctx context.Context, ref string) (*Started, error) {
	return c.start(ctx, engineapi.SourceConfigDeletePath(ref), struct{}{})
}

// ListRepositories lists the repositories discovered on an environment
// (reference or name), oldest first.
func (c *Client) ListRepositories(ctx context.Context, env string) ([]engineapi.Repository, error) {
	return list[engineapi.Repository](ctx, c, engineapi.RepositoriesOfPath(env))
}

// LinkDSource links a dSource; its job runs the first sync.
func (c *Client) LinkDSource(ctx context.Context, p engineapi.LinkParameters) (*Started, error) {
	if p.Type == "" {
		p.Type = engineapi.TypeLinkParameters
	}
	return c.start(ctx, engineapi.PathLink, p)
}

// Sync syncs a dSource (reference or name): its job takes a snapshot.
func (c *Client) Sync(ctx context.Context, dsource string, p engineapi.ContainerOpParameters) (*Started, error) {
	if p.Type == "" {
		p.Type = engineapi.TypeSyncParameters
	}
	return c.ContainerOp(ctx, dsource, "sync", p)
}

// ContainerOp runs an operation of engineapi.ContainerOps on a dSource or
// VDB (reference or name).
func (c *Client) ContainerOp(ctx context.Context, container, op string, p engineapi.ContainerOpParameters) (*Started, error) {
	return c.start(ctx, engineapi.ContainerOpPath(container, op), p)
}

// Provision provisions a VDB from a snapshot.
func (c *Client) Provision(ctx context.Context, p engineapi.ProvisionParameters) (*Started, error) {
	if p.Type == "" {
		p.Type = engineapi.TypeProvisionParameters
	}
	return c.start(ctx, engineapi.PathProvision, p)
}

// GetContainer reads a dSource or VDB (reference or name).
func (c *Client) GetContainer(ctx context.Context, ref string) (*engineapi.Container, error) {
	var ct engineapi.Container
	if err := c.GetResult(ctx, engineapi.ContainerPath(ref), &ct); err != nil {
		return nil, err
	}
	return &ct, nil
}

// CreateEmptyVDB creates a VDB with empty storage; its job runs the
// plugin's virtual.initialize.
func (c *Client) CreateEmptyVDB(ctx context.Context, p engineapi.EmptyVDBParameters) (*Started, error) {
	if p.Type == "" {
		p.Type = engineapi.TypeEmptyVDBParameters
	}
	return c.start(ctx, engineapi.PathCreateEmpty, p)
}

// ListContainers lists the dSources and VDBs, oldest first.
func (c *Client) ListContainers(ctx context.Context) ([]engineapi.Container, error) {
	return list[engineapi.Container](ctx, c, engineapi.PathContainers)
}

// ListSnapshots lists the snapshots of a dSource or VDB (reference or
// name), oldest first.
func (c *Client) ListSnapshots(ctx context.Context, container string) ([]engineapi.Snapshot, error) {
	return list[engineapi.Snapshot](ctx, c, engineapi.SnapshotsOfPath(container))
}

// UpdateContainer changes settings of a dSource or VDB (reference or
// name): POST delphix/database/{ref} with the fields that change. Its job
// waits for the container's running operation.
func (c *Client) UpdateContainer(ctx context.Context, container string, p engineapi.ContainerUpdateParameters) (*Started, error) {
	if p.Type == "" {
		p.Type = engineapi.TypeContainer
	}
	if container == "link" || container == "provision" {
		// Those two names are resources of their own under
		// delphix/database: address the object by its reference.
		cs, err := c.ListContainers(ctx)
		if err != nil {
			return nil, err
		}
		for _, ct := range cs {
			if ct.Name == container {
				container = ct.Reference
				break
			}
		}
	}
	return c.start(ctx, engineapi.ContainerPath(container), p)
}
