package pricing

import "time"

// InWindowBilledFrom is when Meta started billing service (free-form)
// replies and utility templates inside the customer service window; both
// were free before (meta-platform.md §3.3 as of Sep 2026, §6.3 from
// 2026-10-01 ⚠). The free entry point stays free.
var InWindowBilledFrom = time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)

// Free reports whether Meta does not charge a WhatsApp message sent at at,
// and why (the pricing.type Meta then reports): everything inside a free
// entry point (72 h after a Click-to-WhatsApp ad or Page CTA); before
// InWindowBilledFrom also a free-form reply inside the window and a utility
// template inside an open window. Category "" or "service" is free-form.
func Free(category string, windowOpen, freeEntryPoint bool, at time.Time) (bool, string) {
	switch {
	case freeEntryPoint:
		return true, "free_entry_point"
	case !at.Before(InWindowBilledFrom):
		return false, ""
	case (category == "" || category == "service") && windowOpen:
		return true, "free_customer_service"
	case category == "utility" && windowOpen:
		return true, "free_customer_service"
	}
	return false, ""
}
