package policy

import (
	"encoding/json"
	"reflect"
	"slices"
	"testing"
	"time"
)

func TestDecisionJSON(t *testing.T) {
	closed := Decide(messenger(Events{EventMessage: now.Add(-48 * time.Hour)}, automated), now)
	withToken := Decide(Facts{
		IdentityID: 42, App: AppMessenger,
		OTNTokens: []OTNToken{{CreatedAt: now.Add(-time.Hour), Used: true}, {CreatedAt: now.Add(-2 * time.Hour)}},
		Send:      Send{Kind: SendOTNMessage},
	}, now)
	free := Decide(with(whatsapp(Events{EventMessage: now.Add(-time.Hour)}, human), func(f *Facts) { f.CTWAReferralAt = now.Add(-time.Hour) }), now)

	cases := []struct {
		name string
		d    Decision
		want map[string]any
	}{
		{name: "refused: expires_at is null, options a list", d: closed, want: map[string]any{
			"identity_id": 7.0, "app": "messenger", "allowed": false, "messaging_type": "", "tag": "",
			"reason": "window_closed", "expires_at": nil, "options": []any{"human_agent"},
		}},
		{name: "token send: names the token", d: withToken, want: map[string]any{
			"identity_id": 42.0, "app": "messenger", "allowed": true, "messaging_type": "", "tag": "",
			"reason": "ok", "expires_at": "2027-11-21T10:00:00Z", "options": []any{"otn"}, "otn_token": 2.0,
		}},
		{name: "WhatsApp: free entry point", d: free, want: map[string]any{
			"identity_id": 9.0, "app": "whatsapp", "allowed": true, "messaging_type": "", "tag": "",
			"reason": "ok", "expires_at": "2026-11-22T11:00:00Z", "options": []any{"template"},
			"free_entry_point_until": "2026-11-24T11:00:00Z",
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b, err := json.Marshal(c.d)
			if err != nil {
				t.Fatal(err)
			}
			var got map[string]any
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("json = %s\nwant   %v", b, c.want)
			}
			var back Decision
			if err := json.Unmarshal(b, &back); err != nil {
				t.Fatal(err)
			}
			if msg := diffDecision(back, c.d); msg != "" {
				t.Errorf("round trip:\n%s", msg)
			}
		})
	}
}

func TestOptions(t *testing.T) {
	all := OptionTemplate | OptionHumanAgent | OptionOTN | OptionUtilityTemplate
	if got, want := all.Strings(), []string{"template", "human_agent", "otn", "utility_template"}; !slices.Equal(got, want) {
		t.Errorf("Strings() = %v, want %v", got, want)
	}
	if got := Options(0).Strings(); got == nil || len(got) != 0 {
		t.Errorf("empty Strings() = %#v, want an empty, non-nil list", got)
	}
	if b, _ := json.Marshal(Options(0)); string(b) != "[]" {
		t.Errorf("empty options marshal to %s, want []", b)
	}
	if !all.Has(OptionOTN|OptionTemplate) || OptionOTN.Has(OptionOTN|OptionTemplate) {
		t.Error("Has is wrong")
	}
	var o Options
	if err := json.Unmarshal([]byte(`["utility_template","template"]`), &o); err != nil || o != OptionTemplate|OptionUtilityTemplate {
		t.Errorf("unmarshal = %v, %v", o, err)
	}
	if err := json.Unmarshal([]byte(`["sms"]`), &o); err == nil {
		t.Error("an unknown option unmarshalled without error")
	}
}

func TestReasons(t *testing.T) {
	contract := []Reason{"ok", "window_closed", "human_agent_expired", "tag_retired", "template_required",
		"marketing_opted_out", "marketing_paused_region", "otn_token_missing", "otn_token_used", "otn_token_expired",
		"blocked", "not_news_page", "channel_unauthorised"}
	if !slices.Equal(Reasons(), contract) {
		t.Errorf("Reasons() = %v, want the contract's %v", Reasons(), contract)
	}
	seen := map[string]Reason{}
	for _, r := range Reasons() {
		t.Run(string(r), func(t *testing.T) {
			text := r.Explain()
			if text == "" {
				t.Fatal("no explanation")
			}
			if other, dup := seen[text]; dup {
				t.Errorf("same explanation as %s", other)
			}
			seen[text] = r
		})
	}
	if Reason("nope").Explain() != "" {
		t.Error("an unknown reason has an explanation")
	}
}

func TestOTNTokenIndex(t *testing.T) {
	if i, ok := (Decision{}).OTNTokenIndex(); ok || i != -1 {
		t.Errorf("zero Decision: %d, %v; want no token", i, ok)
	}
	if i, ok := (Decision{OTNToken: 1}).OTNTokenIndex(); !ok || i != 0 {
		t.Errorf("OTNToken 1: %d, %v; want index 0", i, ok)
	}
}
