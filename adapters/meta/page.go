package meta

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// Get reads one Graph object or edge: /<id>[/<edge>]?<query>.
func (c *Client) Get(ctx context.Context, token string, query url.Values, path ...string) (json.RawMessage, error) {
	endpoint := c.endpoint(path...)
	if len(query) > 0 {
		endpoint += "?" + query.Encode()
	}
	return c.do(ctx, http.MethodGet, endpoint, token, nil)
}

// GetNext follows a cursor page's paging.next URL. It must point at the
// client's own Graph host: the token goes with it.
func (c *Client) GetNext(ctx context.Context, token, next string) (json.RawMessage, error) {
	u, err := url.Parse(next)
	if err != nil {
		return nil, fmt.Errorf("meta: paging.next: %w", err)
	}
	base, _ := url.Parse(c.base())
	if u.Scheme != base.Scheme || u.Host != base.Host || !strings.HasPrefix(u.Path, "/") {
		return nil, fmt.Errorf("meta: paging.next %q is not on %s", next, c.base())
	}
	q := u.Query()
	q.Del("access_token") // sent in the header instead, never logged in a URL
	u.RawQuery = q.Encode()
	return c.do(ctx, http.MethodGet, u.String(), token, nil)
}
