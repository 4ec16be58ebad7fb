package pricing

import _ "embed"

// SampleRateCard is a rate card in Meta's CSV layout with invented USD prices
// for every known market: the demo imports it (labelled as a sample) and
// tests read it. It is not Meta's price list.
//
//go:embed sample_ratecard.csv
var SampleRateCard []byte
