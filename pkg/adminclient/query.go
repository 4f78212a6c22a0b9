package adminclient

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/mfpdev/mfpdev/pkg/protocol"
)

// RuntimesPath returns the admin path that lists the runtimes.
func RuntimesPath(adminContext string) string {
	return fmt.Sprintf("/%s/management-apis/2.0/runtimes", adminContext)
}

// ApplicationsPath returns the admin path that lists the applications of
// a runtime.
func ApplicationsPath(adminContext, runtime string) string {
	return fmt.Sprintf("%s/%s/applications", RuntimesPath(adminContext), url.PathEscape(runtime))
}

// Runtimes lists the server's runtimes. It is also the cheapest request
// that checks the URL and the credentials.
func (c *Client) Runtimes(ctx context.Context) ([]protocol.Runtime, error) {
	resp, err := c.getJSON(ctx, RuntimesPath(c.adminContext()), "")
	if err != nil {
		return nil, fmt.Errorf("list runtimes: %w", err)
	}
	return resp.admin.Runtimes, nil
}

// Applications lists the apps with web resources deployed in runtime.
func (c *Client) Applications(ctx context.Context, runtime string) ([]protocol.Application, error) {
	resp, err := c.getJSON(ctx, ApplicationsPath(c.adminContext(), runtime), c.runtimeNotFoundHint(runtime))
	if err != nil {
		return nil, fmt.Errorf("list applications of runtime %s: %w", runtime, err)
	}
	return resp.admin.Applications, nil
}

// GetDeployment returns the active deployment of app in runtime and the
// earlier ones, newest first. With no active deployment the error matches
// ErrNotFound, and the earlier ones are still returned.
func (c *Client) GetDeployment(ctx context.Context, runtime string, app App) (*protocol.Deployment, []protocol.Deployment, error) {
	path := protocol.AdminWebPath(c.adminContext(), runtime, app.ID, app.Platform, app.Version)
	hint := fmt.Sprintf("no web resources of %s are deployed in runtime %q", app, runtime)
	resp, err := c.getJSON(ctx, path, hint)
	if err != nil {
		return nil, nil, fmt.Errorf("get deployment of %s: %w", app, err)
	}
	if resp.admin.Deployment == nil {
		return nil, resp.admin.History, fmt.Errorf("get deployment of %s: %w: no active deployment in runtime %q, %d earlier ones",
			app, ErrNotFound, runtime, len(resp.admin.History))
	}
	return resp.admin.Deployment, resp.admin.History, nil
}

// Delete removes the deployed web resources of app from runtime, so that
// devices stop getting them. With nothing deployed the error matches
// ErrNotFound.
func (c *Client) Delete(ctx context.Context, runtime string, app App) error {
	path := protocol.AdminWebPath(c.adminContext(), runtime, app.ID, app.Platform, app.Version)
	hint := fmt.Sprintf("no web resources of %s are deployed in runtime %q", app, runtime)
	if _, err := c.do(ctx, request{method: http.MethodDelete, path: path, notFoundHint: hint}); err != nil {
		return fmt.Errorf("delete deployment of %s: %w", app, err)
	}
	return nil
}
