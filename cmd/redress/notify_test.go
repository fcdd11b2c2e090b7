package main

import (
	"slices"
	"testing"

	"redress/config"
	"redress/notify"
	"redress/pii"
)

// TestWorkerWithoutSMSGateway (issue 17, finding 8): without REDRESS_SMS_WEBHOOK_URL a
// production worker holds evaluators' SMS queued instead of "sending" them to the local
// inbox; redress dev keeps its local inbox.
func TestWorkerWithoutSMSGateway(t *testing.T) {
	spec, hash := pii.NewKeySpec("k1")
	cfg := config.Config{PIIKeys: spec, PIIHashKey: hash}
	prod, err := buildNotifier(cfg, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := prod.Senders[notify.ChannelSMS]; ok || !slices.Contains(prod.Held, notify.ChannelSMS) {
		t.Errorf("production worker: senders %v, held %v", prod.Senders, prod.Held)
	}
	dev, err := buildNotifier(cfg, nil, true)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := dev.Senders[notify.ChannelSMS].(*notify.Local); !ok || len(dev.Held) != 0 {
		t.Errorf("dev: senders %v, held %v", dev.Senders, dev.Held)
	}
	cfg.SMSWebhookURL = "https://sms.example/hook"
	gw, err := buildNotifier(cfg, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := gw.Senders[notify.ChannelSMS].(*notify.Webhook); !ok || len(gw.Held) != 0 {
		t.Errorf("gateway: senders %v, held %v", gw.Senders, gw.Held)
	}
}
