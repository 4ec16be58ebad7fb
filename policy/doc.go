// Package policy decides whether Switchboard may send a message to a customer now, and how, under Meta's
// rules for that app on that date. It is pure: Decide(facts, now) reads only its arguments, does no I/O,
// imports none of our packages and does not allocate on the hot path. Meta's rules live as rows with
// effective dates in a RuleSet (DefaultRules); a rule change is a new row, not new code.
//
// Sections. The "§" marks in this package's comments name Meta's pages:
//
//   - §1.1 Messenger's standard window and private replies: https://developers.facebook.com/documentation/business-messaging/messenger-platform/send-messages
//     and https://developers.facebook.com/documentation/business-messaging/messenger-platform/policy/
//   - §1.2 messaging_type and message tags: https://developers.facebook.com/documentation/business-messaging/messenger-platform/reference/send-api
//   - §1.3 one-time notifications: https://developers.facebook.com/docs/messenger-platform/send-messages/one-time-notification/
//   - §1.4 utility messages: https://developers.facebook.com/documentation/business-messaging/messenger-platform/send-messages/utility-messages
//   - §1.5 Messenger's error codes: https://developers.facebook.com/docs/messenger-platform/error-codes
//   - §2 Instagram messaging: https://developers.facebook.com/docs/instagram-platform/instagram-api-with-instagram-login/messaging-api
//   - §3.2 WhatsApp's customer service window, templates, marketing opt-out and the paused US marketing:
//     https://developers.facebook.com/docs/whatsapp/cloud-api/guides/send-messages and https://developers.facebook.com/docs/whatsapp/business-management-api/message-templates
//   - §3.3 WhatsApp pricing and free entry points: https://developers.facebook.com/docs/whatsapp/pricing
//   - §3.4 WhatsApp throughput and messaging limits: https://developers.facebook.com/documentation/business-messaging/whatsapp/throughput and https://developers.facebook.com/documentation/business-messaging/whatsapp/messaging-limits
//   - §3.5 WhatsApp's error codes: https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes
//   - §6.1 a back-in-stock alert is a marketing template (Meta's template categorisation guidelines):
//     https://developers.facebook.com/docs/whatsapp/updates-to-pricing/new-template-guidelines
//
// The rules:
//
//   - Messenger and Instagram (§1.1, §2): a 24-hour standard window from the customer's last message,
//     postback, quick reply, reaction, opt-in, or referral followed by a message. Inside it anything may
//     be sent: RESPONSE when answering the customer, UPDATE when the business starts (Send.Proactive,
//     relays, polls, broadcasts, OTN messages). A comment opens only its one private reply, for 7 days
//     (§1.1 Private Replies). Deliveries, reads, echoes and link clicks open nothing and are not facts.
//   - Outside the window (§1.2): MESSAGE_TAG with HUMAN_AGENT, only for a person's reply, only with the
//     channel's Human Agent permission, until 7 days after the customer's last message (EventMessage or
//     EventQuickReply, which Meta delivers as a message; a reaction or postback keeps the 24h window open
//     but does not extend the 7 days). Never on automated sends, never inside the window, never promotional.
//     Instagram has no other tag.
//   - CONFIRMED_EVENT_UPDATE, POST_PURCHASE_UPDATE, ACCOUNT_UPDATE (§1.2): Messenger only, from
//     2020-03-04 until 2026-04-27T00:00:00Z, then tag_retired. Never promotional (no upselling). Inside
//     the window a requested tag is dropped: a tag is never spent where none is needed.
//   - One-time notifications (§1.3), Messenger only: the request only inside the window; each token pays
//     for one message for 365 days after its creation. The Decision names the oldest valid token.
//   - Utility templates (§1.4): Messenger only, messaging_type UTILITY, for channels granted
//     pages_utility_messaging; otherwise channel_unauthorised.
//   - NON_PROMOTIONAL_SUBSCRIPTION (§1.2): news Pages only, else not_news_page.
//   - WhatsApp (§3.2): a 24-hour customer service window from the customer's last message or call; outside
//     it only templates (template_required). Marketing templates are refused to customers who opted out
//     (marketing_opted_out) and to US customers since 2025-04-01 (marketing_paused_region).
//   - WhatsApp pricing (§3.3): a Click-to-WhatsApp referral opens a 72-hour free entry point, reported as
//     Decision.FreeEntryPointUntil; it changes the price, not what may be sent.
//   - Everyone: nothing to a customer who blocked or reported the business (blocked); nothing through a
//     channel that needs re-authorisation or is disabled (channel_unauthorised); nothing flagged
//     Promotional to a customer who opted out of marketing, on any app (our rule, not only Meta's).
//
// Every window is half-open: open on [event, event+duration), so at exactly 24h it is closed; the same
// holds for the 7 days of HUMAN_AGENT, a token's 365 days, a tag's retirement instant and a pause's start.
// Timestamps are Meta's event timestamps, never the webhook's arrival time.
package policy
