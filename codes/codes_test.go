package codes

import (
	"testing"

	"redress/models"
)

func TestLevelTables(t *testing.T) {
	tests := []struct {
		level      string
		gb, provin int
	}{
		{models.VerySatisfied, 1, 5},
		{models.Satisfied, 2, 4},
		{models.BasicallySatisfied, 3, 3},
		{models.Dissatisfied, 4, 2},
		{models.VeryDissatisfied, 5, 1},
	}
	for _, tt := range tests {
		t.Run(tt.level, func(t *testing.T) {
			if got, err := LevelToGB(tt.level); err != nil || got != tt.gb {
				t.Errorf("LevelToGB(%s) = %d, %v; want %d", tt.level, got, err, tt.gb)
			}
			if got, err := LevelFromGB(tt.gb); err != nil || got != tt.level {
				t.Errorf("LevelFromGB(%d) = %s, %v; want %s", tt.gb, got, err, tt.level)
			}
			if got, err := LevelToProvincial(tt.level); err != nil || got != tt.provin {
				t.Errorf("LevelToProvincial(%s) = %d, %v; want %d", tt.level, got, err, tt.provin)
			}
			if got, err := LevelFromProvincial(tt.provin); err != nil || got != tt.level {
				t.Errorf("LevelFromProvincial(%d) = %s, %v; want %s", tt.provin, got, err, tt.level)
			}
		})
	}
	// Every canonical level is covered, so a new level cannot slip past the tables.
	if len(tests) != len(models.Levels) {
		t.Fatalf("table covers %d levels, models has %d", len(tests), len(models.Levels))
	}
}

func TestLevelRoundTrip(t *testing.T) {
	for _, l := range models.Levels {
		g, _ := LevelToGB(l)
		p, _ := LevelToProvincial(l)
		if g+p != 6 {
			t.Errorf("%s: GB %d and provincial %d are not mirror images", l, g, p)
		}
		if back, err := LevelFromGB(g); err != nil || back != l {
			t.Errorf("GB round trip of %s = %s, %v", l, back, err)
		}
		if back, err := LevelFromProvincial(p); err != nil || back != l {
			t.Errorf("provincial round trip of %s = %s, %v", l, back, err)
		}
	}
}

func TestLevelErrors(t *testing.T) {
	for _, code := range []int{-1, 0, 6, 99} {
		if _, err := LevelFromGB(code); err == nil {
			t.Errorf("LevelFromGB(%d) accepted", code)
		}
		if _, err := LevelFromProvincial(code); err == nil {
			t.Errorf("LevelFromProvincial(%d) accepted", code)
		}
	}
	for _, name := range []string{"", "good", "VERY_SATISFIED", "非常满意"} {
		if _, err := LevelToGB(name); err == nil {
			t.Errorf("LevelToGB(%q) accepted", name)
		}
		if _, err := LevelToProvincial(name); err == nil {
			t.Errorf("LevelToProvincial(%q) accepted", name)
		}
	}
}

func TestChannels(t *testing.T) {
	tests := []struct {
		channel string
		code    int
		back    string // what the code reads back as
	}{
		{"pc", 1, "pc"},
		{"mobile", 2, "mobile"},
		{"qr_code", 3, "qr_code"},
		{"window_device", 4, "window_device"},
		{"terminal", 5, "terminal"},
		{"hotline", 6, "hotline"},
		{"sms", 6, "hotline"},
		{models.ChannelDefault, 7, models.ChannelDefault},
	}
	for _, tt := range tests {
		t.Run(tt.channel, func(t *testing.T) {
			got, err := ChannelToProvincial(tt.channel)
			if err != nil || got != tt.code {
				t.Fatalf("ChannelToProvincial(%s) = %d, %v; want %d", tt.channel, got, err, tt.code)
			}
			back, err := ChannelFromProvincial(got)
			if err != nil || back != tt.back {
				t.Fatalf("ChannelFromProvincial(%d) = %s, %v; want %s", got, back, err, tt.back)
			}
		})
	}
	// Every channel a client may send, and default, has a code.
	for _, c := range append(append([]string{}, models.Channels...), models.ChannelDefault) {
		if _, err := ChannelToProvincial(c); err != nil {
			t.Errorf("channel %s has no provincial code: %v", c, err)
		}
	}
	for code := 1; code <= 7; code++ {
		c, err := ChannelFromProvincial(code)
		if err != nil {
			t.Errorf("code %d: %v", code, err)
			continue
		}
		if c != models.ChannelDefault && !models.IsChannel(c) {
			t.Errorf("code %d reads as %q, not a channel", code, c)
		}
	}
	for _, code := range []int{0, 8, -3} {
		if _, err := ChannelFromProvincial(code); err == nil {
			t.Errorf("ChannelFromProvincial(%d) accepted", code)
		}
	}
	if _, err := ChannelToProvincial("fax"); err == nil {
		t.Error(`ChannelToProvincial("fax") accepted`)
	}
}
