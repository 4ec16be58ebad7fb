package metasim

import (
	"testing"
)

// The same seed gives each customer the same fate, whatever the order; the
// shares follow the configured rates; another seed gives other fates.
func TestCampaignBehaviourIsDeterministic(t *testing.T) {
	b := CampaignBehaviour{Seed: 7, Delivered: 0.9, Read: 0.5, Replied: 0.3, Clicked: 0.4, Ordered: 0.1, OptOut: 0.05, UserCap: 0.05}
	fates := func(seed uint64, reverse bool) map[string]campaignPlan {
		b := b
		b.Seed = seed
		c := &campaignState{b: b, sends: map[string]int{}}
		out := map[string]campaignPlan{}
		tpl := Template{Name: "saldi", Language: "it", URL: "https://sb.example/c/{{1}}"}
		req := &waSend{Template: &templateRef{Name: "saldi"}}
		for i := range 2000 {
			if reverse {
				i = 1999 - i
			}
			phone := "39333" + string(rune('0'+i%10)) + string(rune('a'+i/10%26)) + string(rune('a'+i/260))
			out[phone] = c.plan(&user{}, phone, tpl, req)
		}
		return out
	}
	a, again, other := fates(7, false), fates(7, true), fates(8, false)
	same, differ := 0, 0
	var delivered, read, optOut int
	for k, p := range a {
		q := again[k]
		if p.delivered != q.delivered || p.read != q.read || p.optOut != q.optOut || p.capped != q.capped || p.replied != q.replied {
			t.Fatalf("%s: %+v then %+v", k, p, q)
		}
		if p.read == other[k].read {
			same++
		} else {
			differ++
		}
		if p.delivered {
			delivered++
		}
		if p.read {
			read++
		}
		if p.optOut {
			optOut++
		}
	}
	if differ == 0 {
		t.Fatal("another seed changed nobody's fate")
	}
	// 2,000 customers: 5% opt out, ~90% of the rest delivered, half of those read.
	if optOut < 60 || optOut > 140 || delivered < 1500 || delivered > 1850 || read < 700 || read > 950 {
		t.Fatalf("shares: opted out %d, delivered %d, read %d", optOut, delivered, read)
	}
}
