package engineclient

import (
	"context"

	"github.com/dvpkit/dvp/internal/artifact"
	"github.com/dvpkit/dvp/internal/engineapi"
)

// Session and login bodies, fields in the order dvp sends them.
type apiVersion struct {
	Type  string `json:"type"`
	Major int    `json:"major"`
	Minor int    `json:"minor"`
	Micro int    `json:"micro"`
}

type sessionRequest struct {
	Version apiVersion `json:"version"`
	Type    string     `json:"type"`
}

type loginRequest struct {
	Type     string `json:"type"`
	Username string `json:"username"`
	Password string `json:"password"`
}

// Login starts a session with the API version v and logs in, with the
// bodies dvp sends (docs/upload.md, "Wire compatibility"). The session
// request may be retried; the login never is.
func (c *Client) Login(ctx context.Context, v artifact.APIVersion, user, password string) error {
	body := PyDumps(sessionRequest{Version: apiVersion{Type: artifact.TypeAPIVersion, Major: v.Major, Minor: v.Minor, Micro: v.Micro}, Type: "APISession"})
	if _, err := c.post(ctx, request{path: engineapi.PathSession, body: body, idempotent: true}); err != nil {
		return err
	}
	c.log.Debug("session started", "api", v.String())
	body = PyDumps(loginRequest{Type: "LoginRequest", Username: user, Password: password})
	if _, err := c.post(ctx, request{path: engineapi.PathLogin, body: body}); err != nil {
		return err
	}
	c.log.Debug("logged in", "user", user)
	return nil
}
