package metasim

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// Customer is one simulated person, with an id on each app.
type Customer struct {
	Index    int
	Name     string
	Username string // Instagram handle and WhatsApp username
	Country  string // ISO 3166 alpha-2
	Language string // for the texts they write
	Phone    string // WhatsApp number, E.164 digits without "+"; empty for a BSUID-only user
	BSUID    string // WhatsApp business-scoped user id ("CC.xxxx"); empty if they have no username
	PSID     string // Page-scoped id on Messenger
	IGSID    string // Instagram-scoped id
}

// WhatsAppID is how a WhatsApp business addresses the customer: their number, else their BSUID.
func (c Customer) WhatsAppID() string { return firstNonEmpty(c.Phone, c.BSUID) }

// IDFor is the customer's id on the app.
func (c Customer) IDFor(app App) string {
	switch app {
	case Messenger:
		return c.PSID
	case Instagram:
		return c.IGSID
	default:
		return c.WhatsAppID()
	}
}

// Customers returns the simulator's fixed population.
func (s *Sim) Customers() []Customer { return append([]Customer(nil), s.pop...) }

// market is a country the population draws from: names, how its mobile numbers look, its language.
type market struct {
	country  string
	language string
	code     string   // calling code
	prefixes []string // national mobile prefixes
	digits   int      // digits after the prefix
	names    []string
}

// markets covers the calling codes the brief asks for, with non-ASCII names on purpose.
var markets = []market{
	{"IT", "it", "39", []string{"320", "333", "347", "366", "388"}, 7, []string{"Giulia Rossi", "Marco Bianchi", "Niccolò Ferri", "Chiara Esposito", "Lucia Romano", "Andrea Colombo"}},
	{"GB", "en", "44", []string{"7700", "7911", "7400"}, 6, []string{"Oliver Smith", "Zoë Clarke", "Amelia Jones", "Siobhán O'Brien", "Harry Patel"}},
	{"DE", "de", "49", []string{"151", "160", "170", "176"}, 8, []string{"Jürgen Müller", "Lena Schäfer", "Max Weiß", "Sophie Köhler", "Björn Groß"}},
	{"BR", "pt", "55", []string{"119", "219", "319"}, 8, []string{"José Silva", "João Pereira", "Ana Conceição", "Luíza Araújo", "Thiago Gonçalves"}},
	{"IN", "hi", "91", []string{"98", "99", "70", "81"}, 8, []string{"Priya Sharma", "Arjun Patel", "अनन्या गुप्ता", "Rahul Verma", "Lakshmi Iyer"}},
	{"US", "en", "1", []string{"212", "415", "305", "312", "646"}, 7, []string{"Emily Johnson", "Michael Brown", "Daniel García", "Chloe Davis", "Ava Nguyễn"}},
	{"CA", "fr", "1", []string{"514", "416", "604"}, 7, []string{"Émilie Tremblay", "Liam Roy", "Chloé Gagnon"}},
	{"PL", "pl", "48", []string{"501", "602", "721", "880"}, 6, []string{"Łukasz Nowak", "Agnieszka Wiśniewska", "Paweł Kowalczyk", "Zofia Wójcik"}},
	{"ES", "es", "34", []string{"6"}, 8, []string{"María Fernández", "José Luis Martínez", "Lucía Gómez", "Iñigo Ruiz"}},
	{"FR", "fr", "33", []string{"6", "7"}, 8, []string{"Zoë Lefèvre", "Hélène Dubois", "François Moreau"}},
	{"MX", "es", "52", []string{"155", "133", "181"}, 7, []string{"Sofía Hernández", "Diego López", "Ximena Pérez"}},
	{"JP", "ja", "81", []string{"90", "80"}, 8, []string{"山田 花子", "佐藤 健", "Yuki Tanaka"}},
}

// newPopulation builds a deterministic population from the seed: same seed, same people.
// One in ten has a WhatsApp username and no visible number (BSUID only); one in five has both.
func newPopulation(seed uint64, n int) []Customer {
	rng := rand.New(rand.NewPCG(seed, 0xc0ffee))
	out := make([]Customer, n)
	base := seed % 1000 * 100000
	for i := range out {
		m := markets[i%len(markets)]
		name := m.names[(i/len(markets))%len(m.names)]
		c := Customer{
			Index:    i,
			Name:     name,
			Username: handle(name, i),
			Country:  m.country,
			Language: m.language,
			PSID:     fixedDigits(base+uint64(i)+1, 16),
			IGSID:    fixedDigits(base+uint64(i)+500000, 17),
		}
		phone := m.code + m.prefixes[rng.IntN(len(m.prefixes))]
		for range m.digits {
			phone += string(rune('0' + rng.IntN(10)))
		}
		switch i % 10 {
		case 7: // username only: Meta shows a BSUID and no number
			c.BSUID = bsuid(m.country, rng)
		case 3, 5:
			c.Phone, c.BSUID = phone, bsuid(m.country, rng)
		default:
			c.Phone = phone
		}
		out[i] = c
	}
	return out
}

// bsuid looks like a business-scoped user id: country code, dot, alphanumerics.
func bsuid(country string, rng *rand.Rand) string {
	const alnum = "0123456789"
	var b strings.Builder
	b.WriteString(country + ".")
	for range 20 {
		b.WriteByte(alnum[rng.IntN(len(alnum))])
	}
	return b.String()
}

// handle makes an ASCII username from a name ("Łukasz Nowak" → "nowak.lukasz42").
func handle(name string, i int) string {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == ' ':
			b.WriteByte('.')
		default:
			if a, ok := asciiFold[r]; ok {
				b.WriteString(a)
			}
		}
	}
	h := strings.Trim(b.String(), ".")
	if h == "" {
		h = "user"
	}
	return fmt.Sprintf("%s%d", h, i)
}

var asciiFold = map[rune]string{
	'à': "a", 'á': "a", 'â': "a", 'ã': "a", 'ä': "a", 'ç': "c", 'è': "e", 'é': "e", 'ê': "e", 'ë': "e",
	'ì': "i", 'í': "i", 'ò': "o", 'ó': "o", 'ô': "o", 'ö': "o", 'ù': "u", 'ú': "u", 'ü': "u", 'ñ': "n",
	'ł': "l", 'ś': "s", 'ź': "z", 'ż': "z", 'ć': "c", 'ń': "n", 'ß': "ss", 'ễ': "e",
}

// phrases are what customers write, per language; emoji on purpose (surrogate pairs when escaped).
var phrases = map[string][]string{
	"it": {"Ciao! Avete ancora le scarpe in taglia 38?", "Quando arriva il mio ordine?", "Grazie mille 🙏", "Posso passare in negozio domani?"},
	"en": {"Hi, is my order #4521 shipped yet?", "Do you have this in blue?", "Thanks so much! 😊", "Can I change my delivery address?"},
	"de": {"Wo ist meine Bestellung?", "Habt ihr das auch in Größe M?", "Vielen Dank! 👍"},
	"pt": {"Olá, vocês entregam em São Paulo?", "Qual é o prazo de entrega?", "Obrigada! ❤️"},
	"hi": {"नमस्ते, क्या यह उपलब्ध है?", "Is cash on delivery possible?", "धन्यवाद 🙏"},
	"fr": {"Bonjour, c'est encore disponible ?", "Merci beaucoup ! 😍", "Je voudrais échanger ma commande."},
	"pl": {"Dzień dobry, czy mogę zwrócić produkt?", "Dziękuję! 😀"},
	"es": {"¿Tienen esto en azul?", "¡Gracias! 🎉", "¿Cuándo llega mi pedido?"},
	"ja": {"こんにちは、在庫はありますか？", "ありがとうございます 🙇"},
}

// phrase picks something the customer would write.
func phrase(c Customer, rng *rand.Rand) string {
	list := phrases[c.Language]
	if len(list) == 0 {
		list = phrases["en"]
	}
	return list[rng.IntN(len(list))]
}

// callingCodes maps calling codes to countries, enough to place the population and common markets.
var callingCodes = map[string]string{
	"1": "US", "7": "RU", "20": "EG", "27": "ZA", "30": "GR", "31": "NL", "32": "BE", "33": "FR", "34": "ES",
	"36": "HU", "39": "IT", "40": "RO", "41": "CH", "43": "AT", "44": "GB", "45": "DK", "46": "SE", "47": "NO",
	"48": "PL", "49": "DE", "51": "PE", "52": "MX", "54": "AR", "55": "BR", "56": "CL", "57": "CO", "60": "MY",
	"61": "AU", "62": "ID", "63": "PH", "64": "NZ", "65": "SG", "66": "TH", "81": "JP", "82": "KR", "84": "VN",
	"86": "CN", "90": "TR", "91": "IN", "92": "PK", "234": "NG", "254": "KE", "351": "PT", "353": "IE",
	"880": "BD", "966": "SA", "971": "AE", "972": "IL",
}

// canadianAreaCodes separate Canada from the US inside +1 (the US marketing pause is US only).
var canadianAreaCodes = map[string]bool{
	"204": true, "226": true, "236": true, "249": true, "250": true, "289": true, "306": true, "343": true,
	"365": true, "403": true, "416": true, "418": true, "431": true, "437": true, "438": true, "450": true,
	"506": true, "514": true, "519": true, "548": true, "579": true, "581": true, "587": true, "604": true,
	"613": true, "639": true, "647": true, "672": true, "705": true, "709": true, "742": true, "778": true,
	"780": true, "782": true, "807": true, "819": true, "825": true, "867": true, "873": true, "902": true,
	"905": true,
}

// countryOfPhone is the country of E.164 digits by calling code, "" when unknown.
// Assumption: every +1 number outside Canada's area codes counts as US (the Caribbean is rare here).
func countryOfPhone(digits string) string {
	if strings.HasPrefix(digits, "1") && len(digits) >= 4 {
		if canadianAreaCodes[digits[1:4]] {
			return "CA"
		}
		return "US"
	}
	for n := 3; n >= 1; n-- {
		if len(digits) > n {
			if c, ok := callingCodes[digits[:n]]; ok {
				return c
			}
		}
	}
	return ""
}

// phoneDigits strips "+", spaces, dashes and brackets.
func phoneDigits(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// validPhone accepts what the Cloud API accepts in "to": an international number, punctuated or not.
func validPhone(s string) bool {
	for _, r := range s {
		if !strings.ContainsRune("+0123456789 -().", r) {
			return false
		}
	}
	d := phoneDigits(s)
	return len(d) >= 8 && len(d) <= 15
}

// isBSUID recognises business-scoped user ids: two letters, a dot, alphanumerics.
func isBSUID(s string) bool {
	if len(s) < 4 || s[2] != '.' {
		return false
	}
	for i, r := range s {
		switch {
		case i < 2 && r >= 'A' && r <= 'Z':
		case i == 2:
		case i > 2 && (r >= '0' && r <= '9' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z'):
		default:
			return false
		}
	}
	return true
}
