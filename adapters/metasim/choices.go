package metasim

import "encoding/json"

// Choice is one option of a message the business sent: a Messenger or
// Instagram quick reply, a WhatsApp reply button or list row. Tapping it
// sends ID back (the payload) with Title as the text the person saw.
type Choice struct {
	ID    string
	Title string
}

// ChoicesOf reads the options a send offered, from the request body as the
// business posted it (Send API quick_replies; Cloud API interactive buttons
// or list sections), so a simulated customer can tap one.
func ChoicesOf(s Send) []Choice {
	var body struct {
		Message struct {
			QuickReplies []struct {
				Title   string `json:"title"`
				Payload string `json:"payload"`
			} `json:"quick_replies"`
		} `json:"message"`
		Interactive struct {
			Action struct {
				Buttons []struct {
					Reply struct {
						ID    string `json:"id"`
						Title string `json:"title"`
					} `json:"reply"`
				} `json:"buttons"`
				Sections []struct {
					Rows []struct {
						ID    string `json:"id"`
						Title string `json:"title"`
					} `json:"rows"`
				} `json:"sections"`
			} `json:"action"`
		} `json:"interactive"`
	}
	if json.Unmarshal(s.Raw, &body) != nil {
		return nil
	}
	var out []Choice
	for _, q := range body.Message.QuickReplies {
		out = append(out, Choice{ID: q.Payload, Title: q.Title})
	}
	for _, b := range body.Interactive.Action.Buttons {
		out = append(out, Choice{ID: b.Reply.ID, Title: b.Reply.Title})
	}
	for _, sec := range body.Interactive.Action.Sections {
		for _, r := range sec.Rows {
			out = append(out, Choice{ID: r.ID, Title: r.Title})
		}
	}
	return out
}
