package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/switchboard-inbox/switchboard/policy"
)

// seedParamTemplate stores a named template as the sync would: header, body
// and URL button parameters, with Meta's strings carrying markup.
func seedParamTemplate(t *testing.T, e *uiEnv) {
	t.Helper()
	components := `[{"type":"HEADER","format":"TEXT","text":"Order {{order}}"},
		{"type":"BODY","text":"Hi {{first_name}}, <script>alert(1)</script> is ready"},
		{"type":"BUTTONS","buttons":[{"type":"QUICK_REPLY","text":"OK"},{"type":"URL","text":"Track","url":"https://shop.example/t/{{1}}"}]}]`
	params := `[{"component":"header","name":"order","example":"A-12"},{"component":"body","name":"first_name","example":"<i>Anna</i>"},
		{"component":"button","index":1,"name":"1","example":"42"}]`
	if err := e.store.Gorm(t.Context()).Exec(`INSERT INTO wa_templates (business_id, channel_id, name, language, category, body,
		parameter_format, parameters, components) VALUES (?, ?, 'order_ready', 'en', 'utility', ?, 'named', ?, ?)`,
		e.b.biz.ID, e.b.channel.ID, "Hi {{first_name}}, <script>alert(1)</script> is ready", params, components).Error; err != nil {
		t.Fatal(err)
	}
}

func TestComposerTemplateFieldsAndPreview(t *testing.T) {
	e := newUIEnv(t, true)
	seedParamTemplate(t, e)
	e.outbox.setDecisions(waTemplateOnly(e.b.identity.ID))
	c := e.signIn(t, e.b.agent)
	base := "/inbox/threads/" + id(e.b.thread.ID) + "/composer/template"

	res, body := c.get(base + "?template=" + url.QueryEscape("order_ready|en"))
	if res.StatusCode != http.StatusOK {
		t.Fatalf("fields: %d", res.StatusCode)
	}
	for _, want := range []string{`id="var-1"`, `id="var-2"`, `id="var-3"`, `Header {{order}}`, `Body {{first_name}}`,
		`URL button suffix {{1}}`, `placeholder="&lt;i&gt;Anna&lt;/i&gt;"`, `data-testid="template-preview"`} {
		if !strings.Contains(body, want) {
			t.Errorf("fields lack %s", want)
		}
	}

	q := url.Values{"template": {"order_ready|en"}, "var": {"B-7", "<script>x()</script>", "99"}}
	res, body = c.get(base + "/preview?" + q.Encode())
	if res.StatusCode != http.StatusOK {
		t.Fatalf("preview: %d", res.StatusCode)
	}
	for _, want := range []string{"Order <mark>B-7</mark>", "Hi <mark>&lt;script&gt;x()&lt;/script&gt;</mark>, &lt;script&gt;alert(1)&lt;/script&gt; is ready",
		"https://shop.example/t/<mark>99</mark>"} {
		if !strings.Contains(body, want) {
			t.Errorf("preview lacks %s in %s", want, body)
		}
	}
	if strings.Contains(body, "<script>") {
		t.Error("the preview let a <script> through")
	}
	if strings.Contains(body, `id="var-1"`) {
		t.Error("the preview re-rendered the fields (the agent's typing would be lost)")
	}

	// An empty value stays visible as its placeholder.
	q.Set("var", "")
	if _, body = c.get(base + "/preview?" + q.Encode()); !strings.Contains(body, `<span class="var-missing">{{order}}</span>`) {
		t.Errorf("a missing value is not marked: %s", body)
	}
	// Another business's thread, or a template this number lacks: nothing.
	if res, _ := e.signIn(t, e.a.agent).get(base + "?template=order_ready|en"); res.StatusCode != http.StatusNotFound {
		t.Errorf("another business's thread: %d", res.StatusCode)
	}
	if _, body = c.get(base + "?template=nope|en"); strings.TrimSpace(body) != "" {
		t.Errorf("unknown template rendered %q", body)
	}
}

func TestComposerRefusalKeepsTheChosenTemplate(t *testing.T) {
	e := newUIEnv(t, true)
	seedParamTemplate(t, e)
	d := waTemplateOnly(e.b.identity.ID)
	e.outbox.setDecisions(d)
	e.outbox.refuse = &policy.Decision{IdentityID: e.b.identity.ID, App: policy.AppWhatsApp, Reason: policy.ReasonTemplateRequired, Options: policy.OptionTemplate}
	c := e.signIn(t, e.b.agent)
	res, body := c.postBody("/inbox/threads/"+id(e.b.thread.ID)+"/messages",
		url.Values{"template": {"order_ready|en"}, "var": {"B-7", "Anna", ""}})
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("status %d", res.StatusCode)
	}
	if !strings.Contains(body, `value="B-7"`) || !strings.Contains(body, `value="order_ready|en" selected`) {
		t.Error("the re-rendered composer lost the chosen template or its values")
	}
}
