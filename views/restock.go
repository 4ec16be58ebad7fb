package views

import (
	"context"
	"net/url"

	"github.com/switchboard-inbox/switchboard/models"
)

func urlPathEscape(s string) string { return url.PathEscape(s) }

// The restock strings, merged into the catalogue (same keys in both languages,
// which catalogue_test.go checks).
func init() {
	for lang, msgs := range restockCatalogue {
		for k, v := range msgs {
			catalogue[lang][k] = v
		}
	}
}

var restockCatalogue = map[string]map[string]string{
	"en": {
		"products.line":                          "Line %d",
		"products.add":                           "Add a product",
		"products.import":                        "Import CSV",
		"products.import_help":                   "One product per line: sku,name,stock and optionally url,image_url. Nothing is imported if any line is wrong.",
		"products.csv_file":                      "CSV file",
		"products.csv_text":                      "…or paste it here",
		"products.url":                           "Product page URL",
		"products.image_url":                     "Image URL",
		"products.template":                      "WhatsApp restock template",
		"products.template_language":             "Language",
		"products.less":                          "One less %s",
		"products.more":                          "One more %s",
		"products.set_stock":                     "Set stock",
		"products.created":                       "Product %s added.",
		"products.imported":                      "%d created, %d updated.",
		"products.stock_set":                     "Stock set to %d.",
		"products.saved":                         "Saved.",
		"products.edit":                          "Edit details",
		"restock.started_notice":                 "Restock started: %d customers to handle.",
		"restock.nothing_to_do":                  "Nobody to notify now.",
		"restock.waiting":                        "Waiting",
		"restock.who_waits":                      "Who is waiting",
		"restock.waiting_now":                    "%d waiting, %d notifiable now",
		"restock.how":                            "How they would hear now:",
		"restock.via.otn":                        "One-time notification",
		"restock.via.text":                       "Message in the 24-hour window",
		"restock.via.template":                   "Marketing template",
		"restock.not_now":                        "Not notifiable now:",
		"restock.reason.ok":                      "Notifiable",
		"restock.reason.window_closed":           "24-hour window closed",
		"restock.reason.otn_token_missing":       "No one-time notification token",
		"restock.reason.otn_token_used":          "One-time notification already used",
		"restock.reason.otn_token_expired":       "One-time notification expired",
		"restock.reason.marketing_opted_out":     "Opted out of marketing",
		"restock.reason.marketing_paused_region": "Marketing paused for +1 US numbers",
		"restock.reason.template_required":       "No approved restock template",
		"restock.reason.alert_unsendable":        "The template needs a value this product lacks (e.g. its URL)",
		"restock.reason.blocked":                 "Blocked the business",
		"restock.reason.channel_unauthorised":    "Channel not connected",
		"restock.reason.human_agent_expired":     "Human agent window over",
		"restock.reason.tag_retired":             "Tag retired",
		"restock.reason.not_news_page":           "Not a news Page",
		"restock.cost":                           "Estimated cost of %d marketing templates: %s",
		"restock.cost_unknown":                   "%d marketing templates; the cost is unknown until prices are imported.",
		"restock.rerun":                          "Notify those notifiable now",
		"restock.nobody":                         "Nobody is waiting yet. Customers join by tapping “Notify me” in a chat.",
		"restock.customer":                       "Customer",
		"restock.status":                         "Status",
		"restock.now":                            "Now",
		"restock.since":                          "Signed up",
		"restock.entry.waiting":                  "Waiting",
		"restock.entry.notified":                 "Notified",
		"restock.entry.skipped":                  "Waiting (skipped last time)",
		"restock.entry.failed":                   "Failed",
		"restock.entry.cancelled":                "Cancelled",
		"restock.entry.unknown":                  "Sent, fate unknown (may not have arrived)",
		"restock.entry.delivered":                "Notified, delivered",
		"restock.entry.read":                     "Notified, read",
		"restock.send_again":                     "Send again",
		"restock.sent_again":                     "The alert was sent again.",
		"restock.counts_unknown":                 "%d unknown",
		"restock.cap_scheduled":                  "Held back by WhatsApp's marketing limit; sent again once at %s UTC",
		"restock.cap_retried":                    "Sent again once, 24 h after WhatsApp's marketing limit held it back",
		"restock.source.postback":                "button",
		"restock.source.quick_reply":             "quick reply",
		"restock.source.button":                  "WhatsApp button",
		"restock.source.referral":                "link",
		"restock.source.otn_optin":               "“Notify me”",
		"restock.source.agent":                   "by an agent",
		"restock.source.staff":                   "by staff",
		"restock.history":                        "Restock history",
		"restock.no_runs":                        "No restock yet.",
		"restock.started":                        "Started",
		"restock.outcome":                        "Outcome",
		"restock.counts":                         "Results",
		"restock.running":                        "Notifying…",
		"restock.outcome.":                       "",
		"restock.outcome.completed":              "Everyone waiting was handled",
		"restock.outcome.units_used":             "As many notified as units came back",
		"restock.outcome.sold_out":               "Stopped: sold out again",
		"restock.counts_line":                    "%d notified · %d skipped · %d failed",
		"restock.progress":                       " %d of %d",
		"restock.progress_label":                 "Restock progress",
		"restock.notify_me":                      "Notify me when it's back",
		"restock.notify_product":                 "Product",
		"restock.notify_ask":                     "Ask: Notify me",
		"restock.notify_add":                     "Add directly",
		"restock.notify_help":                    "Messenger Pages with one-time notifications send a “Notify me” request; elsewhere a “Notify me” button. Add directly when the customer asked in words.",
		"restock.asked":                          "“Notify me” sent to the customer.",
		"restock.added":                          "Added to the waitlist.",
		"restock.already":                        "Already waiting for this product.",
		"restock.no_products":                    "No products to offer yet.",
		"restock.system.waiting":                 "Waiting for %s",
		"restock.system.unknown":                 "Asked about unknown product %s",
		"restock.system.back_skipped":            "Waiting for %s, back in stock (not notified: %s)",
		"restock.button":                         "Notify me",
		"restock.ask_text":                       "Shall we tell you when %s is back in stock?",
		"restock.otn_title":                      "%s is back in stock",
	},
	"it": {
		"products.line":                          "Riga %d",
		"products.add":                           "Aggiungi un prodotto",
		"products.import":                        "Importa CSV",
		"products.import_help":                   "Un prodotto per riga: sku,nome,disponibilità e facoltativi url,url immagine. Se una riga è sbagliata non si importa nulla.",
		"products.csv_file":                      "File CSV",
		"products.csv_text":                      "…oppure incollalo qui",
		"products.url":                           "URL della pagina prodotto",
		"products.image_url":                     "URL dell'immagine",
		"products.template":                      "Modello WhatsApp di riassortimento",
		"products.template_language":             "Lingua",
		"products.less":                          "Uno in meno di %s",
		"products.more":                          "Uno in più di %s",
		"products.set_stock":                     "Imposta disponibilità",
		"products.created":                       "Prodotto %s aggiunto.",
		"products.imported":                      "%d creati, %d aggiornati.",
		"products.stock_set":                     "Disponibilità impostata a %d.",
		"products.saved":                         "Salvato.",
		"products.edit":                          "Modifica i dettagli",
		"restock.started_notice":                 "Riassortimento avviato: %d clienti da gestire.",
		"restock.nothing_to_do":                  "Nessuno da avvisare adesso.",
		"restock.waiting":                        "In attesa",
		"restock.who_waits":                      "Chi è in attesa",
		"restock.waiting_now":                    "%d in attesa, %d avvisabili ora",
		"restock.how":                            "Come verrebbero avvisati ora:",
		"restock.via.otn":                        "Notifica una tantum",
		"restock.via.text":                       "Messaggio nella finestra di 24 ore",
		"restock.via.template":                   "Modello marketing",
		"restock.not_now":                        "Non avvisabili ora:",
		"restock.reason.ok":                      "Avvisabile",
		"restock.reason.window_closed":           "Finestra di 24 ore chiusa",
		"restock.reason.otn_token_missing":       "Nessun token di notifica una tantum",
		"restock.reason.otn_token_used":          "Notifica una tantum già usata",
		"restock.reason.otn_token_expired":       "Notifica una tantum scaduta",
		"restock.reason.marketing_opted_out":     "Ha disattivato il marketing",
		"restock.reason.marketing_paused_region": "Marketing sospeso per i numeri +1 USA",
		"restock.reason.template_required":       "Nessun modello di riassortimento approvato",
		"restock.reason.alert_unsendable":        "Il modello richiede un dato che il prodotto non ha (es. il suo URL)",
		"restock.reason.blocked":                 "Ha bloccato l'attività",
		"restock.reason.channel_unauthorised":    "Canale non collegato",
		"restock.reason.human_agent_expired":     "Finestra dell'operatore scaduta",
		"restock.reason.tag_retired":             "Tag ritirato",
		"restock.reason.not_news_page":           "Non è una Pagina di notizie",
		"restock.cost":                           "Costo stimato di %d modelli marketing: %s",
		"restock.cost_unknown":                   "%d modelli marketing; il costo è sconosciuto finché non si importano i prezzi.",
		"restock.rerun":                          "Avvisa chi è avvisabile ora",
		"restock.nobody":                         "Ancora nessuno in attesa. I clienti si iscrivono toccando “Avvisami” in chat.",
		"restock.customer":                       "Cliente",
		"restock.status":                         "Stato",
		"restock.now":                            "Ora",
		"restock.since":                          "Iscritto",
		"restock.entry.waiting":                  "In attesa",
		"restock.entry.notified":                 "Avvisato",
		"restock.entry.skipped":                  "In attesa (saltato l'ultima volta)",
		"restock.entry.failed":                   "Non riuscito",
		"restock.entry.cancelled":                "Annullato",
		"restock.entry.unknown":                  "Inviato, esito sconosciuto (forse non arrivato)",
		"restock.entry.delivered":                "Avvisato, consegnato",
		"restock.entry.read":                     "Avvisato, letto",
		"restock.send_again":                     "Invia di nuovo",
		"restock.sent_again":                     "L'avviso è stato inviato di nuovo.",
		"restock.counts_unknown":                 "%d sconosciuti",
		"restock.cap_scheduled":                  "Trattenuto dal limite di marketing di WhatsApp; verrà reinviato una volta il %s UTC",
		"restock.cap_retried":                    "Reinviato una volta, 24 h dopo che il limite di marketing di WhatsApp lo aveva trattenuto",
		"restock.source.postback":                "pulsante",
		"restock.source.quick_reply":             "risposta rapida",
		"restock.source.button":                  "pulsante WhatsApp",
		"restock.source.referral":                "link",
		"restock.source.otn_optin":               "“Avvisami”",
		"restock.source.agent":                   "da un operatore",
		"restock.source.staff":                   "dal personale",
		"restock.history":                        "Storico dei riassortimenti",
		"restock.no_runs":                        "Ancora nessun riassortimento.",
		"restock.started":                        "Avviato",
		"restock.outcome":                        "Esito",
		"restock.counts":                         "Risultati",
		"restock.running":                        "Invio degli avvisi…",
		"restock.outcome.":                       "",
		"restock.outcome.completed":              "Gestiti tutti quelli in attesa",
		"restock.outcome.units_used":             "Avvisati tanti quanti i pezzi tornati",
		"restock.outcome.sold_out":               "Interrotto: di nuovo esaurito",
		"restock.counts_line":                    "%d avvisati · %d saltati · %d non riusciti",
		"restock.progress":                       " %d di %d",
		"restock.progress_label":                 "Avanzamento del riassortimento",
		"restock.notify_me":                      "Avvisami quando torna",
		"restock.notify_product":                 "Prodotto",
		"restock.notify_ask":                     "Chiedi: Avvisami",
		"restock.notify_add":                     "Aggiungi direttamente",
		"restock.notify_help":                    "Sulle Pagine Messenger con le notifiche una tantum si invia la richiesta “Avvisami”; altrove un pulsante “Avvisami”. Aggiungi direttamente se il cliente l'ha chiesto a parole.",
		"restock.asked":                          "“Avvisami” inviato al cliente.",
		"restock.added":                          "Aggiunto alla lista d'attesa.",
		"restock.already":                        "È già in attesa di questo prodotto.",
		"restock.no_products":                    "Ancora nessun prodotto da proporre.",
		"restock.system.waiting":                 "In attesa di %s",
		"restock.system.unknown":                 "Ha chiesto di un prodotto sconosciuto: %s",
		"restock.system.back_skipped":            "In attesa di %s, di nuovo disponibile (non avvisato: %s)",
		"restock.button":                         "Avvisami",
		"restock.ask_text":                       "Vuoi che ti avvisiamo quando %s torna disponibile?",
		"restock.otn_title":                      "%s è di nuovo disponibile",
	},
}

// RestockAction is the thread's "Notify me when it's back": the products an
// agent can offer, how the customer would be asked on this app, and what
// they already wait for.
type RestockAction struct {
	ThreadID int64
	Products []models.Product
	Waiting  []models.Product
	Ask      string // AskOTN, AskQuickReply, or "": add directly only
}

// How the thread's "Notify me when it's back" asks the customer.
const (
	AskOTN        = "otn"         // a Messenger one_time_notif_req (the Page has OTN)
	AskQuickReply = "quick_reply" // a "Notify me" quick reply, a reply button on WhatsApp; payload restock:<SKU>
)

// restockLine is a restock system line in the agent's language.
func restockLine(ctx context.Context, n *models.RestockNote) string {
	switch n.Event {
	case "waiting":
		return T(ctx, "restock.system.waiting", n.Product)
	case "unknown":
		return T(ctx, "restock.system.unknown", n.SKU)
	case "back_skipped":
		return T(ctx, "restock.system.back_skipped", n.Product, T(ctx, "restock.reason."+n.Reason))
	}
	return n.Product
}
