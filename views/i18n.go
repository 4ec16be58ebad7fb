package views

import (
	"context"
	"fmt"
)

type localeKey struct{}

// WithLocale makes T answer in locale ("en" or "it").
func WithLocale(ctx context.Context, locale string) context.Context {
	return context.WithValue(ctx, localeKey{}, locale)
}

// Locale is the language of ctx, English by default.
func Locale(ctx context.Context) string {
	if l, ok := ctx.Value(localeKey{}).(string); ok && l != "" {
		return l
	}
	return "en"
}

// T translates a catalogue key into the context's language; args fill
// fmt verbs. A missing key shows itself, so gaps are visible, not silent.
func T(ctx context.Context, key string, args ...any) string {
	msg, ok := catalogue[Locale(ctx)][key]
	if !ok {
		if msg, ok = catalogue["en"][key]; !ok {
			msg = key
		}
	}
	if len(args) > 0 {
		return fmt.Sprintf(msg, args...)
	}
	return msg
}

// catalogue holds every UI string in English and Italian (Italy is the first market).
var catalogue = map[string]map[string]string{
	"en": {
		"app.name":        "Switchboard",
		"nav.skip":        "Skip to content",
		"nav.inbox":       "Inbox",
		"nav.closing":     "Reply before it closes",
		"nav.products":    "Products",
		"nav.settings":    "Settings",
		"nav.logout":      "Sign out",
		"login.title":     "Sign in to Switchboard",
		"login.email":     "Email",
		"login.password":  "Password",
		"login.submit":    "Sign in",
		"login.invalid":   "That email and password do not match an account.",
		"login.throttled": "Too many attempts. Wait a minute and try again.",
		"login.tagline":   "Messenger, Instagram and WhatsApp in one inbox.",
		"error.notfound":  "Not found",
		"error.server":    "Something went wrong on our side. It has been logged (request %s).",
		"error.forbidden": "You do not have access to this page.",
	},
	"it": {
		"app.name":        "Switchboard",
		"nav.skip":        "Vai al contenuto",
		"nav.inbox":       "Posta in arrivo",
		"nav.closing":     "Rispondi prima che si chiuda",
		"nav.products":    "Prodotti",
		"nav.settings":    "Impostazioni",
		"nav.logout":      "Esci",
		"login.title":     "Accedi a Switchboard",
		"login.email":     "Email",
		"login.password":  "Password",
		"login.submit":    "Accedi",
		"login.invalid":   "Email e password non corrispondono a nessun account.",
		"login.throttled": "Troppi tentativi. Attendi un minuto e riprova.",
		"login.tagline":   "Messenger, Instagram e WhatsApp in un'unica casella.",
		"error.notfound":  "Non trovato",
		"error.server":    "Qualcosa è andato storto da parte nostra. L'errore è stato registrato (richiesta %s).",
		"error.forbidden": "Non hai accesso a questa pagina.",
	},
}
