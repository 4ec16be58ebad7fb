package views

import (
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/switchboard-inbox/switchboard/models"
)

func TestTemplatePickerShowsOneLabelledFieldPerParameterAndThePreview(t *testing.T) {
	form := TemplateForm{ThreadID: 9, Name: "order_ready|en",
		Fields: []TemplateField{
			{Component: "header", Name: "order", Example: "A-12", Value: "B-7"},
			{Component: "body", Name: "first_name", Example: "<b>Anna</b>"},
			{Component: "button", Name: "1", Example: "track/42"},
		},
		Preview: TemplatePreview{
			Header: FillTemplate("Order {{order}}", map[string]string{"order": "B-7"}),
			Body:   FillTemplate("Hi {{first_name}}, <script>alert(1)</script> ready", map[string]string{"first_name": ""}),
			URLs:   [][]PreviewPart{FillTemplate("https://shop.example/{{1}}", map[string]string{"1": "track/9"})},
		}}
	c := ComposerView{ThreadID: 9, Available: true, Template: &form,
		Decisions: []DecisionView{{App: models.AppWhatsApp, Reason: "template_required", Template: true}},
		Templates: []models.WATemplate{{Name: "order_ready", Language: "en", Category: "utility", Body: "Hi {{first_name}}"}}}
	doc, raw := render(t, Composer(c))

	labels := byTestID(doc, "template-field-label")
	want := []string{"Header {{order}}", "Body {{first_name}}", "URL button suffix {{1}}"}
	if len(labels) != len(want) {
		t.Fatalf("%d labels, want %d", len(labels), len(want))
	}
	fields := byTestID(doc, "template-field")
	for i, l := range labels {
		if text(l) != want[i] {
			t.Errorf("label %d = %q, want %q", i, text(l), want[i])
		}
		if attr(l, "for") != attr(fields[i], "id") || attr(fields[i], "id") != FieldID(i) || attr(fields[i], "name") != "var" {
			t.Errorf("field %d: label for %q, input id %q name %q", i, attr(l, "for"), attr(fields[i], "id"), attr(fields[i], "name"))
		}
		if _, ok := attrOK(fields[i], "required"); !ok {
			t.Errorf("field %d is not required", i)
		}
	}
	if attr(fields[0], "value") != "B-7" || attr(fields[1], "placeholder") != "<b>Anna</b>" {
		t.Errorf("value %q, placeholder %q", attr(fields[0], "value"), attr(fields[1], "placeholder"))
	}
	if box := byTestID(doc, "template-fields"); len(box) != 1 || attr(box[0], "hx-get") != "/inbox/threads/9/composer/template/preview" {
		t.Error("typing does not ask for the preview")
	}

	if h := byTestID(doc, "preview-header"); len(h) != 1 || text(h[0]) != "Order B-7" {
		t.Errorf("preview header %v", h)
	}
	body := byTestID(doc, "preview-body")
	if len(body) != 1 || text(body[0]) != "Hi {{first_name}}, <script>alert(1)</script> ready" {
		t.Errorf("preview body %q", text(body[0]))
	}
	if u := byTestID(doc, "preview-url"); len(u) != 1 || text(u[0]) != "https://shop.example/track/9" {
		t.Errorf("preview URL %v", u)
	}
	if strings.Contains(raw, "<script>alert") || strings.Contains(raw, "<b>Anna") {
		t.Error("a Meta-supplied string was not escaped")
	}
	if opts := byTestID(doc, "template-select"); len(opts) != 1 || !strings.Contains(raw, `value="order_ready|en" selected`) {
		t.Error("the chosen template is not selected")
	}
}

func TestFillTemplateMarksMissingValues(t *testing.T) {
	got := FillTemplate("{{1}} and {{ 2 }}!", map[string]string{"1": "A"})
	want := []PreviewPart{{Text: "A", Variable: true}, {Text: " and "}, {Text: "{{2}}", Variable: true, Missing: true}, {Text: "!"}}
	if len(got) != len(want) {
		t.Fatalf("got %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("part %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

func attrOK(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}
