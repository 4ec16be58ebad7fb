package web

import (
	"net/http"

	"github.com/switchboard-inbox/switchboard/models"
	"github.com/switchboard-inbox/switchboard/static"
)

// routes is the map of the app: every URL Switchboard answers.
func (s *Server) routes(mux *http.ServeMux) {
	// Operations.
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /readyz", s.readyz)
	if s.opts.MetricsToken != "" { // without a token, metrics are only on METRICS_ADDR
		mux.Handle("GET /metrics", s.MetricsHandler())
	}
	mux.Handle("GET /static/{hash}/{path...}", static.Handler())

	ui := s.sessions.LoadAndSave
	user := func(h http.HandlerFunc) http.Handler { return ui(s.requireUser(h)) }
	agent := func(h http.HandlerFunc) http.Handler { return ui(s.requireRole(models.RoleAgent, h)) }
	staff := func(h http.HandlerFunc) http.Handler { return ui(s.requireRole(models.RoleStaff, h)) }
	admin := func(h http.HandlerFunc) http.Handler { return ui(s.requireRole(models.RoleAdmin, h)) }

	// Sign-in and the user's own settings.
	mux.Handle("GET /login", ui(http.HandlerFunc(s.loginPage)))
	mux.Handle("POST /login", ui(http.HandlerFunc(s.login)))
	mux.Handle("POST /logout", ui(http.HandlerFunc(s.logout)))
	mux.Handle("GET /{$}", user(s.home))
	mux.Handle("GET /account", user(s.accountPage))
	mux.Handle("POST /account/locale", user(s.accountLocale))
	mux.Handle("POST /account/password", user(s.accountPassword))

	// Inbox (agents and admins).
	mux.Handle("GET /inbox", agent(s.inboxPage))
	mux.Handle("GET /media/{id}", agent(s.media))
	mux.HandleFunc("GET /relay-media/{ref}", s.relayMedia) // signed link for Meta's fetcher (media_relay.go)
	mux.Handle("GET /inbox/closing", agent(s.closingPage))
	mux.Handle("GET /inbox/threads/{id}", agent(s.threadPage))
	mux.Handle("GET /inbox/threads/{id}/composer", agent(s.composerFragment))
	mux.Handle("GET /inbox/threads/{id}/composer/template", agent(s.composerTemplate))
	mux.Handle("GET /inbox/threads/{id}/composer/template/preview", agent(s.composerTemplatePreview))
	mux.Handle("POST /inbox/threads/{id}/messages", agent(s.composerSend))
	mux.Handle("POST /inbox/threads/{id}/notes", agent(s.noteAdd))
	mux.Handle("POST /inbox/threads/{id}/read", agent(s.threadRead))
	mux.Handle("POST /inbox/threads/{id}/status", agent(s.threadStatus))
	mux.Handle("POST /inbox/threads/{id}/assign", agent(s.threadAssign))
	mux.Handle("POST /inbox/threads/{id}/labels", agent(s.threadLabels))
	mux.Handle("POST /inbox/threads/{id}/restock", agent(s.threadRestock))
	mux.Handle("POST /inbox/messages/{id}/retry", agent(s.messageRetry))
	mux.Handle("GET /contacts/{id}", agent(s.contactPage))
	mux.Handle("POST /contacts/{id}/merge", agent(s.contactMerge))
	mux.Handle("POST /identities/{id}/block", agent(s.identityBlock))
	mux.Handle("GET /ws", agent(s.wsConnect))
	mux.Handle("GET /inbox/groups/new", agent(s.newGroupPage))
	mux.Handle("POST /inbox/groups", agent(s.groupCreate))
	mux.Handle("POST /inbox/threads/{id}/members", agent(s.memberAdd))
	mux.Handle("POST /inbox/threads/{id}/members/{identity}/remove", agent(s.memberRemove))
	mux.Handle("POST /inbox/threads/{id}/polls", agent(s.pollCreate))
	mux.Handle("POST /inbox/polls/{id}/close", agent(s.pollClose))

	// Products (staff and admins).
	mux.Handle("GET /products", staff(s.productsPage))
	mux.Handle("POST /products", staff(s.productCreate))
	mux.Handle("POST /products/import", staff(s.productImport))
	mux.Handle("GET /products/{sku}", staff(s.productPage))
	mux.Handle("POST /products/{sku}", staff(s.productEdit))
	mux.Handle("POST /products/{sku}/stock", staff(s.productStock))
	mux.Handle("POST /products/{sku}/rerun", staff(s.productRerun))
	mux.Handle("POST /products/{sku}/waitlist/{id}/send-again", staff(s.productSendAgain))
	mux.Handle("GET /products/{sku}/live", staff(s.productLive))

	// Campaign reports (admins); a campaign's tracked links (anyone: the customer).
	mux.Handle("GET /campaigns/{id}", admin(s.campaignReportPage))
	mux.Handle("GET /campaigns/{id}/recipients", admin(s.campaignReportRows))
	mux.Handle("POST /campaigns/{id}/attribution", admin(s.campaignAttribution))
	mux.Handle("GET /campaigns/{id}/live", admin(s.campaignReportLive))
	mux.Handle("GET /campaigns/{id}/recipients.csv", admin(s.campaignRecipientsCSV))
	mux.HandleFunc("GET /c/{token}", s.campaignClick)

	// Settings (admins).
	mux.Handle("GET /settings", admin(s.settingsHome))
	mux.Handle("GET /settings/channels", admin(s.settingsChannels))
	mux.Handle("POST /settings/channels", admin(s.channelCreate))
	mux.Handle("POST /settings/channels/{id}/token", admin(s.channelToken))
	mux.Handle("GET /settings/templates", admin(s.settingsTemplates))
	mux.Handle("POST /settings/templates/{id}/sync", admin(s.templatesSync))
	mux.Handle("GET /settings/prices", admin(s.settingsPrices))
	mux.Handle("POST /settings/prices/preview", admin(s.pricesPreview))
	mux.Handle("POST /settings/prices/import", admin(s.pricesImport))
	mux.Handle("POST /settings/prices/edit", admin(s.pricesEdit))
	mux.Handle("GET /settings/spend", admin(s.settingsSpend))
	mux.Handle("GET /settings/spend.csv", admin(s.spendCSV))
	mux.Handle("GET /settings/users", admin(s.settingsUsers))
	mux.Handle("POST /settings/users", admin(s.userCreate))
	mux.Handle("POST /settings/users/{id}/role", admin(s.userRole))
	mux.Handle("POST /settings/users/{id}/remove", admin(s.userRemove))
	mux.Handle("GET /settings/tokens", admin(s.settingsTokens))
	mux.Handle("POST /settings/tokens", admin(s.tokenCreate))
	mux.Handle("POST /settings/tokens/{id}/revoke", admin(s.tokenRevoke))
	mux.Handle("GET /settings/replies", admin(s.settingsReplies))
	mux.Handle("POST /settings/replies", admin(s.cannedCreate))
	mux.Handle("POST /settings/replies/{id}/delete", admin(s.cannedDelete))
	mux.Handle("POST /settings/labels", admin(s.labelCreate))
	mux.Handle("POST /settings/labels/{id}/delete", admin(s.labelDelete))
	mux.Handle("GET /settings/groups", admin(s.settingsGroups))
	mux.Handle("POST /settings/groups", admin(s.leaveWordsSave))
	mux.Handle("GET /settings/campaigns", admin(s.settingsCampaigns))
	mux.Handle("POST /settings/campaigns", admin(s.stopWordsSave))
	mux.Handle("GET /settings/webhooks", admin(s.settingsWebhooks))
	mux.Handle("POST /settings/webhooks/{id}/replay", admin(s.webhookReplay))

	// JSON API (bearer tokens).
	mux.Handle("GET /api/v1/threads", s.requireToken(http.HandlerFunc(s.apiThreads)))
	mux.Handle("GET /api/v1/threads/{id}", s.requireToken(http.HandlerFunc(s.apiThread)))
	mux.Handle("GET /api/v1/threads/{id}/messages", s.requireToken(http.HandlerFunc(s.apiMessages)))
	mux.Handle("GET /api/v1/contacts/{id}", s.requireToken(http.HandlerFunc(s.apiContact)))
	mux.Handle("GET /api/v1/templates", s.requireToken(http.HandlerFunc(s.apiTemplates)))
	mux.Handle("GET /api/v1/prices", s.requireToken(http.HandlerFunc(s.apiPrices)))
	mux.Handle("GET /api/v1/prices/quote", s.requireToken(http.HandlerFunc(s.apiPriceQuote)))
	mux.Handle("POST /api/v1/prices/import", s.requireToken(http.HandlerFunc(s.apiPricesImport)))
	mux.Handle("POST /api/v1/campaigns/{id}/conversions", s.requireToken(http.HandlerFunc(s.apiCampaignConversion)))
	mux.Handle("GET /api/v1/campaigns/{id}/recipients", s.requireToken(http.HandlerFunc(s.apiCampaignRecipients)))

	s.webhookRoutes(mux)  // webhooks.go: Meta's GET handshake and signed POSTs
	s.sendRoutes(mux)     // api_send.go: policy and sending, JSON and composer
	s.groupRoutes(mux)    // api_groups.go: relay groups and polls
	s.productRoutes(mux)  // api_products.go: products, waitlists and restock runs
	s.campaignRoutes(mux) // api_campaigns.go, campaigns.go: WhatsApp campaigns, API and pages
}
