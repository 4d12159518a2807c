package engineclient

import (
	"context"

	"github.com/dvpkit/dvp/internal/engineapi"
)

// ListToolkits lists the installed plugins.
func (c *Client) ListToolkits(ctx context.Context) ([]engineapi.Toolkit, error) {
	return list[engineapi.Toolkit](ctx, c, engineapi.PathToolkits)
}

// GetToolkit reads one installed plugin by its reference.
func (c *Client) GetToolkit(ctx context.Context, ref string) (*engineapi.Toolkit, error) {
	var t engineapi.Toolkit
	if err := c.GetResult(ctx, engineapi.ToolkitPath(ref), &t); err != nil {
		return nil, err
	}
	return &t, nil
}

// DeleteToolkit deletes an installed plugin by its reference.
func (c *Client) DeleteToolkit(ctx context.Context, ref string) (*Started, error) {
	return c.start(ctx, engineapi.ToolkitDeletePath(ref), struct{}{})
}
