package inbound

import (
	"hash/fnv"

	"github.com/tidwall/gjson"

	"github.com/switchboard-inbox/switchboard/adapters/meta"
	"github.com/switchboard-inbox/switchboard/models"
)

// Lanes is how many lanes the processor applies in parallel, one worker
// each. The journal files every payload in the lane of the customer (or
// group) it is about, so one customer's payloads are applied by one worker,
// in order, and two workers' batches almost never share a customer lock —
// which made them wait for each other's whole batch when any worker could
// take any payload. The locks stay: a payload about customers of two lanes,
// and other replicas' workers, still meet them in one sorted order.
const Lanes = 4

// LaneOf picks a payload's lane from its first item's account and customer,
// read without parsing the whole body. A body it cannot read goes to lane 0:
// the processor reports it there.
func LaneOf(app string, body []byte) int16 {
	var key []gjson.Result
	switch app {
	case models.AppWhatsApp:
		v := gjson.Get(string(body), "entry.0.changes.0.value")
		who := v.Get("messages.0.group_id")
		for _, path := range []string{"messages.0.from", "statuses.0.recipient_id", "contacts.0.wa_id",
			"message_echoes.0.to", "user_preferences.0.wa_id"} {
			if who.Exists() {
				break
			}
			who = v.Get(path)
		}
		key = []gjson.Result{v.Get("metadata.phone_number_id"), who}
	case models.AppMessenger, models.AppInstagram:
		doc := gjson.Parse(string(body))
		m := doc.Get("entry.0.messaging.0")
		who := m.Get("sender.id")
		if m.Get("message.is_echo").Bool() {
			who = m.Get("recipient.id")
		}
		key = []gjson.Result{doc.Get("entry.0.id"), who}
	}
	if len(key) == 0 || !key[0].Exists() && !key[1].Exists() {
		return 0
	}
	h := fnv.New32a()
	for _, k := range key {
		id, _ := meta.IDOf(k)
		h.Write([]byte(id))
		h.Write([]byte{0})
	}
	return int16(h.Sum32() % Lanes)
}
