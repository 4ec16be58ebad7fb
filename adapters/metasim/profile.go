package metasim

import (
	"net/http"
	"strings"
)

// serveProfile answers the User Profile API: GET /{version}/{PSID}?fields=first_name,last_name,profile_pic
// (Messenger) and GET /{version}/{IGSID}?fields=name,username,profile_pic (Instagram), for a customer of the
// account whose token asks. It reports false when id is not such a customer (media ids go on).
func (s *Sim) serveProfile(w http.ResponseWriter, r *http.Request, id string) bool {
	tok := accessToken(r)
	s.mu.Lock()
	acct := s.accountByToken(tok)
	var c *Customer
	if acct != nil && !s.revoked[tok] {
		for i := range s.pop {
			if s.pop[i].IDFor(acct.App) == id {
				c = &s.pop[i]
				break
			}
		}
	}
	var name string
	if acct != nil {
		if u := acct.users[id]; u != nil {
			name = u.name
		}
	}
	s.mu.Unlock()
	if c == nil {
		return false
	}
	if name == "" {
		name = c.Name
	}
	pic := s.BaseURL() + "/cdn/avatar-" + id + ".jpg"
	if acct.App == Instagram {
		writeJSON(w, http.StatusOK, map[string]string{"name": name, "username": c.Username, "profile_pic": pic, "id": id})
		return true
	}
	first, last, _ := strings.Cut(name, " ")
	writeJSON(w, http.StatusOK, map[string]string{"first_name": first, "last_name": last, "profile_pic": pic, "id": id})
	return true
}
