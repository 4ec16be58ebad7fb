package metasim

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

// mediaObject is a file Meta holds for a WhatsApp number (what GET /{media-id} describes).
type mediaObject struct {
	id      string
	account string
	mime    string
	data    []byte
	sha256  string
}

// sha256Hex is the media's checksum as the Cloud API reports it.
func sha256Hex(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// mediaInfo is the Cloud API's answer to GET /{media-id}.
type mediaInfo struct {
	MessagingProduct string `json:"messaging_product"`
	URL              string `json:"url"`
	MimeType         string `json:"mime_type"`
	SHA256           string `json:"sha256"`
	FileSize         int    `json:"file_size"`
	ID               string `json:"id"`
}

// handleMediaInfo answers GET /{version}/{media-id} with a short-lived download URL.
func (s *Sim) handleMediaInfo(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if !validVersion(r.PathValue("version")) {
		s.refuse(w, WhatsApp, "", errUnknownPath(r.URL.Path))
		return
	}
	if s.serveProfile(w, r, id) {
		return
	}
	m, acct, merr := s.mediaFor(r, id)
	if merr != nil {
		s.refuse(w, WhatsApp, accountID(acct), merr)
		return
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	u := scheme + "://" + r.Host + "/whatsapp_business/attachments/?mid=" + m.id + "&ext=" +
		strconv.FormatInt(s.now().Unix()+300, 10) + "&hash=" + m.sha256[:16]
	writeJSON(w, http.StatusOK, mediaInfo{MessagingProduct: "whatsapp", URL: u, MimeType: m.mime,
		SHA256: m.sha256, FileSize: len(m.data), ID: m.id})
}

// handleMediaDownload serves the bytes; like Meta's, the URL needs the same Bearer token.
func (s *Sim) handleMediaDownload(w http.ResponseWriter, r *http.Request) {
	m, acct, merr := s.mediaFor(r, r.URL.Query().Get("mid"))
	if merr != nil {
		s.refuse(w, WhatsApp, accountID(acct), merr)
		return
	}
	w.Header().Set("Content-Type", m.mime)
	w.Header().Set("Content-Length", strconv.Itoa(len(m.data)))
	_, _ = w.Write(m.data)
}

// mediaFor finds a media object the request's token may read.
func (s *Sim) mediaFor(r *http.Request, id string) (*mediaObject, *account, *metaError) {
	tok := accessToken(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.media[id]
	var acct *account
	if m != nil {
		acct = s.accounts[m.account]
	}
	switch {
	case tok == "":
		return nil, acct, errNoToken()
	case s.revoked[tok]:
		return nil, acct, errTokenInvalidated()
	case s.tokens[tok] == 0:
		return nil, acct, errBadToken()
	case m == nil || acct == nil || acct.AccessToken != tok:
		return nil, acct, errUnsupportedObject("get", id)
	}
	return m, acct, nil
}

// handleCDN serves the attachment URLs of generated Messenger/Instagram payloads (public, like fbcdn).
func (s *Sim) handleCDN(w http.ResponseWriter, r *http.Request) {
	file := r.PathValue("file")
	mime := "image/jpeg"
	switch {
	case strings.HasSuffix(file, ".png"):
		mime = "image/png"
	case strings.HasSuffix(file, ".mp4"):
		mime = "video/mp4"
	case strings.HasSuffix(file, ".m4a"):
		mime = "audio/mp4"
	case strings.HasSuffix(file, ".pdf"):
		mime = "application/pdf"
	}
	data := sampleBytes(mime, len(file))
	w.Header().Set("Content-Type", mime)
	w.Header().Set("Cache-Control", "public, max-age=86400")
	_, _ = w.Write(data)
}

var (
	samplesOnce sync.Once
	jpegSamples [][]byte
	pngSamples  [][]byte
)

// sampleBytes returns a small, real file of the MIME type (images are generated once and reused).
func sampleBytes(mime string, variant int) []byte {
	samplesOnce.Do(makeSamples)
	switch {
	case mime == "image/jpeg":
		return jpegSamples[variant%len(jpegSamples)]
	case mime == "image/png":
		return pngSamples[variant%len(pngSamples)]
	case mime == "image/webp":
		return []byte("RIFF\x1a\x00\x00\x00WEBPVP8L\x0d\x00\x00\x00\x2f\x00\x00\x00\x10\x07\x10\x11\x11\x88\x88\xfe\x07\x00")
	case strings.HasPrefix(mime, "audio/ogg"):
		return []byte("OggS\x00\x02\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x13OpusHead\x01\x01\x38\x01\x80\xbb\x00\x00\x00\x00\x00")
	case strings.HasPrefix(mime, "audio/"):
		return []byte("\x00\x00\x00\x18ftypM4A \x00\x00\x00\x00M4A mp42isom")
	case strings.HasPrefix(mime, "video/"):
		return []byte("\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom\x00\x00\x00\x08free")
	default:
		return []byte("%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")
	}
}

// makeSamples draws eight 32×32 two-colour tiles in JPEG and PNG.
func makeSamples() {
	palette := []color.RGBA{{0xe6, 0x39, 0x46, 0xff}, {0x2a, 0x9d, 0x8f, 0xff}, {0xe9, 0xc4, 0x6a, 0xff}, {0x26, 0x46, 0x53, 0xff},
		{0xf4, 0xa2, 0x61, 0xff}, {0x45, 0x7b, 0x9d, 0xff}, {0x8d, 0x99, 0xae, 0xff}, {0x6a, 0x4c, 0x93, 0xff}}
	for i, c := range palette {
		img := image.NewRGBA(image.Rect(0, 0, 32, 32))
		for y := range 32 {
			for x := range 32 {
				if (x/8+y/8)%2 == 0 {
					img.Set(x, y, c)
				} else {
					img.Set(x, y, palette[(i+3)%len(palette)])
				}
			}
		}
		var j, p bytes.Buffer
		_ = jpeg.Encode(&j, img, &jpeg.Options{Quality: 80})
		_ = png.Encode(&p, img)
		jpegSamples = append(jpegSamples, j.Bytes())
		pngSamples = append(pngSamples, p.Bytes())
	}
}
