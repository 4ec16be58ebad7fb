package meta

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// Profile is what the User Profile API tells about a Messenger or Instagram
// customer (webhooks carry only their PSID/IGSID).
type Profile struct {
	FirstName  string `json:"first_name"`
	LastName   string `json:"last_name"`
	Name       string `json:"name"`
	Username   string `json:"username"`
	ProfilePic string `json:"profile_pic"`
}

// DisplayName is the name to show: Instagram's name, else Messenger's first and last.
func (p Profile) DisplayName() string {
	if p.Name != "" {
		return p.Name
	}
	return strings.TrimSpace(p.FirstName + " " + p.LastName)
}

// GetProfile reads a customer's profile; instagram selects Instagram's fields.
func (c *Client) GetProfile(ctx context.Context, token, userID string, instagram bool) (Profile, error) {
	fields := "first_name,last_name,profile_pic"
	if instagram {
		fields = "name,username,profile_pic"
	}
	raw, err := c.do(ctx, http.MethodGet, c.endpoint(userID)+"?fields="+fields, token, nil)
	if err != nil {
		return Profile{}, err
	}
	var p Profile
	if err := json.Unmarshal(raw, &p); err != nil {
		return Profile{}, fmt.Errorf("meta: decode profile %s: %w", userID, err)
	}
	return p, nil
}
