package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestComposerTemplatePickerWithoutJavaScript: the picker's noscript "show"
// button submits the form as a GET to the thread page, which renders the
// chosen template's fields and preview server-side; what was typed for that
// template is kept, what was typed for another is not; a template not of
// this number shows no fields.
func TestComposerTemplatePickerWithoutJavaScript(t *testing.T) {
	e := newUIEnv(t, true)
	seedParamTemplate(t, e)
	e.outbox.setDecisions(waTemplateOnly(e.b.identity.ID))
	c := e.signIn(t, e.b.agent)
	page := "/inbox/threads/" + id(e.b.thread.ID)

	_, body := c.get(page)
	show := `formaction="` + page + `#composer"`
	if !strings.Contains(body, `<noscript>`) || !strings.Contains(body, `data-testid="template-show"`) || !strings.Contains(body, show) ||
		!strings.Contains(body, `formmethod="get"`) || strings.Contains(body, `data-testid="template-fields"`) {
		t.Fatalf("the picker has no working no-JavaScript submit: %s", snippetOf(body, "template-picker"))
	}

	// Picking a template and pressing "show": its fields, server-side.
	res, body := c.get(page + "?" + url.Values{"template": {"order_ready|en"}}.Encode())
	if res.StatusCode != http.StatusOK {
		t.Fatalf("picked: %d", res.StatusCode)
	}
	for _, want := range []string{`data-testid="template-fields"`, `id="var-1"`, `id="var-3"`, `value="order_ready|en" selected`,
		`name="shown" value="order_ready|en"`, `data-testid="template-preview"`} {
		if !strings.Contains(body, want) {
			t.Errorf("picked page lacks %s", want)
		}
	}
	// Pressing it again after typing: the preview shows the values, escaped.
	q := url.Values{"template": {"order_ready|en"}, "shown": {"order_ready|en"}, "var": {"B-7", "<b>Anna</b>", "99"}}
	_, body = c.get(page + "?" + q.Encode())
	for _, want := range []string{`value="B-7"`, "Order <mark>B-7</mark>", "Hi <mark>&lt;b&gt;Anna&lt;/b&gt;</mark>", "https://shop.example/t/<mark>99</mark>"} {
		if !strings.Contains(body, want) {
			t.Errorf("typed values: page lacks %s", want)
		}
	}
	if strings.Contains(body, "<b>Anna</b>") {
		t.Error("a typed value went out unescaped")
	}
	// Values typed for another template are not carried over.
	q.Set("shown", "other|en")
	if _, body = c.get(page + "?" + q.Encode()); strings.Contains(body, `value="B-7"`) || !strings.Contains(body, `id="var-1"`) {
		t.Error("values typed for another template were carried over")
	}
	// A template this number does not have: no fields.
	if _, body = c.get(page + "?" + url.Values{"template": {"nope|en"}}.Encode()); strings.Contains(body, `data-testid="template-fields"`) {
		t.Error("fields for a template the number does not have")
	}
	// Another business's thread: not found.
	if res, _ := c.get("/inbox/threads/" + id(e.a.thread.ID) + "?" + url.Values{"template": {"order_ready|en"}}.Encode()); res.StatusCode != http.StatusNotFound {
		t.Errorf("another business's thread: %d", res.StatusCode)
	}
}
