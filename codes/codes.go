// Package codes translates the code tables of the outside world to and from the canonical
// names Redress stores (models.Levels, models.Channels). Levels are stored by name everywhere;
// numbers exist only at the edges, and two tables disagree on their direction:
//
//   - the national standard GB/T 39046-2020 numbers levels best first:
//     1 非常满意 very_satisfied … 5 非常不满意 very_dissatisfied;
//   - the common provincial interfaces number them worst first:
//     1 非常不满意 very_dissatisfied … 5 非常满意 very_satisfied.
//
// Mixing the two turns every very satisfied rating into a very dissatisfied one, so each
// direction has its own named function and no function guesses which table a number is from.
//
// Provincial channel codes: 1 PC, 2 mobile, 3 QR code, 4 hall tablet (window rating device),
// 5 other terminal (self-service terminal), 6 SMS or phone, 7 system default. Code 6 covers
// two canonical channels (hotline and sms): both map to 6, and 6 maps back to hotline, the
// channel of a 12345 call or text (the loss is inherent in the provincial table).
package codes

import (
	"fmt"

	"redress/models"
)

// gbLevels is GB/T 39046-2020: index+1 is the code.
var gbLevels = []string{
	models.VerySatisfied, models.Satisfied, models.BasicallySatisfied,
	models.Dissatisfied, models.VeryDissatisfied,
}

// provincialLevels is the common provincial interface table: index+1 is the code.
var provincialLevels = []string{
	models.VeryDissatisfied, models.Dissatisfied, models.BasicallySatisfied,
	models.Satisfied, models.VerySatisfied,
}

// provincialChannels maps a provincial channel code to the canonical channel it is read as.
var provincialChannels = map[int]string{
	1: "pc",
	2: "mobile",
	3: "qr_code",
	4: "window_device",
	5: "terminal",
	6: "hotline",
	7: models.ChannelDefault,
}

// channelToProvincial is the other direction; sms shares code 6 with hotline.
var channelToProvincial = map[string]int{
	"pc":                  1,
	"mobile":              2,
	"qr_code":             3,
	"window_device":       4,
	"terminal":            5,
	"hotline":             6,
	"sms":                 6,
	models.ChannelDefault: 7,
}

func levelToCode(table []string, name, what string) (int, error) {
	for i, l := range table {
		if l == name {
			return i + 1, nil
		}
	}
	return 0, fmt.Errorf("codes: %q is not a level (want one of %v) for the %s table", name, models.Levels, what)
}

func levelFromCode(table []string, code int, what string) (string, error) {
	if code < 1 || code > len(table) {
		return "", fmt.Errorf("codes: %d is not a %s level code (1–%d)", code, what, len(table))
	}
	return table[code-1], nil
}

// LevelToGB returns the GB/T 39046 code of a canonical level (very_satisfied → 1).
func LevelToGB(level string) (int, error) { return levelToCode(gbLevels, level, "GB/T 39046") }

// LevelFromGB returns the canonical level of a GB/T 39046 code (1 → very_satisfied).
func LevelFromGB(code int) (string, error) { return levelFromCode(gbLevels, code, "GB/T 39046") }

// LevelToProvincial returns the provincial interface code of a canonical level
// (very_satisfied → 5).
func LevelToProvincial(level string) (int, error) {
	return levelToCode(provincialLevels, level, "provincial")
}

// LevelFromProvincial returns the canonical level of a provincial interface code
// (1 → very_dissatisfied).
func LevelFromProvincial(code int) (string, error) {
	return levelFromCode(provincialLevels, code, "provincial")
}

// ChannelToProvincial returns the provincial channel code of a canonical channel, including
// the system's own "default" (7).
func ChannelToProvincial(channel string) (int, error) {
	c, ok := channelToProvincial[channel]
	if !ok {
		return 0, fmt.Errorf("codes: %q is not a channel", channel)
	}
	return c, nil
}

// ChannelFromProvincial returns the canonical channel of a provincial channel code (1–7);
// 6 (SMS or phone) reads as hotline and 7 as default.
func ChannelFromProvincial(code int) (string, error) {
	c, ok := provincialChannels[code]
	if !ok {
		return "", fmt.Errorf("codes: %d is not a provincial channel code (1–7)", code)
	}
	return c, nil
}
