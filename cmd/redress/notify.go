package main

import (
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"redress/config"
	"redress/notify"
	"redress/store"
)

// buildNotifier assembles the worker's notifications dispatcher: staff messages go to the local
// inbox; evaluators' SMS to the SMS gateway's webhook when one is configured, else (redress
// dev, or a deployment without a gateway yet) to the local inbox as well, masked, so they show
// in the UI.
//
// dev (redress dev) keeps the tracking links in the local copies of evaluators' SMS, so that the
// citizen's pages can be reached from the administrator's notification centre.
func buildNotifier(cfg config.Config, db *store.DB, dev bool) (*notify.Dispatcher, error) {
	box, err := openBox(cfg)
	if err != nil {
		return nil, fmt.Errorf("notifications: %w", err)
	}
	local := &notify.Local{DB: db, KeepLinks: dev}
	senders := map[string]notify.Sender{notify.ChannelInbox: local}
	var held []string
	switch {
	case cfg.SMSWebhookURL != "":
		senders[notify.ChannelSMS] = &notify.Webhook{URL: cfg.SMSWebhookURL, Secret: cfg.SMSWebhookSecret, Client: &http.Client{Timeout: 10 * time.Second}}
	case dev:
		senders[notify.ChannelSMS] = local
		slog.Info("no SMS gateway configured (REDRESS_SMS_WEBHOOK_URL): evaluators' SMS are kept in the local inbox")
	default:
		// Production without a gateway: nobody reads the local inbox, so an SMS kept there is
		// not sent. It stays queued until REDRESS_SMS_WEBHOOK_URL is set (readiness and the
		// administrators' banner say how many wait).
		held = append(held, notify.ChannelSMS)
		slog.Warn("no SMS gateway configured (REDRESS_SMS_WEBHOOK_URL): evaluators' SMS stay queued, unsent")
	}
	return &notify.Dispatcher{
		DB: db, Box: box, PublicURL: cfg.PublicURL, Held: held,
		Senders:     senders,
		MaxAttempts: cfg.NotifyMaxAttempts, Poll: cfg.NotifyPoll,
	}, nil
}
