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

// TN is T for a count: "1 vote", "2 votes". Exactly one takes the key's
// ".one" form where the catalogue has it (English and Italian both use the
// singular for one alone); n fills the first verb, args the rest.
func TN[N ~int | ~int64](ctx context.Context, key string, n N, args ...any) string {
	if n == 1 {
		if _, ok := catalogue[Locale(ctx)][key+".one"]; ok {
			key += ".one"
		}
	}
	return T(ctx, key, append([]any{n}, args...)...)
}
