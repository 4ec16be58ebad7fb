// Package static embeds Switchboard's CSS, vendored htmx and icons, and
// serves them under content-hash URLs so browsers may cache them forever.
package static

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
)

//go:embed css vendor js
var files embed.FS

type asset struct {
	body  []byte
	hash  string
	ctype string
}

var assets = func() map[string]asset {
	out := map[string]asset{}
	_ = fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := files.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		out[p] = asset{body: b, hash: hex.EncodeToString(sum[:6]), ctype: mime.TypeByExtension(path.Ext(p))}
		return nil
	})
	return out
}()

// URL returns the cache-busting URL of an embedded file, e.g.
// URL("css/app.css") = "/static/3f2a…/css/app.css".
func URL(name string) string {
	a, ok := assets[name]
	if !ok {
		panic("static: no such file " + name)
	}
	return "/static/" + a.hash + "/" + name
}

// Handler serves GET /static/{hash}/{path...}; a stale hash still gets the
// current file, but without the long cache lifetime.
func Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hash := r.PathValue("hash")
		name := r.PathValue("path")
		a, ok := assets[name]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", a.ctype)
		w.Header().Set("X-Content-Type-Options", "nosniff")
		if hash == a.hash {
			w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			w.Header().Set("Cache-Control", "no-cache")
		}
		w.Header().Set("ETag", `"`+a.hash+`"`)
		if strings.Contains(r.Header.Get("If-None-Match"), a.hash) {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		_, _ = w.Write(a.body)
	})
}
