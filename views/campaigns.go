package views

import (
	"sort"
	"strconv"

	"github.com/a-h/templ"

	"github.com/switchboard-inbox/switchboard/models"
)

// CampaignsView is the admins' list of campaigns.
type CampaignsView struct {
	Page   Page
	Rows   []CampaignRow
	Notice string // translated
}

// CampaignRow is one campaign in the list with its live counts.
type CampaignRow struct {
	Campaign models.Campaign
	Counts   models.CampaignCounts
	Channel  string
}

// CampaignEditView is the editor: the settings form while the campaign is a
// draft (or scheduled), then its estimate, a preview for real recipients,
// progress and the actions its state allows.
type CampaignEditView struct {
	Page      Page
	Campaign  *models.Campaign // nil: a new campaign
	Form      map[string]string
	Channels  []models.Channel
	Templates []models.WATemplate // approved, of the chosen channel
	Template  *models.WATemplate  // the chosen one
	Vars      []string            // one mapping per template parameter
	Labels    []models.Label
	Chosen    map[string]bool // chosen labels and apps, "label:NAME" / "app:APP"
	Estimate  *EstimateView
	Previews  []PreviewRow
	// PreviewIncomplete: the form cannot be previewed yet (no name, channel
	// or template); the live preview says what it needs.
	PreviewIncomplete bool
	PreviewNeeds      string // the field the form still needs, and why
	Counts            models.CampaignCounts
	Skipped           map[string]int // of the recipients written at start
	Error             string         // translated or the server's message
	Field             string         // the field the error is about
	Notice            string         // translated
	TimeZones         []string
	Spent             string
	Budget            string
}

// EstimateView is the estimate panel.
type EstimateView struct {
	Recipients int
	Skipped    []ReasonCount
	Markets    []MarketRow
	Total      string
	Budget     string
	Currency   string
	Over       bool
	Unpriced   int
	Affordable int
}

// ReasonCount is a skip reason and how many it skips.
type ReasonCount struct {
	Reason string
	N      int
}

// SortedReasons lists a reason map, largest first.
func SortedReasons(m map[string]int) []ReasonCount {
	out := make([]ReasonCount, 0, len(m))
	for k, v := range m {
		out = append(out, ReasonCount{k, v})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].N != out[j].N {
			return out[i].N > out[j].N
		}
		return out[i].Reason < out[j].Reason
	})
	return out
}

// MarketRow is one market of the estimate.
type MarketRow struct {
	Market     string
	Recipients int
	Price      string
	Total      string
}

// PreviewRow is the message as one real recipient would get it.
type PreviewRow struct {
	IdentityID int64
	Name       string
	Header     string
	Text       string
	Links      []PreviewLink
	Unfilled   bool
}

// PreviewLink is a URL button of the message.
type PreviewLink struct{ Text, URL string }

// SlotLabel names a template parameter for its input: "Body {{1}}".
func SlotLabel(t *models.WATemplate, i int) string {
	if t == nil || i >= len(t.Parameters) {
		return "{{" + strconv.Itoa(i+1) + "}}"
	}
	p := t.Parameters[i]
	return p.Component + " {{" + p.Name + "}}"
}

func campaignEditPath(id int64) templ.SafeURL {
	return templ.SafeURL("/campaigns/" + strconv.FormatInt(id, 10) + "/edit")
}

func campaignPath(id int64, action string) string {
	return "/campaigns/" + strconv.FormatInt(id, 10) + "/" + action
}

func campaignReportPath(id int64) templ.SafeURL {
	return templ.SafeURL("/campaigns/" + strconv.FormatInt(id, 10))
}

func itoa64(n int64) string { return strconv.FormatInt(n, 10) }

func pct(n, of int64) int {
	if of <= 0 {
		return 0
	}
	return int(n * 100 / of)
}

// can says whether the campaign's state allows an action.
func can(c *models.Campaign, action string) bool {
	if c == nil {
		return false
	}
	switch action {
	case "edit", "start", "test", "estimate":
		return c.Status == models.CampaignDraft || action == "test" && c.Status != models.CampaignCancelled
	case "pause":
		return c.Status == models.CampaignRunning || c.Status == models.CampaignScheduled
	case "resume", "budget":
		return c.Status == models.CampaignPaused || action == "budget" && c.Status == models.CampaignRunning
	case "cancel":
		return c.Status != models.CampaignDone && c.Status != models.CampaignCancelled
	case "retry":
		return c.Status == models.CampaignDone || c.Status == models.CampaignPaused || c.Status == models.CampaignCancelled
	}
	return false
}

func init() {
	for lang, msgs := range campaignsCatalogue {
		for k, v := range msgs {
			catalogue[lang][k] = v
		}
	}
}

var campaignsCatalogue = map[string]map[string]string{
	"en": {
		"nav.campaigns":                    "Campaigns",
		"campaigns.title":                  "Campaigns",
		"campaigns.none":                   "No campaigns yet. A campaign sends an approved WhatsApp template to an audience, within a budget.",
		"campaigns.new":                    "New campaign",
		"campaigns.name":                   "Name",
		"campaigns.status":                 "Status",
		"campaigns.channel":                "Channel",
		"campaigns.progress":               "Progress",
		"campaigns.created":                "Created",
		"campaigns.report":                 "Report",
		"campaigns.edit":                   "Edit",
		"campaigns.open":                   "Open",
		"campaign.status.draft":            "Draft",
		"campaign.status.scheduled":        "Scheduled",
		"campaign.status.running":          "Running",
		"campaign.status.paused":           "Paused",
		"campaign.status.done":             "Done",
		"campaign.status.cancelled":        "Cancelled",
		"campaign.paused.":                 "by hand",
		"campaign.paused.budget_exhausted": "the budget is used up: raise it, then resume",
		"campaign.paused.error_rate":       "too many of the last messages failed",
		"campaign.paused.template_paused":  "Meta paused or disabled the template",
		"campaign.settings":                "Settings",
		"campaign.template":                "Approved template",
		"campaign.choose_template":         "Choose a template",
		"campaign.no_templates":            "This channel has no approved template yet: sync templates in Settings → Templates.",
		"campaign.variables":               "Variables",
		"campaign.variables_help":          "For each variable: fixed text, a contact field with a fallback such as {first_name|cliente} (fields: first_name, last_name, name, phone, country), or a tracked link {link:https://…}. A one-word or missing name never sends an empty variable.",
		"campaign.text":                    "Message",
		"campaign.text_help":               "Messenger and Instagram have no marketing templates here: the message goes as an UPDATE to the customers whose 24-hour window is open when it runs.",
		"campaign.audience":                "Audience",
		"campaign.labels":                  "Labels (any of them)",
		"campaign.countries":               "Countries (ISO codes, comma-separated)",
		"campaign.apps":                    "Also known on",
		"campaign.contacted_after":         "Last contacted from",
		"campaign.contacted_before":        "Last contacted before",
		"campaign.budget":                  "Budget",
		"campaign.currency":                "Currency",
		"campaign.schedule":                "Start at (leave empty to start by hand)",
		"campaign.time_zone":               "Time zone",
		"campaign.rate":                    "Messages per second (0: the number's limit)",
		"campaign.dry_run":                 "Dry run: judge, personalise and price everyone, but send nothing",
		"campaign.save":                    "Save draft",
		"campaign.saved":                   "Saved.",
		"campaign.estimate":                "Estimate",
		"campaign.recipients":              "Recipients",
		"campaign.skipped":                 "Skipped",
		"campaign.by_market":               "Cost by market",
		"campaign.market":                  "Market",
		"campaign.price":                   "Price",
		"campaign.total":                   "Total",
		"campaign.total_vs_budget":         "%s of a %s budget",
		"campaign.over_budget":             "Over budget: the campaign pauses after about %d messages.",
		"campaign.unpriced":                "%d recipients are in markets without a price in the table.",
		"campaign.nothing_sent":            "Nothing is sent by the estimate.",
		"campaign.preview":                 "Preview for real recipients",
		"campaign.preview_none":            "Nobody in the audience yet.",
		"campaign.preview_incomplete":      "Choose the channel and the template, and give the campaign a name, to see the message as real recipients get it.",
		"campaign.preview_live":            "Updates as you type; nothing is saved or sent.",
		"campaign.unfilled":                "a variable would be empty: this recipient is skipped",
		"campaign.actions":                 "Actions",
		"campaign.start":                   "Start now",
		"campaign.schedule_it":             "Schedule",
		"campaign.pause":                   "Pause",
		"campaign.resume":                  "Resume",
		"campaign.cancel":                  "Cancel campaign",
		"campaign.retry":                   "Retry failed (131049) after 24 h",
		"campaign.test":                    "Send a test",
		"campaign.test_to":                 "To",
		"campaign.test_phone":              "or the WhatsApp number",
		"campaign.test_unknown_phone":      "No customer with that WhatsApp number has written to this channel: a test goes only to a number the channel knows (write to it from the phone first).",
		"campaign.test_sent":               "Test sent.",
		"campaign.raise_budget":            "Set budget",
		"campaign.started":                 "Started.",
		"campaign.scheduled":               "Scheduled.",
		"campaign.paused":                  "Paused.",
		"campaign.resumed":                 "Resumed.",
		"campaign.cancelled":               "Cancelled.",
		"campaign.retry_created":           "A follow-up campaign of the failed recipients is scheduled.",
		"campaign.retry_nothing":           "Nobody is left to retry: no recipient failed with 131049, or each one already is in a follow-up of this campaign.",
		"campaign.err.time_zone":           "Unknown time zone %q: use a name such as Europe/Rome.",
		"campaign.err.schedule_format":     "Give the date and time as YYYY-MM-DDTHH:MM.",
		"campaign.err.name":                "A campaign needs a name.",
		"campaign.err.channel":             "No such channel.",
		"campaign.err.schedule_past":       "The schedule is in the past.",
		"campaign.err.rate":                "Messages per second must be between 0 (the number's limit) and 10000.",
		"campaign.err.budget_format":       "The budget must be an amount such as 50.00.",
		"campaign.err.text":                "A Messenger or Instagram campaign sends a text to the customers whose window is open: write it.",
		"campaign.err.template_choose":     "Choose an approved template.",
		"campaign.err.template_missing":    "No template %q (%s) on this channel.",
		"campaign.err.budget_needed":       "A WhatsApp campaign needs a budget.",
		"campaign.err.currency":            "The price table is in %s: give the budget in %s.",
		"campaign.err.budget_low":          "The budget is below the price of one message (%s %s).",
		"campaign.err.template_gone":       "The campaign's template no longer exists.",
		"campaign.err.template_status":     "Template %s is %s at Meta, not approved: it cannot be sent.",
		"campaign.err.audience_empty":      "Nobody in the audience can be sent this campaign (skipped: %s).",
		"campaign.err.budget_low_audience": "The budget is below the price of one message to this audience.",
		"campaign.err.no_131049":           "No recipient of this campaign failed with 131049.",
		"campaign.err.identity":            "No such customer on the campaign's channel.",
		"campaign.err.variable_empty":      "A variable would be empty for this customer: give it a fallback.",
		"campaign.err.variables_count":     "Template %s takes %d variables, not %d.",
		"campaign.err.variable_required":   "Variable %d (%s) of template %s is required.",
		"campaign.err.link_alone":          "A URL-button suffix with a tracked link takes only the {link:…}.",
		"campaign.budget_set":              "Budget changed.",
		"campaign.state_conflict":          "The campaign's state changed meanwhile: nothing was done.",
		"campaign.progress":                "Progress",
		"campaign.spent":                   "Committed: %s of %s",
		"campaign.counts":                  "%d of %d handled · %d pending · %d skipped · %d queued · %d sent · %d delivered · %d read · %d failed",
		"campaign.dry_run_badge":           "dry run",
		"campaign.follow_up":               "follow-up",
		"campaign.window_badge":            "open windows",
		"skip.no_whatsapp":                 "no WhatsApp on this number",
		"skip.no_identity":                 "not on this channel",
		"skip.duplicate":                   "duplicate person or number",
		"skip.window_closed":               "window closed",
		"skip.variables_unfilled":          "a variable would be empty",
		"skip.budget_exhausted":            "budget used up",
		"skip.alert_unsendable":            "the message cannot be built",
		"skip.no_price":                    "no price",
		"skip.marketing_opted_out":         "opted out of marketing",
		"skip.marketing_paused_region":     "+1 US: marketing paused by Meta",
		"skip.blocked":                     "blocked",
		"skip.channel_unauthorised":        "channel not authorised",
		"skip.template_required":           "template required",
	},
	"it": {
		"nav.campaigns":                    "Campagne",
		"campaigns.title":                  "Campagne",
		"campaigns.none":                   "Ancora nessuna campagna. Una campagna invia un modello WhatsApp approvato a un pubblico, entro un budget.",
		"campaigns.new":                    "Nuova campagna",
		"campaigns.name":                   "Nome",
		"campaigns.status":                 "Stato",
		"campaigns.channel":                "Canale",
		"campaigns.progress":               "Avanzamento",
		"campaigns.created":                "Creata",
		"campaigns.report":                 "Report",
		"campaigns.edit":                   "Modifica",
		"campaigns.open":                   "Apri",
		"campaign.status.draft":            "Bozza",
		"campaign.status.scheduled":        "Programmata",
		"campaign.status.running":          "In corso",
		"campaign.status.paused":           "In pausa",
		"campaign.status.done":             "Conclusa",
		"campaign.status.cancelled":        "Annullata",
		"campaign.paused.":                 "a mano",
		"campaign.paused.budget_exhausted": "il budget è esaurito: aumentalo, poi riprendi",
		"campaign.paused.error_rate":       "troppi degli ultimi messaggi non sono andati a buon fine",
		"campaign.paused.template_paused":  "Meta ha messo in pausa o disattivato il modello",
		"campaign.settings":                "Impostazioni",
		"campaign.template":                "Modello approvato",
		"campaign.choose_template":         "Scegli un modello",
		"campaign.no_templates":            "Questo canale non ha ancora modelli approvati: sincronizzali in Impostazioni → Modelli.",
		"campaign.variables":               "Variabili",
		"campaign.variables_help":          "Per ogni variabile: testo fisso, un campo del contatto con un valore di riserva come {first_name|cliente} (campi: first_name, last_name, name, phone, country) o un link tracciato {link:https://…}. Un nome di una parola o mancante non invia mai una variabile vuota.",
		"campaign.text":                    "Messaggio",
		"campaign.text_help":               "Messenger e Instagram qui non hanno modelli di marketing: il messaggio parte come UPDATE ai clienti con la finestra di 24 ore aperta quando la campagna gira.",
		"campaign.audience":                "Pubblico",
		"campaign.labels":                  "Etichette (una qualsiasi)",
		"campaign.countries":               "Paesi (codici ISO, separati da virgole)",
		"campaign.apps":                    "Presenti anche su",
		"campaign.contacted_after":         "Ultimo contatto dal",
		"campaign.contacted_before":        "Ultimo contatto prima del",
		"campaign.budget":                  "Budget",
		"campaign.currency":                "Valuta",
		"campaign.schedule":                "Avvio (vuoto per avviarla a mano)",
		"campaign.time_zone":               "Fuso orario",
		"campaign.rate":                    "Messaggi al secondo (0: il limite del numero)",
		"campaign.dry_run":                 "Prova a secco: valuta, personalizza e prezza tutti, senza inviare nulla",
		"campaign.save":                    "Salva bozza",
		"campaign.saved":                   "Salvata.",
		"campaign.estimate":                "Stima",
		"campaign.recipients":              "Destinatari",
		"campaign.skipped":                 "Esclusi",
		"campaign.by_market":               "Costo per mercato",
		"campaign.market":                  "Mercato",
		"campaign.price":                   "Prezzo",
		"campaign.total":                   "Totale",
		"campaign.total_vs_budget":         "%s su un budget di %s",
		"campaign.over_budget":             "Oltre il budget: la campagna si ferma dopo circa %d messaggi.",
		"campaign.unpriced":                "%d destinatari sono in mercati senza prezzo nel listino.",
		"campaign.nothing_sent":            "La stima non invia nulla.",
		"campaign.preview":                 "Anteprima per destinatari reali",
		"campaign.preview_none":            "Ancora nessuno nel pubblico.",
		"campaign.preview_incomplete":      "Scegli il canale e il modello e dai un nome alla campagna per vedere il messaggio come lo ricevono i destinatari reali.",
		"campaign.preview_live":            "Si aggiorna mentre scrivi; nulla viene salvato o inviato.",
		"campaign.unfilled":                "una variabile sarebbe vuota: questo destinatario viene escluso",
		"campaign.actions":                 "Azioni",
		"campaign.start":                   "Avvia ora",
		"campaign.schedule_it":             "Programma",
		"campaign.pause":                   "Metti in pausa",
		"campaign.resume":                  "Riprendi",
		"campaign.cancel":                  "Annulla campagna",
		"campaign.retry":                   "Riprova i falliti (131049) dopo 24 h",
		"campaign.test":                    "Invia una prova",
		"campaign.test_to":                 "A",
		"campaign.test_phone":              "o il numero WhatsApp",
		"campaign.test_unknown_phone":      "Nessun cliente con quel numero WhatsApp ha scritto a questo canale: una prova va solo a un numero che il canale conosce (scrivigli prima dal telefono).",
		"campaign.test_sent":               "Prova inviata.",
		"campaign.raise_budget":            "Imposta budget",
		"campaign.started":                 "Avviata.",
		"campaign.scheduled":               "Programmata.",
		"campaign.paused":                  "In pausa.",
		"campaign.resumed":                 "Ripresa.",
		"campaign.cancelled":               "Annullata.",
		"campaign.retry_created":           "È programmata una campagna di follow-up per i destinatari falliti.",
		"campaign.retry_nothing":           "Nessuno da riprovare: nessun destinatario ha avuto l'errore 131049, oppure sono già tutti in una campagna di follow-up di questa.",
		"campaign.err.time_zone":           "Fuso orario %q sconosciuto: usa un nome come Europe/Rome.",
		"campaign.err.schedule_format":     "Indica data e ora come AAAA-MM-GGTHH:MM.",
		"campaign.err.name":                "Una campagna ha bisogno di un nome.",
		"campaign.err.channel":             "Canale inesistente.",
		"campaign.err.schedule_past":       "La programmazione è nel passato.",
		"campaign.err.rate":                "I messaggi al secondo devono essere tra 0 (il limite del numero) e 10000.",
		"campaign.err.budget_format":       "Il budget deve essere un importo come 50.00.",
		"campaign.err.text":                "Una campagna Messenger o Instagram invia un testo ai clienti con la finestra aperta: scrivilo.",
		"campaign.err.template_choose":     "Scegli un modello approvato.",
		"campaign.err.template_missing":    "Nessun modello %q (%s) su questo canale.",
		"campaign.err.budget_needed":       "Una campagna WhatsApp ha bisogno di un budget.",
		"campaign.err.currency":            "Il listino è in %s: indica il budget in %s.",
		"campaign.err.budget_low":          "Il budget è inferiore al prezzo di un messaggio (%s %s).",
		"campaign.err.template_gone":       "Il modello della campagna non esiste più.",
		"campaign.err.template_status":     "Il modello %s è %s su Meta, non approvato: non si può inviare.",
		"campaign.err.audience_empty":      "Nessuno nel pubblico può ricevere questa campagna (esclusi: %s).",
		"campaign.err.budget_low_audience": "Il budget è inferiore al prezzo di un messaggio per questo pubblico.",
		"campaign.err.no_131049":           "Nessun destinatario di questa campagna ha avuto l'errore 131049.",
		"campaign.err.identity":            "Nessun cliente così sul canale della campagna.",
		"campaign.err.variable_empty":      "Una variabile sarebbe vuota per questo cliente: dalle un valore di riserva.",
		"campaign.err.variables_count":     "Il modello %s prende %d variabili, non %d.",
		"campaign.err.variable_required":   "La variabile %d (%s) del modello %s è obbligatoria.",
		"campaign.err.link_alone":          "Il suffisso di un pulsante URL con un link tracciato contiene solo il {link:…}.",
		"campaign.budget_set":              "Budget modificato.",
		"campaign.state_conflict":          "Lo stato della campagna è cambiato nel frattempo: non è stato fatto nulla.",
		"campaign.progress":                "Avanzamento",
		"campaign.spent":                   "Impegnati: %s su %s",
		"campaign.counts":                  "%d di %d gestiti · %d in attesa · %d esclusi · %d in coda · %d inviati · %d consegnati · %d letti · %d falliti",
		"campaign.dry_run_badge":           "prova a secco",
		"campaign.follow_up":               "follow-up",
		"campaign.window_badge":            "finestre aperte",
		"skip.no_whatsapp":                 "nessun WhatsApp su questo numero",
		"skip.no_identity":                 "non presente su questo canale",
		"skip.duplicate":                   "persona o numero duplicato",
		"skip.window_closed":               "finestra chiusa",
		"skip.variables_unfilled":          "una variabile sarebbe vuota",
		"skip.budget_exhausted":            "budget esaurito",
		"skip.alert_unsendable":            "il messaggio non si può comporre",
		"skip.no_price":                    "nessun prezzo",
		"skip.marketing_opted_out":         "ha rifiutato il marketing",
		"skip.marketing_paused_region":     "+1 USA: marketing sospeso da Meta",
		"skip.blocked":                     "bloccato",
		"skip.channel_unauthorised":        "canale non autorizzato",
		"skip.template_required":           "serve un modello",
	},
}
