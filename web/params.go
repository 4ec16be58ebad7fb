package web

import (
	"net/http"
	"strconv"
	"strings"
)

// pathID reads a positive int64 path value; ok is false for anything else,
// which handlers answer with 404.
func pathID(r *http.Request, name string) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	return id, err == nil && id > 0
}

// formID reads an optional positive id from a form or query value.
func formID(v string) int64 {
	id, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || id < 0 {
		return 0
	}
	return id
}
